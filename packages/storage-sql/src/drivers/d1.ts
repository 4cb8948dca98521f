import type { SqlDriver, SqlRow, SqlValue } from '../driver.js';
import { abortable } from '../sessions.js';
import { SqlStorage, type SqlStorageOptions } from '../storage.js';

/** The part of a D1 prepared statement the driver uses. */
export interface D1Statement {
  bind(...values: unknown[]): D1Statement;
  all(): Promise<{ results: unknown[] }>;
  run(): Promise<{ meta: { changes?: number } }>;
}

/** The part of a Cloudflare D1 binding (`env.DB`, type `D1Database`) the driver uses. */
export interface D1Binding {
  prepare(sql: string): D1Statement;
}

/**
 * A {@link SqlDriver} over a Cloudflare D1 binding. It imports nothing from Node, so it runs in
 * workerd. D1 has no interactive transactions; it does not need them: D1 runs one statement at a time
 * per database, `consume` and `increment` are single statements, and migrations are idempotent.
 *
 * @example
 * ```ts
 * export default { fetch: (req: Request, env: { DB: D1Database }) => {
 *   const storage = new SqlStorage(d1Driver(env.DB));
 * } };
 * ```
 */
export function d1Driver(db: D1Binding): SqlDriver {
  const statement = (sql: string, params: readonly SqlValue[]) =>
    params.length > 0 ? db.prepare(sql).bind(...params) : db.prepare(sql);
  return {
    dialect: 'sqlite',
    // A D1 call cannot be cancelled: one abandoned before it starts is skipped, the caller of a
    // started one stops waiting for it.
    async query(sql, params = [], options) {
      options?.signal?.throwIfAborted();
      return (await abortable(statement(sql, params).all(), options?.signal)).results as SqlRow[];
    },
    async execute(sql, params = [], options) {
      options?.signal?.throwIfAborted();
      return (await abortable(statement(sql, params).run(), options?.signal)).meta.changes ?? 0;
    },
  };
}

/**
 * Cloudflare D1 storage from a `D1Database` binding.
 *
 * @example
 * ```ts
 * import { d1Storage } from '@portcullis/storage-sql';
 * export default {
 *   async fetch(request: Request, env: { DB: D1Database }) {
 *     const storage = d1Storage(env.DB);
 *     // createAuthorizationServer({ storage, ... })
 *   },
 * };
 * ```
 */
export function d1Storage(db: D1Binding, options: SqlStorageOptions = {}): SqlStorage {
  return new SqlStorage(d1Driver(db), options);
}
