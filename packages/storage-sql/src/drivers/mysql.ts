import type { SqlDriver, SqlExecutor, SqlRow, SqlValue } from '../driver.js';
import { importPeer } from '../driver.js';
import { SqlStorage, type SqlStorageOptions } from '../storage.js';

/** The part of a `mysql2/promise` connection the driver uses (a `PoolConnection` fits). */
export interface MysqlConnection {
  query(sql: string, values?: unknown[]): Promise<[unknown, unknown]>;
  release(): void;
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
  /** End the pool in `close()`; set when the driver created it. Default `false`. */
  readonly owned?: boolean;
}

const executor = (db: Pick<MysqlPool, 'query'>): SqlExecutor => ({
  async query(sql: string, params: readonly SqlValue[] = []) {
    const [rows] = await db.query(sql, [...params]);
    return Array.isArray(rows) ? (rows as SqlRow[]) : [];
  },
  async execute(sql: string, params: readonly SqlValue[] = []) {
    const [result] = await db.query(sql, [...params]);
    const affected = (result as { affectedRows?: unknown }).affectedRows;
    return typeof affected === 'number' ? affected : 0;
  },
});

const isDeadlock = (error: unknown) =>
  typeof error === 'object' && error !== null && 'code' in error && error.code === 'ER_LOCK_DEADLOCK';

/**
 * A {@link SqlDriver} over a `mysql2/promise` pool, for MySQL 8 and MariaDB 10.5+. Transactions run on
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
  async function once<T>(fn: (tx: SqlExecutor) => Promise<T>, lock?: string): Promise<T> {
    const connection = await pool.getConnection();
    const db = executor(connection);
    try {
      if (lock !== undefined) {
        const [row] = await db.query('SELECT GET_LOCK(?, ?) AS locked', [
          lock,
          options.lockTimeoutSeconds ?? 30,
        ]);
        if (Number(row?.locked) !== 1) throw new Error(`could not take the lock ${lock}`);
      }
      try {
        await connection.query('START TRANSACTION');
        try {
          const result = await fn(db);
          await connection.query('COMMIT');
          return result;
        } catch (error) {
          await connection.query('ROLLBACK');
          throw error;
        }
      } finally {
        if (lock !== undefined) await connection.query('SELECT RELEASE_LOCK(?)', [lock]);
      }
    } finally {
      connection.release();
    }
  }

  return {
    dialect: 'mysql',
    ...executor(pool),
    async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>, lock?: string): Promise<T> {
      for (let attempt = 1; ; attempt++) {
        try {
          return await once(fn, lock);
        } catch (error) {
          if (!isDeadlock(error) || attempt >= 10) throw error;
          await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * attempt));
        }
      }
    },
    async close() {
      if (options.owned) await pool.end();
    },
  };
}

/** Options for {@link mysqlStorage}. */
export interface MysqlStorageOptions extends SqlStorageOptions, Omit<MysqlDriverOptions, 'owned'> {}

/**
 * MySQL/MariaDB storage from a URL (`mysql://` or `mariadb://`; needs the optional `mysql2` peer; the
 * pool is closed by `storage.close()`) or from a `mysql2/promise` pool you own.
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

async function openPool(url: string, options: MysqlDriverOptions): Promise<SqlDriver> {
  const mod = await importPeer<{ default: { createPool(uri: string): MysqlPool } }>('mysql2/promise');
  const pool = mod.default.createPool(url.replace(/^mariadb:/, 'mysql:'));
  return mysqlDriver(pool, { ...options, owned: true });
}
