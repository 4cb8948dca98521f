import type { SqlDriver, SqlExecutor, SqlRow, SqlValue } from '../driver.js';
import { importPeer, lockKey } from '../driver.js';
import { SqlStorage, type SqlStorageOptions } from '../storage.js';

/** What a `pg` query resolves to (the part the driver reads). */
export interface PgResult {
  readonly rows: unknown[];
  readonly rowCount: number | null;
}

/** The part of a `pg` client the driver uses (a `PoolClient` from `pool.connect()` fits). */
export interface PgClient {
  query(sql: string, params?: unknown[]): Promise<PgResult>;
  release(error?: Error | boolean): void;
}

/** The part of a `pg` `Pool` the driver uses. */
export interface PgPool {
  query(sql: string, params?: unknown[]): Promise<PgResult>;
  connect(): Promise<PgClient>;
  end(): Promise<void>;
}

const executor = (db: Pick<PgPool, 'query'>): SqlExecutor => ({
  async query(sql: string, params: readonly SqlValue[] = []) {
    return (await db.query(sql, [...params])).rows as SqlRow[];
  },
  async execute(sql: string, params: readonly SqlValue[] = []) {
    return (await db.query(sql, [...params])).rowCount ?? 0;
  },
});

/**
 * A {@link SqlDriver} over a `pg` `Pool`. Transactions run on one pooled client; a lock is a
 * transaction-scoped advisory lock (`pg_advisory_xact_lock`), released by COMMIT or ROLLBACK.
 *
 * @example
 * ```ts
 * import pg from 'pg';
 * const storage = new SqlStorage(postgresDriver(new pg.Pool({ connectionString: process.env.DATABASE_URL })));
 * ```
 */
export function postgresDriver(pool: PgPool, options: { readonly owned?: boolean } = {}): SqlDriver {
  return {
    dialect: 'postgres',
    ...executor(pool),
    async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>, lock?: string): Promise<T> {
      const client = await pool.connect();
      let broken: Error | undefined;
      try {
        await client.query('BEGIN');
        try {
          if (lock !== undefined) await client.query('SELECT pg_advisory_xact_lock($1)', [lockKey(lock)]);
          const result = await fn(executor(client));
          await client.query('COMMIT');
          return result;
        } catch (error) {
          await client.query('ROLLBACK').catch((rollback: unknown) => {
            broken = rollback instanceof Error ? rollback : new Error('rollback failed');
          });
          throw error;
        }
      } finally {
        client.release(broken);
      }
    },
    async close() {
      if (options.owned) await pool.end();
    },
  };
}

/**
 * PostgreSQL storage from a connection string (needs the optional `pg` peer; the pool is closed by
 * `storage.close()`) or from a `pg` `Pool` you own.
 *
 * @example
 * ```ts
 * import { postgresStorage } from '@portcullis/storage-sql';
 * const storage = postgresStorage('postgres://app@127.0.0.1:5432/app');
 * ```
 */
export function postgresStorage(urlOrPool: string | PgPool, options: SqlStorageOptions = {}): SqlStorage {
  if (typeof urlOrPool !== 'string') return new SqlStorage(postgresDriver(urlOrPool), options);
  return new SqlStorage(openPool(urlOrPool), options);
}

async function openPool(connectionString: string): Promise<SqlDriver> {
  const mod = await importPeer<{ default: { Pool: new (config: { connectionString: string }) => PgPool } }>(
    'pg',
  );
  return postgresDriver(new mod.default.Pool({ connectionString }), { owned: true });
}
