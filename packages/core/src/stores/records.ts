import { StorageUnavailableError } from '../errors.js';
import type {
  ConsumeResult,
  ListedRecord,
  RecordKind,
  Storage,
  StorageCallOptions,
} from '../storage/types.js';
import { type Schema, validate } from '../validation/schema.js';

/** Thrown when a storage lacks an optional capability a feature needs (management needs `list`). */
export class StorageCapabilityError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StorageCapabilityError';
  }
}

/** Observes one storage call: its operation, record kind, duration and whether it succeeded (metrics). */
export type StorageObserver = (call: {
  readonly operation: string;
  readonly kind: RecordKind;
  readonly durationMs: number;
  readonly ok: boolean;
}) => void;

/** A consumed record: this call consumed it, or it had been consumed before (at `consumedAt`, epoch ms). */
export type Consumed<T> =
  | { readonly status: 'consumed'; readonly record: T }
  | { readonly status: 'already_consumed'; readonly record: T; readonly consumedAt: number };

/**
 * Typed access to the storage: JSON in, schema-checked records out. Every storage failure becomes a
 * {@link StorageUnavailableError} (503 `temporarily_unavailable`), never a 500.
 */
export class Records {
  /** @param timeoutMs how long one storage operation may take before the request gives up with 503. */
  constructor(
    readonly storage: Storage,
    readonly timeoutMs = 8000,
    readonly observe?: StorageObserver,
  ) {}

  #call<T>(operation: string, fn: (options: StorageCallOptions) => Promise<T>): Promise<T> {
    return this.observe ? this.#observed(this.observe, operation, fn) : this.#guarded(operation, fn);
  }

  /** A call under the timeout, unless the storage runs in process and so cannot stall. */
  #guarded<T>(operation: string, fn: (options: StorageCallOptions) => Promise<T>): Promise<T> {
    return this.storage.capabilities.inProcess ? inProcess(operation, fn) : this.#timed(operation, fn);
  }

  async #observed<T>(
    observe: StorageObserver,
    operation: string,
    fn: (options: StorageCallOptions) => Promise<T>,
  ): Promise<T> {
    const started = performance.now();
    const [op = operation, kind] = operation.split(' ') as [string, RecordKind];
    let ok = false;
    try {
      const result = await this.#guarded(operation, fn);
      ok = true;
      return result;
    } finally {
      try {
        observe({ operation: op, kind, durationMs: performance.now() - started, ok });
      } catch {
        // An observer must never break a request.
      }
    }
  }

  #timed<T>(operation: string, fn: (options: StorageCallOptions) => Promise<T>): Promise<T> {
    const timeoutMs = this.timeoutMs;
    // The abort signal is only made for a storage that reads it (an in-memory one never does).
    let controller: AbortController | undefined;
    let expired: Error | undefined;
    const options: StorageCallOptions = {
      get signal() {
        if (!controller) {
          controller = new AbortController();
          if (expired) controller.abort(expired);
        }
        return controller.signal;
      },
    };
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const fail = (error: unknown) => {
        settled = true;
        clearTimeout(timer);
        reject(new StorageUnavailableError(operation, error));
      };
      let pending: Promise<T>;
      try {
        pending = fn(options);
      } catch (error) {
        return fail(error);
      }
      pending.then((value) => {
        settled = true;
        clearTimeout(timer);
        resolve(value);
      }, fail);
      // An in-process storage has settled by the next microtask: no timer is armed for it at all.
      queueMicrotask(() => {
        if (settled) return;
        timer = setTimeout(() => {
          // The storage is told to abandon the call for real, so a stuck connection is recycled.
          expired = new Error(`timed out after ${timeoutMs} ms`);
          controller?.abort(expired);
          reject(new StorageUnavailableError(operation, expired));
        }, timeoutMs);
      });
    });
  }

  async get<T>(kind: RecordKind, key: string, schema: Schema<T>): Promise<T | null> {
    const stored = await this.#call(`get ${kind}`, (o) => this.storage.get(kind, key, o));
    return stored ? parseRecord(schema, stored.value) : null;
  }

  /** A record with the time it was consumed (`null` when it was not), or `null` when missing or invalid. */
  async getEntry<T>(
    kind: RecordKind,
    key: string,
    schema: Schema<T>,
  ): Promise<{ record: T; consumedAt: number | null } | null> {
    const stored = await this.#call(`get ${kind}`, (o) => this.storage.get(kind, key, o));
    const record = stored ? parseRecord(schema, stored.value) : null;
    return stored && record !== null ? { record, consumedAt: stored.consumedAt } : null;
  }

  async exists(kind: RecordKind, key: string): Promise<boolean> {
    return (await this.#call(`get ${kind}`, (o) => this.storage.get(kind, key, o))) !== null;
  }

  put(kind: RecordKind, key: string, value: unknown, expiresAt: number | null): Promise<void> {
    return this.#call(`put ${kind}`, (o) => this.storage.put(kind, key, JSON.stringify(value), expiresAt, o));
  }

  delete(kind: RecordKind, key: string): Promise<void> {
    return this.#call(`delete ${kind}`, (o) => this.storage.delete(kind, key, o));
  }

  async consume<T>(
    kind: RecordKind,
    key: string,
    now: number,
    schema: Schema<T>,
  ): Promise<Consumed<T> | null> {
    const result: ConsumeResult = await this.#call(`consume ${kind}`, (o) =>
      this.storage.consume(kind, key, now, o),
    );
    if (result.status === 'missing') return null;
    const record = parseRecord(schema, result.value);
    if (record === null) return null;
    return result.status === 'consumed'
      ? { status: 'consumed', record }
      : { status: 'already_consumed', record, consumedAt: result.consumedAt };
  }

  /**
   * Every live record of a kind whose key starts with `prefix`, page by page (each page one storage call
   * under the timeout). Throws {@link StorageCapabilityError} when the storage cannot list.
   */
  async *walk(kind: RecordKind, prefix = ''): AsyncGenerator<ListedRecord> {
    const storage = this.storage;
    if (!storage.list) {
      throw new StorageCapabilityError(
        'this storage cannot list records (Storage.list is missing); management needs it: every storage of @portcullis/storage-sql and @portcullis/storage-kv has it',
      );
    }
    let cursor: string | undefined;
    do {
      const after = cursor;
      const page = await this.#call(`list ${kind}`, (o) =>
        storage.list!(kind, { ...o, prefix, limit: 500, ...(after !== undefined ? { cursor: after } : {}) }),
      );
      yield* page.records;
      cursor = page.cursor ?? undefined;
    } while (cursor !== undefined);
  }

  increment(kind: RecordKind, key: string, expiresAt: number): Promise<number> {
    return this.#call(`increment ${kind}`, (o) => this.storage.increment(kind, key, expiresAt, o));
  }
}

const NO_SIGNAL: StorageCallOptions = {};

/** A call to an in-process storage: no timer, no abort signal; a failure still becomes a 503. */
function inProcess<T>(operation: string, fn: (options: StorageCallOptions) => Promise<T>): Promise<T> {
  try {
    return fn(NO_SIGNAL).catch((error: unknown) => {
      throw new StorageUnavailableError(operation, error);
    });
  } catch (error) {
    return Promise.reject(new StorageUnavailableError(operation, error));
  }
}

/** A record stored as JSON, checked against its schema; `null` when it is not JSON or does not match. */
export function parseRecord<T>(schema: Schema<T>, value: string): T | null {
  try {
    const result = validate(schema, JSON.parse(value));
    return result.ok ? result.value : null;
  } catch {
    return null;
  }
}
