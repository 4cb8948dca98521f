import { base64url, fromBase64url, utf8 } from './encoding.js';
import { sha256 } from './hash.js';

interface DerivedKey {
  readonly id: string;
  readonly aes: CryptoKey;
  readonly hmac: CryptoKey;
}

/**
 * Keys derived from the server secret(s) with HKDF-SHA-256: AES-256-GCM for sealing grant props and
 * upstream state, HMAC-SHA-256 for CSRF tokens. The first secret seals; all of them open, so secrets
 * can be rotated by prepending a new one.
 */
export class KeyRing {
  readonly #keys: Promise<DerivedKey[]>;

  constructor(secrets: readonly string[]) {
    this.#keys = Promise.all(secrets.map(derive));
  }

  /** The ids of the derived keys, current first: the `<keyId>` of what each one sealed. */
  async ids(): Promise<string[]> {
    return (await this.#keys).map((key) => key.id);
  }

  /** The id of the key that sealed a value, or `null` when it is not a sealed value. */
  static sealedBy(sealed: string): string | null {
    const [version, id] = sealed.split('.');
    return version === 'v1' && id ? id : null;
  }

  /** Whether `sealed` was sealed with the current (first) key rather than a previous one. */
  async sealedWithCurrent(sealed: string): Promise<boolean> {
    const [current] = await this.#keys;
    return current !== undefined && KeyRing.sealedBy(sealed) === current.id;
  }

  /** Encrypts a string: `v1.<keyId>.<iv>.<ciphertext>` (AES-256-GCM, `aad` bound). */
  async seal(plaintext: string, aad: string): Promise<string> {
    const [key] = await this.#keys;
    if (!key) throw new Error('no key');
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const ct = await crypto.subtle.encrypt(
      { name: 'AES-GCM', iv, additionalData: utf8(aad) },
      key.aes,
      utf8(plaintext),
    );
    return `v1.${key.id}.${base64url(iv)}.${base64url(new Uint8Array(ct))}`;
  }

  /** Decrypts what {@link seal} produced with any known key; `null` when it cannot be opened. */
  async open(sealed: string, aad: string): Promise<string | null> {
    const [version, id, iv, ct] = sealed.split('.');
    if (version !== 'v1' || !id || !iv || !ct) return null;
    const key = (await this.#keys).find((k) => k.id === id);
    if (!key) return null;
    try {
      const pt = await crypto.subtle.decrypt(
        { name: 'AES-GCM', iv: fromBase64url(iv), additionalData: utf8(aad) },
        key.aes,
        fromBase64url(ct),
      );
      return new TextDecoder().decode(pt);
    } catch {
      return null;
    }
  }

  /** HMAC-SHA-256 of `data` with the current key, base64url. */
  async mac(data: string): Promise<string> {
    const [key] = await this.#keys;
    if (!key) throw new Error('no key');
    return base64url(new Uint8Array(await crypto.subtle.sign('HMAC', key.hmac, utf8(data))));
  }

  /** Verifies a MAC made by any known key, in constant time (WebCrypto `verify`). */
  async verifyMac(data: string, mac: string): Promise<boolean> {
    let signature: Uint8Array<ArrayBuffer>;
    try {
      signature = fromBase64url(mac);
    } catch {
      return false;
    }
    for (const key of await this.#keys) {
      if (await crypto.subtle.verify('HMAC', key.hmac, signature, utf8(data))) return true;
    }
    return false;
  }
}

async function derive(secret: string): Promise<DerivedKey> {
  const ikm = await crypto.subtle.importKey('raw', utf8(secret), 'HKDF', false, ['deriveKey']);
  const params = (info: string) => ({
    name: 'HKDF',
    hash: 'SHA-256',
    salt: utf8('portcullis/v1'),
    info: utf8(info),
  });
  const [aes, hmac, id] = await Promise.all([
    crypto.subtle.deriveKey(params('seal'), ikm, { name: 'AES-GCM', length: 256 }, false, [
      'encrypt',
      'decrypt',
    ]),
    crypto.subtle.deriveKey(params('mac'), ikm, { name: 'HMAC', hash: 'SHA-256', length: 256 }, false, [
      'sign',
      'verify',
    ]),
    sha256(`portcullis/key-id/${secret}`),
  ]);
  return { id: id.slice(0, 8), aes, hmac };
}
