import type { SqlCallOptions, SqlDriver, SqlExecutor, SqlRow, SqlValue } from '../driver.js';
import { importPeer } from '../driver.js';
import { abortable } from '../sessions.js';
import { SqlStorage, type SqlStorageOptions } from '../storage.js';

/** The part of a better-sqlite3 `Statement` the driver uses. */
export interface BetterSqliteStatement {
  readonly reader: boolean;
  all(...params: unknown[]): unknown[];
  run(...params: unknown[]): { changes: number };
}

/** The part of a better-sqlite3 `Database` the driver uses (a `new Database(path)` fits). */
export interface BetterSqliteDatabase {
  prepare(sql: string): BetterSqliteStatement;
  exec(sql: string): unknown;
  pragma(source: string, options?: { simple?: boolean }): unknown;
  close(): unknown;
}

/** Options for {@link sqliteDriver}. */
export interface SqliteDriverOptions {
  /** How long a transaction waits for another connection's write lock, in ms. Default 10000. */
  readonly lockTimeoutMs?: number;
  /** Close the database in `close()`; set when the driver opened it. Default `false`. */
  readonly owned?: boolean;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const isBusy = (error: unknown) =>
  error instanceof Error &&
  'code' in error &&
  (error.code === 'SQLITE_BUSY' || error.code === 'SQLITE_LOCKED');

/**
 * A {@link SqlDriver} over a better-sqlite3 database. Statements run synchronously, so each one is
 * atomic in the process; across processes SQLite's file locks serialize writers.
 *
 * @example
 * ```ts
 * import Database from 'better-sqlite3';
 * const storage = new SqlStorage(sqliteDriver(new Database('portcullis.db')));
 * ```
 */
export function sqliteDriver(db: BetterSqliteDatabase, options: SqliteDriverOptions = {}): SqlDriver {
  const statements = new Map<string, BetterSqliteStatement>();
  const prepare = (sql: string) => {
    let statement = statements.get(sql);
    if (!statement) {
      if (statements.size >= 64) statements.clear();
      statement = db.prepare(sql);
      statements.set(sql, statement);
    }
    return statement;
  };
  const raw: SqlExecutor = {
    async query(sql: string, params: readonly SqlValue[] = []) {
      return prepare(sql).all(...params) as SqlRow[];
    },
    async execute(sql: string, params: readonly SqlValue[] = []) {
      const statement = prepare(sql);
      if (statement.reader) {
        statement.all(...params);
        return 0;
      }
      return statement.run(...params).changes;
    },
  };
  // Calls on this connection run one after another, so nothing joins an open transaction. A call
  // abandoned while it waits for its turn never runs (a timed-out consume must not commit later).
  let tail: Promise<unknown> = Promise.resolve();
  const serial = <T>(task: () => Promise<T>, options?: SqlCallOptions): Promise<T> => {
    const start = () => {
      options?.signal?.throwIfAborted();
      return task();
    };
    const result = tail.then(start, start);
    tail = result.catch(() => {});
    return abortable(result, options?.signal);
  };

  // BEGIN IMMEDIATE takes the write lock. It is retried here without blocking the event loop, because
  // the holder may be another connection in this very process waiting for its next await.
  async function begin(): Promise<void> {
    const deadline = Date.now() + (options.lockTimeoutMs ?? 10_000);
    const timeout = db.pragma('busy_timeout', { simple: true });
    db.pragma('busy_timeout = 0');
    try {
      for (let wait = 2; ; wait = Math.min(wait * 2, 50)) {
        try {
          db.exec('BEGIN IMMEDIATE');
          return;
        } catch (error) {
          if (!isBusy(error) || Date.now() > deadline) throw error;
        }
        await sleep(wait);
      }
    } finally {
      db.pragma(`busy_timeout = ${Number(timeout) || 0}`);
    }
  }

  return {
    dialect: 'sqlite',
    query: (sql, params, callOptions) => serial(() => raw.query(sql, params), callOptions),
    execute: (sql, params, callOptions) => serial(() => raw.execute(sql, params), callOptions),
    transaction: <T>(fn: (tx: SqlExecutor) => Promise<T>, _lock?: string, callOptions?: SqlCallOptions) =>
      serial(async () => {
        await begin();
        try {
          const result = await fn(raw);
          db.exec('COMMIT');
          return result;
        } catch (error) {
          db.exec('ROLLBACK');
          throw error;
        }
      }, callOptions),
    close: () =>
      serial(async () => {
        if (options.owned) db.close();
      }),
  };
}

/** Options for {@link sqliteStorage}. */
export interface SqliteStorageOptions extends SqlStorageOptions, Omit<SqliteDriverOptions, 'owned'> {}

/**
 * SQLite storage, the embedded default: a file path (created if missing, opened in WAL mode),
 * `':memory:'`, or a better-sqlite3 database you opened. Needs the optional `better-sqlite3` peer.
 *
 * @example
 * ```ts
 * import { sqliteStorage } from '@portcullis/storage-sql';
 * const storage = sqliteStorage('./portcullis.db');
 * ```
 */
export function sqliteStorage(
  database: string | BetterSqliteDatabase,
  options: SqliteStorageOptions = {},
): SqlStorage {
  if (typeof database !== 'string') return new SqlStorage(sqliteDriver(database, options), options);
  return new SqlStorage(openSqlite(database, options), options);
}

async function openSqlite(path: string, options: SqliteDriverOptions): Promise<SqlDriver> {
  const mod = await importPeer<{ default: new (path: string) => BetterSqliteDatabase }>('better-sqlite3');
  const db = new mod.default(path);
  if (path !== ':memory:' && path !== '') db.pragma('journal_mode = WAL');
  return sqliteDriver(db, { ...options, owned: true });
}
