/**
 * The kinds of record Portcullis keeps. Each kind is its own key space.
 *
 * - `client`: registered clients (RFC 7591), keyed by client_id.
 * - `code`: authorization codes, keyed by the code's hash; single use.
 * - `grant`: one authorization grant (user × client × scopes × resource); tokens point at it.
 * - `access`: access tokens, keyed by the token's hash.
 * - `refresh`: refresh tokens, keyed by the token's hash; single use (rotation).
 * - `consent`: remembered consent, keyed by user and client.
 * - `pending`: an authorization request waiting for the user (login, PIN, consent).
 * - `counter`: attempt counters for rate limiting (PIN tries, registrations).
 * - `cache`: derived data that may be dropped at any time (upstream metadata, JWKS).
 * - `index`: secondary keys that point at records of another kind (grants by user, by client);
 *   derived, written before the record they point at, so a dangling one is ignored, never trusted.
 */
export type RecordKind =
  | 'client'
  | 'code'
  | 'grant'
  | 'access'
  | 'refresh'
  | 'consent'
  | 'pending'
  | 'counter'
  | 'cache'
  | 'index';

/** Every record kind, in a stable order; storages may use it to create tables or key prefixes. */
export const RECORD_KINDS: readonly RecordKind[] = [
  'client',
  'code',
  'grant',
  'access',
  'refresh',
  'consent',
  'pending',
  'counter',
  'cache',
  'index',
];

/** A stored record as a storage returns it. `value` is an opaque string (JSON written by the core). */
export interface StoredRecord {
  /** The opaque serialized value. */
  readonly value: string;
  /** Expiry in epoch milliseconds, or `null` for records that do not expire. */
  readonly expiresAt: number | null;
  /** When the record was consumed (epoch ms), or `null` if it has not been. */
  readonly consumedAt: number | null;
}

/** What {@link Storage.consume} found. */
export type ConsumeResult =
  /** This call consumed the record: the caller is the one and only user of it. */
  | {
      /** This call was the first to consume the record. */
      readonly status: 'consumed';
      /** The record's value. */
      readonly value: string;
    }
  /** The record was consumed before (a replay): callers use `value` to revoke what it issued. */
  | {
      /** The record had been consumed before this call. */
      readonly status: 'already_consumed';
      /** The record's value. */
      readonly value: string;
      /** When it was first consumed, in epoch milliseconds. */
      readonly consumedAt: number;
    }
  /** No live record under that key (never existed, expired, or deleted). */
  | {
      /** No live record under that key. */
      readonly status: 'missing';
    };

/** What a storage can guarantee. */
export interface StorageCapabilities {
  /**
   * `true` when {@link Storage.consume} and {@link Storage.increment} are atomic across every instance
   * that shares the storage (SQL transactions, Redis, a Durable Object). Eventually consistent stores
   * (Cloudflare KV) must say `false`; the core then refuses to run unless told it is a single instance.
   */
  readonly atomic: boolean;
  /**
   * `true` when every operation runs in this process without waiting on I/O or on other processes
   * (an in-memory map, embedded SQLite), so none can stall: the core then arms no
   * `storageTimeoutMs` timeout for its calls. Leave it out for anything behind a network.
   */
  readonly inProcess?: boolean;
}

/**
 * Per-call options the core passes to every storage operation.
 */
export interface StorageCallOptions {
  /**
   * Aborted when the core gives up on the call (`storageTimeoutMs`). A storage should then abandon the
   * operation for real (cancel the query, recycle the connection it was running on) so a black-holed
   * connection is replaced instead of staying stuck. Ignoring it is allowed but leaks the call.
   */
  readonly signal?: AbortSignal;
}

/** What {@link Storage.list} enumerates: one kind's live records whose key starts with `prefix`. */
export interface ListOptions extends StorageCallOptions {
  /** Only keys starting with this string (compared code unit for code unit); default every key. */
  readonly prefix?: string;
  /** Where the previous page ended (its `cursor`); absent for the first page. */
  readonly cursor?: string;
  /** Most records in one page, 1–1000; default 100. A page may hold fewer even when more follow. */
  readonly limit?: number;
}

/** A listed record: its key and what {@link Storage.get} would return for it. */
export interface ListedRecord extends StoredRecord {
  readonly key: string;
}

/** One page of {@link Storage.list}; `cursor` is `null` on the last page. */
export interface ListPage {
  readonly records: readonly ListedRecord[];
  readonly cursor: string | null;
}

/**
 * The storage the authorization server keeps its state in.
 *
 * Values are opaque strings; keys are opaque strings of at most 200 characters. Expired records must
 * never be returned (a storage may delete them lazily). Implementations must pass the contract suite in
 * `@portcullis/core/testkit`.
 */
export interface Storage {
  /** What this storage guarantees; the core refuses a non-atomic one unless told it runs alone. */
  readonly capabilities: StorageCapabilities;
  /** Reads a live (unexpired) record, consumed or not. */
  get(kind: RecordKind, key: string, options?: StorageCallOptions): Promise<StoredRecord | null>;
  /** Creates or replaces a record; a replaced record is no longer consumed. `expiresAt` in epoch ms or `null`. */
  put(
    kind: RecordKind,
    key: string,
    value: string,
    expiresAt: number | null,
    options?: StorageCallOptions,
  ): Promise<void>;
  /** Deletes a record; deleting a missing record is not an error. */
  delete(kind: RecordKind, key: string, options?: StorageCallOptions): Promise<void>;
  /**
   * Atomically marks a live record consumed and reports whether this call was the first to do so.
   * The record stays readable (with `consumedAt` set) until it expires, so replays can be detected.
   * Under any concurrency, exactly one caller gets `consumed` for a given record.
   */
  consume(kind: RecordKind, key: string, now: number, options?: StorageCallOptions): Promise<ConsumeResult>;
  /**
   * Atomically adds one to a counter and returns the new value. A missing or expired counter starts at
   * 1 and takes `expiresAt`; an existing counter keeps its expiry.
   */
  increment(kind: RecordKind, key: string, expiresAt: number, options?: StorageCallOptions): Promise<number>;
  /**
   * Enumerates live records of one kind, page by page (for management: clients, grants by user or
   * client). A record that exists for the whole walk is returned at least once (a duplicate is
   * possible); expired records never are. Optional: management says clearly when a storage lacks it.
   */
  list?(kind: RecordKind, options?: ListOptions): Promise<ListPage>;
  /** Removes expired records; returns how many were removed when known. Optional housekeeping. */
  deleteExpired?(now: number, options?: StorageCallOptions): Promise<number>;
  /** Releases connections. Optional. */
  close?(): Promise<void>;
}
