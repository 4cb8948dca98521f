import {
  type ClockOption,
  type ConsumeResult,
  type ListOptions,
  type ListPage,
  listLimit,
  type RecordKind,
  type Storage,
  type StorageCallOptions,
  type StorageCapabilities,
  type StoredRecord,
} from '@portcullis/core';
import { isExpired, type KVBackend, type KVEntry } from './backend.js';

/** Options of {@link KVStorage}. */
export interface KVStorageOptions extends ClockOption {
  /** Where the records live. */
  readonly backend: KVBackend;
  /**
   * Prefix of every key, so several servers (or test runs) can share one namespace or database.
   * Keys are `<prefix><kind>:<key>`. Default `portcullis:`.
   */
  readonly prefix?: string;
}

/** Per-key queues for backends without an atomic primitive; shared by every instance in this isolate. */
const queues = new Map<string, Promise<void>>();

function serialize<T>(key: string, task: () => Promise<T>): Promise<T> {
  const previous = queues.get(key) ?? Promise.resolve();
  const run = previous.then(task);
  const tail = run.then(
    () => undefined,
    () => undefined,
  );
  queues.set(key, tail);
  void tail.then(() => {
    if (queues.get(key) === tail) queues.delete(key);
  });
  return run;
}

/**
 * A {@link Storage} over any {@link KVBackend}: Redis, in-memory, Cloudflare KV or a Durable Object.
 *
 * Expiry is decided on the storage's clock, so expired records are never returned even when the
 * backend keeps them a little longer. When the backend has no atomic primitive, `consume` and
 * `increment` are serialized within this isolate only and `capabilities.atomic` is `false`.
 *
 * @example
 * ```ts
 * import { KVStorage, memoryKV } from '@portcullis/storage-kv';
 * const storage = new KVStorage({ backend: memoryKV(), prefix: 'app:' });
 * ```
 */
export class KVStorage implements Storage {
  readonly capabilities: StorageCapabilities;
  /** Present when the backend can list its keys (see `Storage.list`). */
  readonly list?: (kind: RecordKind, options?: ListOptions) => Promise<ListPage>;
  /** Present when the backend can sweep expired entries. */
  readonly deleteExpired?: (now: number, options?: StorageCallOptions) => Promise<number>;
  readonly #backend: KVBackend;
  readonly #prefix: string;
  readonly #now: () => number;

  constructor(options: KVStorageOptions) {
    this.#backend = options.backend;
    this.#prefix = options.prefix ?? 'portcullis:';
    this.#now = options.now ?? Date.now;
    const backend = options.backend;
    this.capabilities = {
      atomic: backend.atomic && backend.consume !== undefined && backend.increment !== undefined,
    };
    const list = backend.list?.bind(backend);
    if (list) this.list = (kind, o) => this.#list(list, kind, o);
    const sweep = backend.sweep?.bind(backend);
    if (sweep) this.deleteExpired = (now: number, o?: StorageCallOptions) => sweep(this.#prefix, now, o);
  }

  #key(kind: RecordKind, key: string): string {
    return `${this.#prefix}${kind}:${key}`;
  }

  /** Runs `task` alone for `key` when the backend is not atomic; directly otherwise. */
  #exclusive<T>(key: string, task: () => Promise<T>): Promise<T> {
    return this.capabilities.atomic ? task() : serialize(key, task);
  }

  async get(kind: RecordKind, key: string, options?: StorageCallOptions): Promise<StoredRecord | null> {
    const entry = await this.#backend.get(this.#key(kind, key), options);
    if (!entry || isExpired(entry, this.#now())) return null;
    return { value: entry.value, expiresAt: entry.expiresAt, consumedAt: entry.consumedAt };
  }

  async put(
    kind: RecordKind,
    key: string,
    value: string,
    expiresAt: number | null,
    options?: StorageCallOptions,
  ): Promise<void> {
    const full = this.#key(kind, key);
    const entry: KVEntry = { value, expiresAt, consumedAt: null };
    await this.#exclusive(full, () => this.#backend.set(full, entry, this.#ttl(expiresAt), options));
  }

  async delete(kind: RecordKind, key: string, options?: StorageCallOptions): Promise<void> {
    const full = this.#key(kind, key);
    await this.#exclusive(full, () => this.#backend.delete(full, options));
  }

  async consume(
    kind: RecordKind,
    key: string,
    now: number,
    options?: StorageCallOptions,
  ): Promise<ConsumeResult> {
    const full = this.#key(kind, key);
    const backend = this.#backend;
    if (this.capabilities.atomic && backend.consume) return backend.consume(full, this.#now(), now, options);
    return serialize(full, async () => {
      const entry = await backend.get(full, options);
      if (!entry || isExpired(entry, this.#now())) return { status: 'missing' };
      if (entry.consumedAt !== null) {
        return { status: 'already_consumed', value: entry.value, consumedAt: entry.consumedAt };
      }
      await backend.set(full, { ...entry, consumedAt: now }, this.#ttl(entry.expiresAt), options);
      return { status: 'consumed', value: entry.value };
    });
  }

  async increment(
    kind: RecordKind,
    key: string,
    expiresAt: number,
    options?: StorageCallOptions,
  ): Promise<number> {
    const full = this.#key(kind, key);
    const backend = this.#backend;
    if (this.capabilities.atomic && backend.increment) {
      return backend.increment(full, this.#now(), expiresAt, options);
    }
    return serialize(full, async () => {
      const entry = await backend.get(full, options);
      if (!entry || isExpired(entry, this.#now())) {
        await backend.set(full, { value: '1', expiresAt, consumedAt: null }, this.#ttl(expiresAt), options);
        return 1;
      }
      const next = Number.parseInt(entry.value, 10) + 1;
      await backend.set(full, { ...entry, value: String(next) }, this.#ttl(entry.expiresAt), options);
      return next;
    });
  }

  async #list(
    list: NonNullable<KVBackend['list']>,
    kind: RecordKind,
    options?: ListOptions,
  ): Promise<ListPage> {
    const head = this.#key(kind, '');
    const page = await list(
      `${head}${options?.prefix ?? ''}`,
      { limit: listLimit(options), ...(options?.cursor ? { cursor: options.cursor } : {}) },
      options,
    );
    const now = this.#now();
    const records = page.entries
      .filter(({ key, entry }) => key.startsWith(head) && !isExpired(entry, now))
      .map(({ key, entry }) => ({ key: key.slice(head.length), ...entry }));
    return { records, cursor: page.cursor };
  }

  async close(): Promise<void> {
    await this.#backend.close?.();
  }

  #ttl(expiresAt: number | null): number | null {
    return expiresAt === null ? null : expiresAt - this.#now();
  }
}
