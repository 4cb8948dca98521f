import type {
  ConsumeResult,
  ListOptions,
  ListPage,
  RecordKind,
  Storage,
  StorageCallOptions,
  StorageCapabilities,
  StoredRecord,
} from '@portcullis/core';

/**
 * The record kinds that must be consumed or counted atomically, or read right after they are written
 * from wherever the user's browser lands: authorization codes, refresh tokens, attempt counters and
 * pending authorizations.
 */
export const SINGLE_USE_KINDS: readonly RecordKind[] = ['code', 'refresh', 'counter', 'pending'];

/**
 * The kinds {@link cloudflareStorage} keeps in the Durable Object by default: the single-use kinds plus
 * grants with their index (grants by user and by client). Every token is valid only while its grant
 * exists, so keeping grants strongly consistent makes revocation (RFC 7009, refresh-token reuse, code
 * replay, an operator revoking a user) take effect everywhere at once.
 */
export const COORDINATOR_KINDS: readonly RecordKind[] = [...SINGLE_USE_KINDS, 'grant', 'index'];

/** Options of {@link RoutedStorage}. */
export interface RoutedStorageOptions {
  /** Where every kind not listed in `routes` goes. */
  readonly fallback: Storage;
  /** Per-kind storages. */
  readonly routes: Partial<Record<RecordKind, Storage>>;
  /** Storages whose `deleteExpired` housekeeping runs; default every storage that has it. */
  readonly sweep?: readonly Storage[];
}

/**
 * A {@link Storage} that sends each record kind to the storage that suits it — for example long-lived
 * clients and tokens to Cloudflare KV and single-use records to a Durable Object.
 *
 * It is atomic when every storage that holds a {@link SINGLE_USE_KINDS} kind is atomic.
 *
 * @example
 * ```ts
 * const storage = new RoutedStorage({ fallback: kvStorage, routes: { code: doStorage, refresh: doStorage } });
 * ```
 */
export class RoutedStorage implements Storage {
  readonly capabilities: StorageCapabilities;
  readonly deleteExpired?: (now: number, options?: StorageCallOptions) => Promise<number>;
  /** Present when every routed storage can list. */
  readonly list?: (kind: RecordKind, options?: ListOptions) => Promise<ListPage>;
  readonly #fallback: Storage;
  readonly #routes: Partial<Record<RecordKind, Storage>>;
  readonly #all: Storage[];

  constructor(options: RoutedStorageOptions) {
    this.#fallback = options.fallback;
    this.#routes = { ...options.routes };
    this.#all = [...new Set([options.fallback, ...Object.values(options.routes)])];
    this.capabilities = {
      atomic: SINGLE_USE_KINDS.every((kind) => this.#for(kind).capabilities.atomic),
    };
    if (this.#all.every((s) => s.list)) {
      this.list = async (kind, o) => {
        const storage = this.#for(kind);
        if (!storage.list) throw new TypeError(`the storage of '${kind}' records cannot list`);
        return storage.list(kind, o);
      };
    }
    const sweepers = (options.sweep ?? this.#all).filter((s) => s.deleteExpired);
    if (sweepers.length > 0) {
      this.deleteExpired = async (now, o) => {
        const counts = await Promise.all(sweepers.map((s) => s.deleteExpired?.(now, o) ?? 0));
        return counts.reduce((a, b) => a + b, 0);
      };
    }
  }

  #for(kind: RecordKind): Storage {
    return this.#routes[kind] ?? this.#fallback;
  }

  get(kind: RecordKind, key: string, options?: StorageCallOptions): Promise<StoredRecord | null> {
    return this.#for(kind).get(kind, key, options);
  }
  put(
    kind: RecordKind,
    key: string,
    value: string,
    expiresAt: number | null,
    options?: StorageCallOptions,
  ): Promise<void> {
    return this.#for(kind).put(kind, key, value, expiresAt, options);
  }
  delete(kind: RecordKind, key: string, options?: StorageCallOptions): Promise<void> {
    return this.#for(kind).delete(kind, key, options);
  }
  consume(kind: RecordKind, key: string, now: number, options?: StorageCallOptions): Promise<ConsumeResult> {
    return this.#for(kind).consume(kind, key, now, options);
  }
  increment(kind: RecordKind, key: string, expiresAt: number, options?: StorageCallOptions): Promise<number> {
    return this.#for(kind).increment(kind, key, expiresAt, options);
  }
  async close(): Promise<void> {
    await Promise.all(this.#all.map((s) => s.close?.()));
  }
}
