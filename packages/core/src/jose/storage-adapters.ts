/**
 * The {@link ReplayGuard} and {@link KeyStore} of this folder backed by a Portcullis `Storage`: the
 * single-use claim is the storage's atomic `increment` (the first caller sees 1), so it holds across
 * every instance of an atomic storage (SQL, Redis, Durable Object) and within one process for memory.
 *
 * @module
 */
import { sha256 } from '../crypto/hash.js';
import type { RecordKind, Storage } from '../storage/types.js';
import type { KeyStore, ReplayGuard } from './types.js';

/** Options of {@link storageReplayGuard}. */
export interface StorageReplayGuardOptions {
  /** The record kind claims are counted in; default `counter`. */
  readonly kind?: RecordKind;
  /** Prefix of the keys, so several guards can share a kind. */
  readonly prefix?: string;
}

/**
 * A replay guard over a storage. Keys are hashed (SHA-256) so any `jti` fits the storage's key limit and
 * none is stored in the clear.
 */
export function storageReplayGuard(
  storage: Pick<Storage, 'increment'>,
  options: StorageReplayGuardOptions = {},
): ReplayGuard {
  const kind = options.kind ?? 'counter';
  const prefix = options.prefix ?? 'once:';
  return {
    async claimOnce(key, expiresAt) {
      return (await storage.increment(kind, `${prefix}${await sha256(key)}`, expiresAt)) === 1;
    },
  };
}

/** Options of {@link storageKeyStore}. */
export interface StorageKeyStoreOptions {
  /**
   * The record kind the sealed key set is kept in. It must be one that is never dropped by itself
   * (not `cache`): losing it replaces every signing key.
   */
  readonly kind: RecordKind;
  /** The record key; default `signing-keys`. */
  readonly key?: string;
  /** The kind the write claims are counted in; default `counter`. */
  readonly claimKind?: RecordKind;
}

/** A key store over a storage: one record that never expires, and increment-based write claims. */
export function storageKeyStore(storage: Storage, options: StorageKeyStoreOptions): KeyStore {
  const key = options.key ?? 'signing-keys';
  const claims = storageReplayGuard(storage, {
    kind: options.claimKind ?? 'counter',
    prefix: `${key}:claim:`,
  });
  return {
    async load() {
      return (await storage.get(options.kind, key))?.value ?? null;
    },
    async save(document) {
      await storage.put(options.kind, key, document, null);
    },
    claimOnce: claims.claimOnce,
  };
}
