import type { SqlCallOptions, SqlDriver, SqlExecutor, SqlRow, SqlValue } from '../driver.js';
import { importPeer, lockKey } from '../driver.js';
import { CLOSE_TIMEOUT_MS, closeWithin, type Session, Sessions } from '../sessions.js';
import { SqlStorage, type SqlStorageOptions } from '../storage.js';

/** What a `pg` query resolves to (the part the driver reads). */
export interface PgResult {
  readonly rows: unknown[];
  readonly rowCount: number | null;
}

/** The part of a `pg` client the driver uses (a `PoolClient` from `pool.connect()` fits). */
export interface PgClient {
  query(sql: string, params?: unknown[]): Promise<PgResult>;
  /** With an error, the pool destroys the client instead of keeping it. */
  release(error?: Error | boolean): void;
  on?(event: 'error', listener: (error: Error) => void): unknown;
  removeListener?(event: 'error', listener: (error: Error) => void): unknown;
}

/** The part of a `pg` `Pool` the driver uses. */
export interface PgPool {
  query(sql: string, params?: unknown[]): Promise<PgResult>;
  connect(): Promise<PgClient>;
  end(): Promise<void>;
  on?(event: 'error', listener: (error: Error) => void): unknown;
}

/** Options of {@link postgresDriver}. */
export interface PostgresDriverOptions {
  /**
   * A statement that has not answered after this long fails, and the connection it ran on is
   * destroyed rather than returned to the pool (a half-open connection never answers). Default 5000 ms;
   * `0` disables it.
   */
  readonly queryTimeoutMs?: number;
  /** Calls that may wait for a free pooled connection at once; more fail at once. Default 100. */
  readonly maxWaiting?: number;
  /**
   * Receives connection errors the pool reports outside any call (an idle connection dropped by a
   * restart, a failover or an idle timeout). They never crash the process; default: ignored.
   */
  readonly onConnectionError?: (error: Error) => void;
  /** End the pool in `close()`; set when the driver created it. Default `false`. */
  readonly owned?: boolean;
}

const executor = (
  run: <T>(options: SqlCallOptions | undefined, fn: (session: Session<PgClient>) => Promise<T>) => Promise<T>,
): SqlExecutor => ({
  query: (sql: string, params: readonly SqlValue[] = [], options?: SqlCallOptions) =>
    run(options, async (s) => (await s.statement((c) => c.query(sql, [...params]))).rows as SqlRow[]),
  execute: (sql: string, params: readonly SqlValue[] = [], options?: SqlCallOptions) =>
    run(options, async (s) => (await s.statement((c) => c.query(sql, [...params]))).rowCount ?? 0),
});

/** Pools that already have the driver's 'error' listener. */
const guarded = new WeakSet<PgPool>();
const ignore = () => {};

const inSession = (session: Session<PgClient>): SqlExecutor => executor((_options, fn) => fn(session));

/**
 * A {@link SqlDriver} over a `pg` `Pool`. Every call checks a client out of the pool; a call that is
 * abandoned (its signal aborts) or a statement that does not answer within `queryTimeoutMs` destroys
 * its client, so a stuck connection is replaced instead of returned. Transactions run on one client; a
 * lock is a transaction-scoped advisory lock (`pg_advisory_xact_lock`), released by COMMIT or ROLLBACK.
 *
 * The driver adds an `'error'` listener to the pool: an idle client that loses its connection is
 * dropped by the pool and reported to `onConnectionError`, never left to crash the process.
 *
 * @example
 * ```ts
 * import pg from 'pg';
 * const storage = new SqlStorage(postgresDriver(new pg.Pool({ connectionString: process.env.DATABASE_URL })));
 * ```
 */
export function postgresDriver(pool: PgPool, options: PostgresDriverOptions = {}): SqlDriver {
  const report = options.onConnectionError ?? ignore;
  // One listener per pool, however many storages share it, unless each brings its own.
  if (options.onConnectionError || !guarded.has(pool)) pool.on?.('error', report);
  guarded.add(pool);
  const sessions = new Sessions<PgClient>(
    {
      acquire: () => pool.connect(),
      release: (client) => client.release(),
      destroy: (client, reason) => client.release(reason),
    },
    { queryTimeoutMs: options.queryTimeoutMs ?? 5000, maxWaiting: options.maxWaiting ?? 100 },
  );
  // A checked-out client is not watched by the pool: an error between statements must not crash.
  const run = <T>(callOptions: SqlCallOptions | undefined, fn: (session: Session<PgClient>) => Promise<T>) =>
    sessions.run(callOptions, async (session) => {
      session.connection.on?.('error', report);
      try {
        return await fn(session);
      } finally {
        session.connection.removeListener?.('error', report);
      }
    });
  return {
    dialect: 'postgres',
    ...executor(run),
    transaction<T>(
      fn: (tx: SqlExecutor) => Promise<T>,
      lock?: string,
      callOptions?: SqlCallOptions,
    ): Promise<T> {
      return run(callOptions, async (session) => {
        const tx = inSession(session);
        await tx.execute('BEGIN');
        try {
          if (lock !== undefined) await tx.execute('SELECT pg_advisory_xact_lock($1)', [lockKey(lock)]);
          const result = await fn(tx);
          await tx.execute('COMMIT');
          return result;
        } catch (error) {
          // A connection whose ROLLBACK failed may still be inside the transaction: never reuse it.
          await tx.execute('ROLLBACK').catch((rollback: unknown) => {
            session.discard(rollback instanceof Error ? rollback : new Error('rollback failed'));
          });
          throw error;
        }
      });
    },
    async close() {
      if (options.owned) await closeWithin(pool.end(), CLOSE_TIMEOUT_MS);
    },
  };
}

/** Options of {@link postgresStorage}. The pool options apply when the storage opens the pool from a URL. */
export interface PostgresStorageOptions extends SqlStorageOptions, Omit<PostgresDriverOptions, 'owned'> {
  /** Connections in the pool. Default 10. */
  readonly maxConnections?: number;
  /** How long opening a connection or waiting for a pooled one may take. Default 3000 ms. */
  readonly connectTimeoutMs?: number;
  /**
   * Server-side `statement_timeout`: PostgreSQL cancels a statement running longer (lock waits
   * included), keeping the connection. Default 4000 ms, below `queryTimeoutMs`; `0` disables it.
   */
  readonly statementTimeoutMs?: number;
  /** TCP keep-alive on every connection, first probe after this much idle time. Default 10000 ms. */
  readonly keepAliveInitialDelayMs?: number;
  /** An idle pooled connection is closed after this long. Default 10000 ms. */
  readonly idleTimeoutMs?: number;
}

/**
 * PostgreSQL storage from a connection string (needs the optional `pg` peer; the storage opens the pool
 * with connect, statement and query timeouts and TCP keep-alive, and `storage.close()` ends it) or from
 * a `pg` `Pool` you own (configure its timeouts yourself; the driver still adds an `'error'` listener).
 *
 * @example
 * ```ts
 * import { postgresStorage } from '@portcullis/storage-sql';
 * const storage = postgresStorage('postgres://app@127.0.0.1:5432/app', { connectTimeoutMs: 2000 });
 * ```
 */
export function postgresStorage(
  urlOrPool: string | PgPool,
  options: PostgresStorageOptions = {},
): SqlStorage {
  if (typeof urlOrPool !== 'string') return new SqlStorage(postgresDriver(urlOrPool, options), options);
  return new SqlStorage(openPool(urlOrPool, options), options);
}

/** The `pg.Pool` configuration {@link postgresStorage} uses for a connection string. */
export function postgresPoolConfig(connectionString: string, options: PostgresStorageOptions = {}) {
  const statementTimeout = options.statementTimeoutMs ?? 4000;
  return {
    connectionString,
    max: options.maxConnections ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 3000,
    idleTimeoutMillis: options.idleTimeoutMs ?? 10_000,
    keepAlive: true,
    keepAliveInitialDelayMillis: options.keepAliveInitialDelayMs ?? 10_000,
    ...(statementTimeout > 0 ? { statement_timeout: statementTimeout } : {}),
  };
}

async function openPool(connectionString: string, options: PostgresStorageOptions): Promise<SqlDriver> {
  const mod = await importPeer<{
    default: { Pool: new (config: ReturnType<typeof postgresPoolConfig>) => PgPool };
  }>('pg');
  const pool = new mod.default.Pool(postgresPoolConfig(connectionString, options));
  return postgresDriver(pool, { ...options, owned: true });
}
