import type { SqlCallOptions, SqlDriver, SqlExecutor, SqlRow, SqlValue } from '../driver.js';
import { importPeer } from '../driver.js';
import { CLOSE_TIMEOUT_MS, closeWithin, type Session, Sessions } from '../sessions.js';
import { SqlStorage, type SqlStorageOptions } from '../storage.js';

/** The part of a `mysql2/promise` connection the driver uses (a `PoolConnection` fits). */
export interface MysqlConnection {
  query(sql: string, values?: unknown[]): Promise<[unknown, unknown]>;
  release(): void;
  /** Closes the socket and takes the connection out of its pool (used when a call is abandoned). */
  destroy?(): void;
}

/** The part of a `mysql2/promise` `Pool` the driver uses. */
export interface MysqlPool {
  query(sql: string, values?: unknown[]): Promise<[unknown, unknown]>;
  getConnection(): Promise<MysqlConnection>;
  end(): Promise<void>;
}

/** Options for {@link mysqlDriver}. */
export interface MysqlDriverOptions {
  /** Seconds to wait for the migration lock (`GET_LOCK`). Default 30. */
  readonly lockTimeoutSeconds?: number;
  /**
   * A statement that has not answered after this long fails, and its connection is destroyed rather
   * than returned to the pool. Default 5000 ms; `0` disables it.
   */
  readonly queryTimeoutMs?: number;
  /** Calls that may wait for a free pooled connection at once; more fail at once. Default 100. */
  readonly maxWaiting?: number;
  /** End the pool in `close()`; set when the driver created it. Default `false`. */
  readonly owned?: boolean;
}

const executor = (
  run: <T>(
    options: SqlCallOptions | undefined,
    fn: (s: Session<MysqlConnection>) => Promise<T>,
  ) => Promise<T>,
): SqlExecutor => ({
  query: (sql: string, params: readonly SqlValue[] = [], options?: SqlCallOptions) =>
    run(options, async (s) => {
      const [rows] = await s.statement((c) => c.query(sql, [...params]));
      return Array.isArray(rows) ? (rows as SqlRow[]) : [];
    }),
  execute: (sql: string, params: readonly SqlValue[] = [], options?: SqlCallOptions) =>
    run(options, async (s) => {
      const [result] = await s.statement((c) => c.query(sql, [...params]));
      const affected = (result as { affectedRows?: unknown }).affectedRows;
      return typeof affected === 'number' ? affected : 0;
    }),
});

const isDeadlock = (error: unknown) =>
  typeof error === 'object' && error !== null && 'code' in error && error.code === 'ER_LOCK_DEADLOCK';

/**
 * A {@link SqlDriver} over a `mysql2/promise` pool, for MySQL 8 and MariaDB 10.5+. Every call checks a
 * connection out of the pool; a call that is abandoned (its signal aborts) or a statement that does not
 * answer within `queryTimeoutMs` destroys its connection instead of returning it. Transactions run on
 * one pooled connection and are retried when InnoDB picks them as a deadlock victim (they were rolled
 * back whole). A lock is a named lock (`GET_LOCK`), since MySQL DDL commits implicitly.
 *
 * @example
 * ```ts
 * import mysql from 'mysql2/promise';
 * const storage = new SqlStorage(mysqlDriver(mysql.createPool('mysql://app@127.0.0.1/app')));
 * ```
 */
export function mysqlDriver(pool: MysqlPool, options: MysqlDriverOptions = {}): SqlDriver {
  const sessions = new Sessions<MysqlConnection>(
    {
      acquire: () => pool.getConnection(),
      release: (connection) => connection.release(),
      destroy: (connection) => (connection.destroy ? connection.destroy() : connection.release()),
    },
    { queryTimeoutMs: options.queryTimeoutMs ?? 5000, maxWaiting: options.maxWaiting ?? 100 },
  );
  const run = <T>(callOptions: SqlCallOptions | undefined, fn: (s: Session<MysqlConnection>) => Promise<T>) =>
    sessions.run(callOptions, fn);

  function once<T>(fn: (tx: SqlExecutor) => Promise<T>, lock?: string, callOptions?: SqlCallOptions) {
    return run(callOptions, async (session) => {
      const db = executor((_o, inner) => inner(session));
      if (lock !== undefined) {
        const [row] = await db.query('SELECT GET_LOCK(?, ?) AS locked', [
          lock,
          options.lockTimeoutSeconds ?? 30,
        ]);
        if (Number(row?.locked) !== 1) throw new Error(`could not take the lock ${lock}`);
      }
      try {
        await db.execute('START TRANSACTION');
        try {
          const result = await fn(db);
          await db.execute('COMMIT');
          return result;
        } catch (error) {
          // A connection whose ROLLBACK failed may still be inside the transaction: never reuse it.
          await db.execute('ROLLBACK').catch((rollback: unknown) => {
            session.discard(rollback instanceof Error ? rollback : new Error('rollback failed'));
          });
          throw error;
        }
      } finally {
        // A lock that could not be released goes with its connection.
        if (lock !== undefined) {
          await db.query('SELECT RELEASE_LOCK(?)', [lock]).catch((failure: unknown) => {
            session.discard(failure instanceof Error ? failure : new Error('RELEASE_LOCK failed'));
          });
        }
      }
    });
  }

  return {
    dialect: 'mysql',
    ...executor(run),
    async transaction<T>(
      fn: (tx: SqlExecutor) => Promise<T>,
      lock?: string,
      callOptions?: SqlCallOptions,
    ): Promise<T> {
      for (let attempt = 1; ; attempt++) {
        try {
          return await once(fn, lock, callOptions);
        } catch (error) {
          if (!isDeadlock(error) || attempt >= 10) throw error;
          await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * attempt));
        }
      }
    },
    async close() {
      if (options.owned) await closeWithin(pool.end(), CLOSE_TIMEOUT_MS);
    },
  };
}

/** Options for {@link mysqlStorage}. The pool options apply when the storage opens the pool from a URL. */
export interface MysqlStorageOptions extends SqlStorageOptions, Omit<MysqlDriverOptions, 'owned'> {
  /** Connections in the pool. Default 10. */
  readonly maxConnections?: number;
  /** How long opening a connection (TCP and handshake) may take. Default 3000 ms. */
  readonly connectTimeoutMs?: number;
  /**
   * Server-side limit on a statement, set per session: `innodb_lock_wait_timeout` (rounded up to
   * seconds) and MariaDB's `max_statement_time` or MySQL's `max_execution_time`. Default 4000 ms, below
   * `queryTimeoutMs`; `0` leaves the server defaults.
   */
  readonly statementTimeoutMs?: number;
  /** TCP keep-alive on every connection, first probe after this much idle time. Default 10000 ms. */
  readonly keepAliveInitialDelayMs?: number;
  /** Receives errors of pooled connections outside any call (they never crash the process). */
  readonly onConnectionError?: (error: Error) => void;
}

/**
 * MySQL/MariaDB storage from a URL (`mysql://` or `mariadb://`; needs the optional `mysql2` peer; the
 * storage opens the pool with connect and statement timeouts, TCP keep-alive and a bounded wait queue,
 * and `storage.close()` ends it) or from a `mysql2/promise` pool you own (configure it yourself).
 *
 * @example
 * ```ts
 * import { mysqlStorage } from '@portcullis/storage-sql';
 * const storage = mysqlStorage('mysql://app@127.0.0.1:3306/app');
 * ```
 */
export function mysqlStorage(urlOrPool: string | MysqlPool, options: MysqlStorageOptions = {}): SqlStorage {
  if (typeof urlOrPool !== 'string') return new SqlStorage(mysqlDriver(urlOrPool, options), options);
  return new SqlStorage(openPool(urlOrPool, options), options);
}

/** The core (callback) connection mysql2 hands to the pool's `'connection'` event. */
interface CoreConnection {
  query(sql: string, callback: (error: unknown) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
}

interface Mysql2 {
  createPool(config: Record<string, unknown>): MysqlPool & {
    on(event: 'connection', listener: (connection: CoreConnection) => void): unknown;
  };
}

/** Session statements that bound a statement's time on the server (unknown variables are skipped). */
function sessionLimits(statementTimeoutMs: number): string[] {
  if (statementTimeoutMs <= 0) return [];
  return [
    `SET SESSION innodb_lock_wait_timeout = ${Math.max(1, Math.ceil(statementTimeoutMs / 1000))}`,
    `SET SESSION max_statement_time = ${statementTimeoutMs / 1000}`, // MariaDB, seconds
    `SET SESSION max_execution_time = ${statementTimeoutMs}`, // MySQL, milliseconds (SELECT only)
  ];
}

async function openPool(url: string, options: MysqlStorageOptions): Promise<SqlDriver> {
  const mod = await importPeer<{ default: Mysql2 }>('mysql2/promise');
  const maxWaiting = options.maxWaiting ?? 100;
  const pool = mod.default.createPool({
    uri: url.replace(/^mariadb:/, 'mysql:'),
    connectionLimit: options.maxConnections ?? 10,
    connectTimeout: options.connectTimeoutMs ?? 3000,
    enableKeepAlive: true,
    keepAliveInitialDelay: options.keepAliveInitialDelayMs ?? 10_000,
    queueLimit: maxWaiting,
  });
  const report = options.onConnectionError ?? (() => {});
  const limits = sessionLimits(options.statementTimeoutMs ?? 4000);
  pool.on('connection', (connection) => {
    connection.on('error', report);
    // Queued on the connection before any statement of the call that opened it.
    for (const statement of limits) connection.query(statement, () => {});
  });
  return mysqlDriver(pool, { ...options, owned: true });
}
