import type { StorageCallOptions } from '@portcullis/core';

/** The SQL dialects the storage speaks. D1 and better-sqlite3 speak `sqlite`; PGlite speaks `postgres`. */
export type SqlDialect = 'sqlite' | 'postgres' | 'mysql';

/** A value bound to a statement parameter. Timestamps are epoch milliseconds (safe integers). */
export type SqlValue = string | number | null;

/** One result row, keyed by column name. */
export type SqlRow = Readonly<Record<string, unknown>>;

/**
 * Per-call options: the core's `StorageCallOptions`. When `signal` aborts, a driver abandons the call
 * for real (drivers with connections destroy the one the call ran on) and rejects at once.
 */
export type SqlCallOptions = StorageCallOptions;

/** Runs statements on one database session (a pool, a connection or an open transaction). */
export interface SqlExecutor {
  /** Runs a statement that returns rows (SELECT, or a write with RETURNING) and returns them. */
  query(sql: string, params?: readonly SqlValue[], options?: SqlCallOptions): Promise<SqlRow[]>;
  /** Runs a statement that returns no rows and resolves with the number of rows it changed. */
  execute(sql: string, params?: readonly SqlValue[], options?: SqlCallOptions): Promise<number>;
}

/**
 * The small surface {@link SqlStorage} needs from a database client. SQL is written in the dialect's
 * own placeholder style (`$1, $2` for `postgres`, `?` otherwise); drivers pass it through unchanged.
 *
 * @example
 * ```ts
 * import Database from 'better-sqlite3';
 * import { SqlStorage, sqliteDriver } from '@portcullis/storage-sql';
 * const storage = new SqlStorage(sqliteDriver(new Database('portcullis.db')));
 * ```
 */
export interface SqlDriver extends SqlExecutor {
  readonly dialect: SqlDialect;
  /**
   * Runs `fn` on one session inside one transaction: commits when it resolves, rolls back when it
   * throws. With `lock`, first takes the cross-process exclusive lock of that name and holds it until
   * the end (PostgreSQL advisory lock, MySQL `GET_LOCK`, SQLite write lock). Drivers that cannot keep a
   * transaction open across awaits (Cloudflare D1) leave it out; the `mysql` dialect requires it.
   * `options.signal` covers the whole transaction.
   */
  transaction?<T>(fn: (tx: SqlExecutor) => Promise<T>, lock?: string, options?: SqlCallOptions): Promise<T>;
  /** Releases what the driver opened itself; clients handed in by the caller stay open. */
  close?(): Promise<void>;
}

/** Reads a number from a driver value: drivers return BIGINT as number, string or bigint. */
export function toNumber(value: unknown): number | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint' || typeof value === 'string') {
    const n = Number(value);
    if (Number.isSafeInteger(n)) return n;
  }
  throw new TypeError(`expected an integer column, got ${typeof value}`);
}

/** A stable signed 32-bit key for a lock name (FNV-1a), for PostgreSQL advisory locks. */
export function lockKey(name: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    hash ^= name.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash | 0;
}

/**
 * Imports an optional peer dependency by a name held in a variable (so bundlers targeting Workers do
 * not try to resolve it), with an install hint when it is missing.
 */
export async function importPeer<T>(name: string): Promise<T> {
  try {
    return (await import(/* @vite-ignore */ name)) as T;
  } catch (error) {
    const code = typeof error === 'object' && error !== null && 'code' in error ? error.code : undefined;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new Error(
        `@portcullis/storage-sql needs the optional peer dependency "${name}": npm install ${name.replace(/\/promise$/, '')}`,
        { cause: error },
      );
    }
    throw error;
  }
}
