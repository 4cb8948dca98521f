/**
 * The authorization server's own signing keys (sealed in its storage, rotated with overlap) and the
 * route that publishes them as a JWK Set at `jwks_uri` (RFC 8414 §2, RFC 7517 §5).
 *
 * @module
 */
import type { Core } from '../context.js';
import { KeyRing } from '../crypto/keys.js';
import { jsonResponse, StorageUnavailableError } from '../errors.js';
import type { Extension } from '../extension.js';
import type { Route } from '../http/router.js';
import { createSigningKeys, type SigningAlgorithm, type SigningKeys } from '../jose/signing-keys.js';
import { storageKeyStore } from '../jose/storage-adapters.js';
import type { KeyStore } from '../jose/types.js';
import type { Storage } from '../storage/types.js';

/** How the signing keys rotate. */
export interface KeyRotationOptions {
  /** How long a key signs, seconds; default 30 days. */
  readonly rotateAfterSeconds?: number;
  /** How long the next key is published before it signs, seconds; default 1 day. */
  readonly publishAheadSeconds?: number;
  /** How long an instance trusts its copy of the key set, seconds; default 300 (at most a quarter of `publishAheadSeconds`). */
  readonly cacheSeconds?: number;
}

/** Options of {@link signingKeys}. */
export interface ServerSigningKeysOptions extends KeyRotationOptions {
  /** The storage the authorization server uses (the key set is one record in it). */
  readonly storage: Storage;
  /** The authorization server's secret(s): the first seals the key set, all open it. */
  readonly secret: string | readonly string[];
  /** Algorithm of new keys; default `ES256`. */
  readonly algorithm?: SigningAlgorithm;
  /** Longest lifetime of what the keys sign, seconds; default 3600. */
  readonly maxTokenLifetimeSeconds?: number;
  /** Clock in epoch ms; default `Date.now`. */
  readonly now?: () => number;
}

/** The record of the sealed key set (`grant` records never expire by themselves). */
const KEY_RECORD = { kind: 'grant', key: 'portcullis:signing-keys' } as const;

/** A key store whose storage failures are reported as such (503), not as a server error. */
function reportingKeyStore(storage: Storage): KeyStore {
  const store = storageKeyStore(storage, KEY_RECORD);
  const call =
    <A extends unknown[], R>(operation: string, fn: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      try {
        return await fn(...args);
      } catch (error) {
        throw new StorageUnavailableError(operation, error);
      }
    };
  return {
    load: call('get signing keys', store.load),
    save: call('put signing keys', store.save),
    claimOnce: call('increment signing keys', store.claimOnce),
  };
}

/**
 * The signing keys of an authorization server, over its storage and secret: every instance (and every
 * gateway part, e.g. signed identity assertions) that passes the same storage and secret shares them.
 */
export function signingKeys(options: ServerSigningKeysOptions): SigningKeys {
  const secrets = typeof options.secret === 'string' ? [options.secret] : [...options.secret];
  return createSigningKeys({
    store: reportingKeyStore(options.storage),
    sealer: new KeyRing(secrets),
    maxTokenLifetimeSeconds: options.maxTokenLifetimeSeconds ?? 3600,
    ...(options.algorithm ? { algorithm: options.algorithm } : {}),
    ...(options.rotateAfterSeconds ? { rotateAfterSeconds: options.rotateAfterSeconds } : {}),
    ...(options.publishAheadSeconds ? { publishAheadSeconds: options.publishAheadSeconds } : {}),
    ...(options.cacheSeconds !== undefined ? { cacheSeconds: options.cacheSeconds } : {}),
    ...(options.now ? { now: options.now } : {}),
  });
}

/** The signing keys of one server, for options that do not depend on the server. */
export function coreSigningKeys(
  core: Core,
  options: { algorithm?: SigningAlgorithm; maxTokenLifetimeSeconds: number } & KeyRotationOptions,
): SigningKeys {
  return signingKeys({
    ...options,
    storage: core.config.storage,
    secret: core.config.secrets,
    now: () => core.now(),
  });
}

/** Path of the JWK Set under the issuer. */
export const JWKS_PATH = '/.well-known/jwks.json';

/** The JWK Set route and its metadata member, for a server's keys (RFC 8414 §2 `jwks_uri`). */
export function jwksParts(keysOf: (core: Core) => SigningKeys): Pick<Extension, 'metadata' | 'routes'> {
  return {
    metadata: (core) => ({ jwks_uri: core.endpoint(JWKS_PATH) }),
    routes: (core): Route[] => [
      {
        methods: ['GET'],
        path: `${core.basePath}${JWKS_PATH}`,
        errors: 'json',
        cors: true,
        async handler() {
          const keys = keysOf(core);
          // Verifiers cache the set; the max-age keeps the publish-ahead guarantee of rotation.
          return jsonResponse(await keys.jwks(), 200, {
            'Cache-Control': `public, max-age=${keys.jwksMaxAgeSeconds}`,
          });
        },
      },
    ],
  };
}

/**
 * Publishes signing keys at `jwks_uri` without JWT access tokens, e.g. for the signed identity
 * assertions of a proxy (`signedIdentity`). Pass the same keys the assertions are signed with.
 */
export function jwks(keys: SigningKeys): Extension {
  return { name: 'jwks', ...jwksParts(() => keys) };
}
