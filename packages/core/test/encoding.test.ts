import { describe, expect, it } from 'vitest';
import { base64url, fromBase64url } from '../src/crypto/encoding.js';
import { sha256, sha256Now } from '../src/crypto/hash.js';
import { KeyRing } from '../src/crypto/keys.js';
import { EndpointSigner } from '../src/mcp/legacy-sse.js';

/** Flips the unused low bits of the last character: same bytes under a lax decoder. */
const alias = (encoded: string) => {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const last = alphabet.indexOf(encoded.at(-1)!);
  return encoded.slice(0, -1) + alphabet[last ^ 1];
};

describe('base64url (RFC 4648 §5)', () => {
  it('round-trips and refuses non-canonical encodings of the same bytes', () => {
    const bytes = new Uint8Array(32).map((_, i) => i * 7);
    const encoded = base64url(bytes);
    expect(encoded).toHaveLength(43);
    expect(fromBase64url(encoded)).toEqual(bytes);
    expect(() => fromBase64url(alias(encoded))).toThrow(/non-canonical/);
    expect(() => fromBase64url('A')).toThrow();
    expect(() => fromBase64url('a+b/')).toThrow();
  });

  it('a MAC is refused under every other spelling of its bytes', async () => {
    const keys = new KeyRing(['encoding-test-secret-encoding-test-0123']);
    const mac = await keys.mac('data');
    expect(await keys.verifyMac('data', mac)).toBe(true);
    expect(await keys.verifyMac('data', alias(mac))).toBe(false);
  });
});

describe('legacy SSE endpoint signatures', () => {
  it('verify the signed target for its owner only, and refuse tampered or malformed values without throwing', async () => {
    const signer = new EndpointSigner('sse-secret-sse-secret-sse-secret-0123');
    const query = await signer.sign('alice', '/messages?sessionId=1');
    const url = new URL(`https://proxy.example/mcp?${query}`);
    expect(await signer.verify(url, 'alice')).toBe('/messages?sessionId=1');
    expect(await signer.verify(url, 'bob')).toBe(false);
    const tampered = new URL(url);
    tampered.searchParams.set('portcullis_sig', alias(url.searchParams.get('portcullis_sig')!));
    expect(await signer.verify(tampered, 'alice')).toBe(false);
    const malformed = new URL(url);
    malformed.searchParams.set('portcullis_sig', 'A');
    expect(await signer.verify(malformed, 'alice')).toBe(false);
    // Only URLs naming a signed endpoint (even in part) are for verify to decide on.
    expect(EndpointSigner.names(new URL('https://proxy.example/mcp'))).toBe(false);
    expect(EndpointSigner.names(new URL('https://proxy.example/mcp?sessionId=1'))).toBe(false);
    expect(EndpointSigner.names(new URL('https://proxy.example/mcp?portcullis_sig=A'))).toBe(true);
    expect(EndpointSigner.names(url)).toBe(true);
    expect(await signer.verify(new URL('https://proxy.example/mcp?portcullis_sig=A'), 'alice')).toBe(false);
  });
});

describe('sha256 (the at-rest key of tokens)', () => {
  it('the synchronous digest equals WebCrypto SHA-256, for ASCII and non-ASCII text', async () => {
    for (const text of ['', 'abc', 'pcat_0123456789', 'ünïcødé ✓ 𝄞']) {
      const web = base64url(
        new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text))),
      );
      expect(sha256Now(text)).toBe(web);
      expect(await sha256(text)).toBe(web);
    }
    // FIPS 180-2 test vector for "abc".
    expect(sha256Now('abc')).toBe('ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0');
  });
});
