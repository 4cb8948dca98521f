/**
 * SQL storage for Portcullis: SQLite (embedded default), PostgreSQL, MySQL/MariaDB, PGlite and
 * Cloudflare D1 behind one small driver interface, with versioned migrations.
 *
 * @example
 * ```ts
 * import { sqliteStorage } from '@portcullis/storage-sql';
 * const storage = sqliteStorage('./portcullis.db'); // tables are created on first use
 * ```
 * @module
 */

export type { SqlCallOptions, SqlDialect, SqlDriver, SqlExecutor, SqlRow, SqlValue } from './driver.js';
export type { D1Binding, D1Statement } from './drivers/d1.js';
export { d1Driver, d1Storage } from './drivers/d1.js';
export type { MysqlConnection, MysqlDriverOptions, MysqlPool, MysqlStorageOptions } from './drivers/mysql.js';
export { mysqlDriver, mysqlStorage } from './drivers/mysql.js';
export type { PGliteDatabase, PGliteResult, PGliteTransaction } from './drivers/pglite.js';
export { pgliteDriver, pgliteStorage } from './drivers/pglite.js';
export type {
  PgClient,
  PgPool,
  PgResult,
  PostgresDriverOptions,
  PostgresStorageOptions,
} from './drivers/postgres.js';
export { postgresDriver, postgresPoolConfig, postgresStorage } from './drivers/postgres.js';
export type {
  BetterSqliteDatabase,
  BetterSqliteStatement,
  SqliteDriverOptions,
  SqliteStorageOptions,
} from './drivers/sqlite.js';
export { sqliteDriver, sqliteStorage } from './drivers/sqlite.js';
export type { Migration, MigrationResult } from './migrations.js';
export { MIGRATIONS } from './migrations.js';
export type { SqlStorageOptions } from './storage.js';
export { DEFAULT_TABLE_PREFIX, SqlStorage } from './storage.js';
export type { SqlUrlStorageOptions } from './url.js';
export { sqlStorageFromUrl } from './url.js';
