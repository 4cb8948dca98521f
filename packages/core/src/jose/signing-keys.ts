/**
 * The authorization server's own signing keys, for RFC 9068 JWT access tokens and signed identity
 * assertions, published as a JWK Set (RFC 7517 §5) at `jwks_uri` (RFC 8414 §2).
 *
 * Keys are ES256 (default) or EdDSA (RFC 7518 §3.4, RFC 8037 §3.1), generated with WebCrypto, and kept in
 * one sealed document in a {@link KeyStore}. Each key has a signing period; rotation overlaps:
 *
 * - the next key is published `publishAheadSeconds` before it starts signing, so verifiers that cache
 *   the JWK Set already know it (OIDC Core §10.1.1);
 * - a retired key stays published until the last token it may have signed has expired
 *   (`maxTokenLifetimeSeconds` after its period, plus the instance cache and skew);
 * - each key's `kid` is its RFC 7638 thumbprint.
 *
 * Several instances share the document: the instance that finds a change due claims the next revision
 * through {@link KeyStore.claimOnce} (an atomic storage operation), re-reads, and writes; the others wait
 * for that revision. The only key that signs at once is the very first one (nothing was published yet).
 *
 * @module
 */
import { calculateJwkThumbprint, importJWK, type JSONWebKeySet, type JWK } from 'jose';
import { JoseError, type KeyStore, type Sealer } from './types.js';

/** The algorithms Portcullis signs with. */
export type SigningAlgorithm = 'ES256' | 'EdDSA';

/** Options of {@link createSigningKeys}. */
export interface SigningKeysOptions {
  /** Where the sealed key set is kept. */
  readonly store: KeyStore;
  /** Seals the key set (the core's `KeyRing`). */
  readonly sealer: Sealer;
  /** Algorithm of new keys; default `ES256`. Changing it rotates to a key of the new algorithm. */
  readonly algorithm?: SigningAlgorithm;
  /** Longest lifetime of a token signed with these keys, seconds; default 86400. */
  readonly maxTokenLifetimeSeconds?: number;
  /** How long a key signs, seconds; default 30 days. */
  readonly rotateAfterSeconds?: number;
  /** How long a key is published before it signs, seconds; default 1 day. */
  readonly publishAheadSeconds?: number;
  /** How long an instance trusts its copy of the key set, seconds; default 300, at most a quarter of `publishAheadSeconds`. */
  readonly cacheSeconds?: number;
  /** How long an instance may take to write a revision it claimed, seconds; default 30. */
  readonly leaseSeconds?: number;
  /** Clock in epoch ms; default `Date.now`. */
  readonly now?: () => number;
}

/** The key that signs now. */
export interface SigningKey {
  /** The key id, sent as the JWS `kid` header (RFC 7515 §4.1.4). */
  readonly kid: string;
  /** The JWS algorithm. */
  readonly alg: SigningAlgorithm;
  /** The private key (non-extractable). */
  readonly privateKey: CryptoKey;
}

/** The signing keys of one instance. */
export interface SigningKeys {
  /** The key to sign with now. */
  current(): Promise<SigningKey>;
  /** The public JWK Set to publish: keys that sign, will sign, or signed tokens that may still be live. */
  jwks(): Promise<JSONWebKeySet>;
  /** Re-reads the key set and rotates when due (for a scheduled job; `current` and `jwks` do it too). */
  refresh(): Promise<void>;
  /**
   * Rotates ahead of schedule (e.g. after a key may have leaked): a successor is published now and signs
   * after the publish-ahead time, so verifiers that cache the JWK Set see it before it signs; the old
   * key is kept while what it signed may live. Does nothing when a successor is already published.
   */
  rotate(): Promise<void>;
  /** The longest token lifetime these keys may sign for, seconds. */
  readonly maxTokenLifetimeSeconds: number;
  /** A `Cache-Control: max-age` for the JWK Set response that keeps the publish-ahead guarantee, seconds. */
  readonly jwksMaxAgeSeconds: number;
}

/** One key of the sealed document. Times are epoch ms. */
interface StoredKey {
  readonly kid: string;
  readonly alg: SigningAlgorithm;
  readonly privateJwk: JWK;
  readonly publicJwk: JWK;
  readonly signsFrom: number;
  signsUntil: number;
}

/** The sealed document. */
interface KeySetDocument {
  readonly v: 1;
  readonly revision: number;
  readonly keys: StoredKey[];
}

const AAD = 'portcullis/jose/signing-keys/v1';
const SKEW_MS = 60_000;
const DAY = 86_400;

const GENERATE: Record<SigningAlgorithm, EcKeyGenParams | Algorithm> = {
  ES256: { name: 'ECDSA', namedCurve: 'P-256' },
  EdDSA: { name: 'Ed25519' },
};

/** Generates a key pair with WebCrypto and describes it. */
async function generateKey(alg: SigningAlgorithm, signsFrom: number, signsUntil: number): Promise<StoredKey> {
  const pair = (await crypto.subtle.generateKey(GENERATE[alg], true, ['sign', 'verify'])) as CryptoKeyPair;
  const { kty, crv, x, y, d } = (await crypto.subtle.exportKey('jwk', pair.privateKey)) as JWK;
  const publicParts: JWK = { kty, crv, x, ...(y ? { y } : {}) };
  // RFC 7638: the thumbprint is a stable, collision-free kid.
  const kid = await calculateJwkThumbprint(publicParts, 'sha256');
  return {
    kid,
    alg,
    privateJwk: { ...publicParts, d },
    publicJwk: { ...publicParts, kid, alg, use: 'sig' },
    signsFrom,
    signsUntil,
  };
}

/** Creates the signing keys of one instance over a shared {@link KeyStore}. */
export function createSigningKeys(options: SigningKeysOptions): SigningKeys {
  const now = options.now ?? Date.now;
  const algorithm = options.algorithm ?? 'ES256';
  const maxTokenLifetimeSeconds = options.maxTokenLifetimeSeconds ?? DAY;
  const rotateMs = (options.rotateAfterSeconds ?? 30 * DAY) * 1000;
  const publishAheadSeconds = options.publishAheadSeconds ?? DAY;
  const publishAheadMs = publishAheadSeconds * 1000;
  const cacheSeconds = options.cacheSeconds ?? Math.min(300, Math.floor(publishAheadSeconds / 4));
  const cacheMs = cacheSeconds * 1000;
  const leaseMs = (options.leaseSeconds ?? 30) * 1000;
  if (cacheSeconds > publishAheadSeconds / 4 || rotateMs <= publishAheadMs)
    throw new TypeError(
      'signing keys: cacheSeconds must be at most publishAheadSeconds / 4, and rotateAfterSeconds longer than publishAheadSeconds',
    );
  // A retired key is kept while a token it signed may live, counting a stale instance cache.
  const retainMs = maxTokenLifetimeSeconds * 1000 + cacheMs + SKEW_MS;
  const jwksMaxAgeSeconds = Math.min(600, Math.floor(publishAheadSeconds / 4));

  let cached: { doc: KeySetDocument; validUntil: number } | undefined;
  /** Documents opened with a previous secret: the next revision re-seals them with the current one. */
  const resealDue = new WeakSet<KeySetDocument>();
  let loading: Promise<KeySetDocument> | undefined;
  const privateKeys = new Map<string, Promise<CryptoKey>>();

  async function read(): Promise<KeySetDocument | null> {
    const sealed = await options.store.load();
    if (sealed === null) return null;
    const json = await options.sealer.open(sealed, AAD);
    if (json === null)
      throw new JoseError(
        'server_error',
        'The signing key set cannot be opened with the configured secrets.',
      );
    const doc = JSON.parse(json) as KeySetDocument;
    if (options.sealer.sealedWithCurrent && !(await options.sealer.sealedWithCurrent(sealed)))
      resealDue.add(doc);
    return doc;
  }

  const newest = (keys: readonly StoredKey[]) =>
    keys.reduce<StoredKey | undefined>((a, k) => (!a || k.signsFrom > a.signsFrom ? k : a), undefined);
  /** The keys to keep: the newest always (it signs until a successor does), the others while their tokens live. */
  const live = (doc: KeySetDocument | null, at: number) => {
    const latest = newest(doc?.keys ?? []);
    return (doc?.keys ?? []).filter((key) => key === latest || key.signsUntil + retainMs > at);
  };
  /** Whether a successor must be published; `early` asks for one now unless one is already waiting to sign. */
  const successorDue = (latest: StoredKey, at: number, early = false) =>
    latest.alg !== algorithm || latest.signsUntil - publishAheadMs <= at || (early && latest.signsFrom <= at);

  /**
   * Whether the document must change at `at`: no key, a successor due, an expired key to drop, or a
   * document still sealed with a previous secret (so that secret can be retired).
   */
  function due(doc: KeySetDocument | null, at: number, early = false): boolean {
    const keys = live(doc, at);
    const latest = newest(keys);
    return (
      !latest ||
      keys.length !== doc?.keys.length ||
      successorDue(latest, at, early) ||
      (doc !== null && resealDue.has(doc))
    );
  }

  /** The next revision of the document at `at` (call only when {@link due}). */
  async function plan(doc: KeySetDocument | null, at: number, early = false): Promise<KeySetDocument> {
    const keys = live(doc, at).map((key) => ({ ...key }));
    const latest = newest(keys);
    if (!latest) {
      // Nothing published yet: the first key signs at once.
      keys.push(await generateKey(algorithm, at, at + rotateMs));
    } else if (successorDue(latest, at, early)) {
      // The successor is published ahead; if rotation is overdue, the latest key signs until then.
      const start =
        latest.alg !== algorithm || early
          ? at + publishAheadMs
          : Math.max(latest.signsUntil, at + publishAheadMs);
      latest.signsUntil = start;
      keys.push(await generateKey(algorithm, start, start + rotateMs));
    }
    return { v: 1, revision: (doc?.revision ?? 0) + 1, keys };
  }

  /** Polls for `revision` for at most a lease of real time (the injected clock may stand still). */
  async function waitFor(revision: number): Promise<KeySetDocument | null> {
    for (let waited = 0, delay = 25; waited < leaseMs; waited += delay, delay = Math.min(delay * 2, 1000)) {
      await new Promise((resolve) => setTimeout(resolve, delay));
      const doc = await read();
      if (doc && doc.revision >= revision) return doc;
    }
    return null;
  }

  /** Reads the document and, when a change is due, writes the next revision or waits for the writer. */
  async function sync(early = false): Promise<KeySetDocument> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const at = now();
      const doc = await read();
      if (doc && !due(doc, at, early)) return doc;
      const revision = (doc?.revision ?? 0) + 1;
      const leaseUntil = at + leaseMs;
      if (await options.store.claimOnce(`rev:${revision}`, leaseUntil)) {
        // Re-read after claiming: a revision written since our read makes our plan stale.
        const again = await read();
        if ((again?.revision ?? 0) !== (doc?.revision ?? 0)) continue;
        const next = await plan(doc, at, early);
        // A writer that overran its lease may race a new claimant: it backs off.
        if (now() >= leaseUntil) continue;
        await options.store.save(await options.sealer.seal(JSON.stringify(next), AAD));
        return next;
      }
      const written = await waitFor(revision);
      if (written && !due(written, now(), early)) return written;
      if (written) continue;
      // The claimant did not finish in its lease: a document with a signing key is still usable.
      if (doc?.keys.some((key) => key.signsFrom <= now())) return doc;
    }
    throw new JoseError('temporarily_unavailable', 'The signing keys are being created; try again.');
  }

  /** When the cached document must be re-read: a key starts signing, a successor is due, or one expires. */
  function nextEvent(doc: KeySetDocument, at: number): number {
    const times = doc.keys.flatMap((key) => [
      key.signsFrom,
      key.signsUntil - publishAheadMs,
      key.signsUntil + retainMs,
    ]);
    return Math.min(at + cacheMs, ...times.filter((t) => t > at));
  }

  async function state(force = false, early = false): Promise<KeySetDocument> {
    const at = now();
    if (!force && cached && cached.validUntil > at) return cached.doc;
    if (early) await loading?.catch(() => undefined);
    loading ??= sync(early)
      .then((doc) => {
        cached = { doc, validUntil: nextEvent(doc, now()) };
        return doc;
      })
      .finally(() => {
        loading = undefined;
      });
    return loading;
  }

  function privateKey(key: StoredKey): Promise<CryptoKey> {
    let imported = privateKeys.get(key.kid);
    if (!imported) {
      imported = importJWK({ ...key.privateJwk, ext: false }, key.alg) as Promise<CryptoKey>;
      privateKeys.set(key.kid, imported);
    }
    return imported;
  }

  return {
    maxTokenLifetimeSeconds,
    jwksMaxAgeSeconds,
    async current() {
      const doc = await state();
      const at = now();
      const key = newest(doc.keys.filter((k) => k.signsFrom <= at));
      if (!key) throw new JoseError('temporarily_unavailable', 'No signing key is active yet; try again.');
      return { kid: key.kid, alg: key.alg, privateKey: await privateKey(key) };
    },
    async jwks() {
      const doc = await state();
      return { keys: doc.keys.map((key) => ({ ...key.publicJwk })) };
    },
    async refresh() {
      await state(true);
    },
    async rotate() {
      await state(true, true);
    },
  };
}
