import type { SqlCallOptions, SqlDriver, SqlExecutor, SqlRow, SqlValue } from '../driver.js';
import { importPeer, lockKey } from '../driver.js';
import { abortable } from '../sessions.js';
import { SqlStorage, type SqlStorageOptions } from '../storage.js';

/** What a PGlite query resolves to (the part the driver reads). */
export interface PGliteResult {
  readonly rows: unknown[];
  readonly affectedRows?: number;
}

/** The part of a PGlite transaction the driver uses. */
export interface PGliteTransaction {
  query(sql: string, params?: unknown[]): Promise<PGliteResult>;
}

/** The part of a `PGlite` instance the driver uses. */
export interface PGliteDatabase extends PGliteTransaction {
  transaction<T>(fn: (tx: PGliteTransaction) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

// PGlite runs in this process and cannot hang on a network: a call abandoned before it starts is
// skipped, one that started completes (the caller has stopped waiting).
const start = (options?: SqlCallOptions) => options?.signal?.throwIfAborted();

const executor = (db: PGliteTransaction): SqlExecutor => ({
  async query(sql: string, params: readonly SqlValue[] = [], options?: SqlCallOptions) {
    start(options);
    return (await abortable(db.query(sql, [...params]), options?.signal)).rows as SqlRow[];
  },
  async execute(sql: string, params: readonly SqlValue[] = [], options?: SqlCallOptions) {
    start(options);
    return (await abortable(db.query(sql, [...params]), options?.signal)).affectedRows ?? 0;
  },
});

/**
 * A {@link SqlDriver} over PGlite (PostgreSQL in WebAssembly). PGlite runs one statement at a time,
 * and its transactions hold the instance until they end.
 *
 * @example
 * ```ts
 * import { PGlite } from '@electric-sql/pglite';
 * const storage = new SqlStorage(pgliteDriver(new PGlite('./pgdata')));
 * ```
 */
export function pgliteDriver(db: PGliteDatabase, options: { readonly owned?: boolean } = {}): SqlDriver {
  return {
    dialect: 'postgres',
    ...executor(db),
    async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>, lock?: string, options?: SqlCallOptions) {
      start(options);
      const work = db.transaction(async (tx) => {
        start(options); // rolls back a transaction abandoned while it waited for the instance
        if (lock !== undefined) await tx.query('SELECT pg_advisory_xact_lock($1)', [lockKey(lock)]);
        return fn(executor(tx));
      });
      return abortable(work, options?.signal);
    },
    async close() {
      if (options.owned) await db.close();
    },
  };
}

/**
 * PGlite storage from a `PGlite` instance you own, or from a data directory (`'memory://'` for an
 * in-memory database; needs the optional `@electric-sql/pglite` peer and is closed by `storage.close()`).
 *
 * @example
 * ```ts
 * import { PGlite } from '@electric-sql/pglite';
 * import { pgliteStorage } from '@portcullis/storage-sql';
 * const storage = pgliteStorage(new PGlite());
 * ```
 */
export function pgliteStorage(
  database: string | PGliteDatabase,
  options: SqlStorageOptions = {},
): SqlStorage {
  if (typeof database !== 'string') return new SqlStorage(pgliteDriver(database), options);
  return new SqlStorage(openPGlite(database), options);
}

async function openPGlite(dataDir: string): Promise<SqlDriver> {
  const mod = await importPeer<{ PGlite: { create(dataDir: string): Promise<PGliteDatabase> } }>(
    '@electric-sql/pglite',
  );
  return pgliteDriver(await mod.PGlite.create(dataDir), { owned: true });
}
