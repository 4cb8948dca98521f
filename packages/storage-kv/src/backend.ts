import type { ConsumeResult, StorageCallOptions } from '@portcullis/core';

/** One record as a {@link KVBackend} keeps it: the value, its logical expiry and its consumed mark. */
export interface KVEntry {
  readonly value: string;
  /** Logical expiry in epoch milliseconds (on the storage's clock), or `null`. */
  readonly expiresAt: number | null;
  /** When the record was consumed (epoch ms), or `null`. */
  readonly consumedAt: number | null;
}

/** One page of {@link KVBackend.list}: full keys with their entries; `cursor` is `null` when done. */
export interface KVPage {
  readonly entries: readonly { readonly key: string; readonly entry: KVEntry }[];
  readonly cursor: string | null;
}

/**
 * The minimal key-value interface {@link KVStorage} runs on: get, put with a time to live, delete,
 * and — where the backend has one — an atomic read-modify-write primitive for `consume` and `increment`.
 *
 * Backends store entries as they are given; {@link KVStorage} decides what is expired. A backend
 * without `consume`/`increment` gets an in-process fallback, which is not atomic across instances.
 * Every call may carry the core's `StorageCallOptions`: a backend with connections should abandon the
 * call for real when its `signal` aborts (see `Storage` in `@portcullis/core`); others may ignore it.
 */
export interface KVBackend {
  /**
   * `true` when `consume` and `increment` below exist and are atomic for every instance sharing the
   * backend (a Redis Lua script, a Durable Object, one process's memory).
   */
  readonly atomic: boolean;
  /** Reads an entry, expired or not; `null` when absent. */
  get(key: string, options?: StorageCallOptions): Promise<KVEntry | null>;
  /**
   * Writes (replaces) an entry. `ttlMs` is how long it stays live on the caller's clock (`null`: no
   * expiry); the backend may keep it longer but must not drop it sooner.
   */
  set(key: string, entry: KVEntry, ttlMs: number | null, options?: StorageCallOptions): Promise<void>;
  delete(key: string, options?: StorageCallOptions): Promise<void>;
  /** Atomic consume: see `Storage.consume`. `now` decides expiry, `at` is recorded as `consumedAt`. */
  consume?(key: string, now: number, at: number, options?: StorageCallOptions): Promise<ConsumeResult>;
  /** Atomic increment: see `Storage.increment`. `now` decides whether the current counter expired. */
  increment?(key: string, now: number, expiresAt: number, options?: StorageCallOptions): Promise<number>;
  /**
   * One page of the entries whose key starts with `prefix` (expired ones may be included; the storage
   * filters them), after `cursor` (the backend's own, from the previous page), about `limit` long.
   */
  list?(
    prefix: string,
    page: { readonly cursor?: string; readonly limit: number },
    options?: StorageCallOptions,
  ): Promise<KVPage>;
  /** Deletes the expired entries whose key starts with `prefix`; returns how many. */
  sweep?(prefix: string, now: number, options?: StorageCallOptions): Promise<number>;
  close?(): Promise<void>;
}

/** `true` when an entry is past its expiry at `now`. */
export function isExpired(entry: KVEntry, now: number): boolean {
  return entry.expiresAt !== null && entry.expiresAt <= now;
}
