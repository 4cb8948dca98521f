import {
  type ConsumeResult,
  type ListOptions,
  type ListPage,
  listLimit,
  type RecordKind,
  type Storage,
  type StorageCallOptions,
  type StoredRecord,
} from '@portcullis/core';
import type { SqlDriver, SqlExecutor, SqlRow } from './driver.js';
import { toNumber } from './driver.js';
import { type MigrationResult, runMigrations } from './migrations.js';
import { buildQueries, checkPrefix, type Queries } from './queries.js';
import { abortable } from './sessions.js';

/** Options for {@link SqlStorage} and the `*Storage` factories. */
export interface SqlStorageOptions {
  /**
   * Prefix of the tables (`<prefix>records`, `<prefix>migrations`), so several apps or test runs can
   * share one database. Lowercase letters, digits and underscores. Default `portcullis_`.
   */
  readonly tablePrefix?: string;
  /** Clock in epoch milliseconds; defaults to `Date.now`. Inject one in tests. */
  readonly now?: () => number;
  /**
   * Run migrations automatically before the first operation (default `true`). With `false`, call
   * {@link SqlStorage.migrate} yourself (for example from a deploy step).
   */
  readonly autoMigrate?: boolean;
}

/** The default table prefix. */
export const DEFAULT_TABLE_PREFIX = 'portcullis_';

function readText(row: SqlRow): string {
  if (typeof row.value !== 'string') throw new TypeError('stored value is not text');
  return row.value;
}

/** A key column: text, or bytes (MySQL VARBINARY) holding UTF-8. */
function readKey(row: SqlRow): string {
  const key = row.rkey;
  if (typeof key === 'string') return key;
  if (key instanceof Uint8Array) return new TextDecoder().decode(key);
  throw new TypeError('stored key is not text');
}

function readRecord(row: SqlRow): StoredRecord {
  return { value: readText(row), expiresAt: toNumber(row.expires_at), consumedAt: toNumber(row.consumed_at) };
}

/**
 * A Portcullis {@link Storage} in one SQL table, over any {@link SqlDriver}. `consume` and `increment`
 * are atomic across every instance sharing the database, so `capabilities.atomic` is `true`.
 *
 * @example
 * ```ts
 * import { SqlStorage, postgresDriver } from '@portcullis/storage-sql';
 * import pg from 'pg';
 * const storage = new SqlStorage(postgresDriver(new pg.Pool({ connectionString: process.env.DATABASE_URL })));
 * await storage.migrate(); // optional: otherwise runs before the first operation
 * ```
 */
export class SqlStorage implements Storage {
  readonly capabilities = { atomic: true } as const;
  /** The table prefix in use. */
  readonly tablePrefix: string;
  readonly #driver: Promise<SqlDriver>;
  readonly #now: () => number;
  readonly #autoMigrate: boolean;
  #migrated: Promise<MigrationResult> | undefined;
  #queries: Queries | undefined;

  /** @param driver a driver, or a promise of one (factories that import the client lazily pass that). */
  constructor(driver: SqlDriver | Promise<SqlDriver>, options: SqlStorageOptions = {}) {
    this.tablePrefix = checkPrefix(options.tablePrefix ?? DEFAULT_TABLE_PREFIX);
    this.#now = options.now ?? Date.now;
    this.#autoMigrate = options.autoMigrate ?? true;
    this.#driver = Promise.resolve(driver).then((d) => {
      if (d.dialect === 'mysql' && !d.transaction)
        throw new TypeError('a mysql driver must support transactions');
      return d;
    });
    // Surfaced on first use; do not crash the process with an unhandled rejection before that.
    this.#driver.catch(() => {});
  }

  /** The driver, once it is ready (for raw queries in tests and tooling). */
  driver(): Promise<SqlDriver> {
    return this.#driver;
  }

  /**
   * Creates or upgrades the tables. Idempotent, and safe when several instances start at once: the
   * work runs under a cross-process lock (or, on D1, as idempotent statements claimed by version row).
   * Runs once per instance; later calls return the first result.
   */
  migrate(): Promise<MigrationResult> {
    if (!this.#migrated) {
      this.#migrated = this.#driver.then((d) => runMigrations(d, this.tablePrefix, this.#now()));
      this.#migrated.catch(() => {
        this.#migrated = undefined; // let a later call retry (the database may come up later)
      });
    }
    return this.#migrated;
  }

  /** The driver and statements, once migrated; a caller that aborts stops waiting for them. */
  async #ready(options?: StorageCallOptions): Promise<{ db: SqlDriver; q: Queries }> {
    const db = await abortable(this.#driver, options?.signal);
    if (this.#autoMigrate) await abortable(this.migrate(), options?.signal);
    this.#queries ??= buildQueries(db.dialect, this.tablePrefix);
    return { db, q: this.#queries };
  }

  async get(kind: RecordKind, key: string, options?: StorageCallOptions): Promise<StoredRecord | null> {
    const { db, q } = await this.#ready(options);
    const [row] = await db.query(q.get, [kind, key, this.#now()], options);
    return row ? readRecord(row) : null;
  }

  async put(
    kind: RecordKind,
    key: string,
    value: string,
    expiresAt: number | null,
    options?: StorageCallOptions,
  ): Promise<void> {
    const { db, q } = await this.#ready(options);
    const params =
      db.dialect === 'mysql'
        ? [kind, key, value, expiresAt, value, expiresAt]
        : [kind, key, value, expiresAt];
    await db.execute(q.put, params, options);
  }

  async delete(kind: RecordKind, key: string, options?: StorageCallOptions): Promise<void> {
    const { db, q } = await this.#ready(options);
    await db.execute(q.delete, [kind, key], options);
  }

  // RFC 6749 §4.1.2: a code is used at most once; exactly one concurrent redeemer may win.
  async consume(
    kind: RecordKind,
    key: string,
    now: number,
    options?: StorageCallOptions,
  ): Promise<ConsumeResult> {
    const { db, q } = await this.#ready(options);
    const atomic = q.atomic;
    if (atomic.mode === 'locking') {
      return db.transaction!(
        async (tx) => {
          const [row] = await tx.query(atomic.lockRow, [kind, key, this.#now()]);
          if (!row) return { status: 'missing' };
          const record = readRecord(row);
          if (record.consumedAt !== null) {
            return { status: 'already_consumed', value: record.value, consumedAt: record.consumedAt };
          }
          await tx.execute(atomic.markConsumed, [now, kind, key]);
          return { status: 'consumed', value: record.value };
        },
        undefined,
        options,
      );
    }
    // A put may replace the record between the failed mark and the read; then try again.
    for (let attempt = 0; attempt < 5; attempt++) {
      const [won] = await db.query(atomic.consume, [now, kind, key, this.#now()], options);
      if (won) return { status: 'consumed', value: readText(won) };
      const record = await this.get(kind, key, options);
      if (!record) return { status: 'missing' };
      if (record.consumedAt !== null) {
        return { status: 'already_consumed', value: record.value, consumedAt: record.consumedAt };
      }
    }
    throw new Error('consume did not settle: the record keeps being replaced');
  }

  async increment(
    kind: RecordKind,
    key: string,
    expiresAt: number,
    options?: StorageCallOptions,
  ): Promise<number> {
    const { db, q } = await this.#ready(options);
    const atomic = q.atomic;
    const now = this.#now();
    let row: SqlRow | undefined;
    if (atomic.mode === 'locking') {
      row = await db.transaction!(
        async (tx: SqlExecutor) => {
          await tx.execute(atomic.increment, [kind, key, expiresAt, now, now, expiresAt]);
          return (await tx.query(atomic.readValue, [kind, key]))[0];
        },
        undefined,
        options,
      );
    } else {
      [row] = await db.query(atomic.increment, [kind, key, expiresAt, now, now], options);
    }
    const value = row ? Number(readText(row)) : Number.NaN;
    if (!Number.isSafeInteger(value)) throw new TypeError('counter did not return an integer');
    return value;
  }

  /** One page of live records of `kind` by key prefix, in key order (keyset paging on the primary key). */
  async list(kind: RecordKind, options?: ListOptions): Promise<ListPage> {
    const { db, q } = await this.#ready(options);
    const prefix = options?.prefix ?? '';
    const limit = listLimit(options);
    const length = db.dialect === 'mysql' ? new TextEncoder().encode(prefix).length : prefix.length;
    const rows = await db.query(
      q.list,
      [kind, length, prefix, options?.cursor ?? '', this.#now(), limit + 1],
      options,
    );
    const records = rows.slice(0, limit).map((row) => ({ key: readKey(row), ...readRecord(row) }));
    const last = records[records.length - 1];
    return { records, cursor: rows.length > limit && last ? last.key : null };
  }

  async deleteExpired(now: number, options?: StorageCallOptions): Promise<number> {
    const { db, q } = await this.#ready(options);
    return db.execute(q.deleteExpired, [now], options);
  }

  /** Closes the connections the storage opened itself (clients you passed in stay open). */
  async close(): Promise<void> {
    const db = await this.#driver.catch(() => undefined);
    await db?.close?.();
  }
}
