import { type MysqlStorageOptions, mysqlStorage } from './drivers/mysql.js';
import { pgliteStorage } from './drivers/pglite.js';
import { type PostgresStorageOptions, postgresStorage } from './drivers/postgres.js';
import { type SqliteStorageOptions, sqliteStorage } from './drivers/sqlite.js';
import type { SqlStorage } from './storage.js';

/** Options of {@link sqlStorageFromUrl}: each backend reads the ones that concern it. */
export type SqlUrlStorageOptions = PostgresStorageOptions & MysqlStorageOptions & SqliteStorageOptions;

/**
 * Opens a SQL storage from one configuration string, for CLIs and config files:
 *
 * | string | storage |
 * | --- | --- |
 * | `postgres://…`, `postgresql://…` | PostgreSQL (`pg`) |
 * | `mysql://…`, `mariadb://…` | MySQL/MariaDB (`mysql2`) |
 * | `sqlite:./file.db`, `sqlite:///abs/file.db`, `sqlite::memory:` | SQLite (`better-sqlite3`) |
 * | `pglite:./dir`, `pglite:` (in memory) | PGlite |
 *
 * The storage owns the connections it opens: `storage.close()` releases them. Network backends get
 * their connect, statement and query timeouts from `options` (see `postgresStorage`, `mysqlStorage`).
 *
 * @example
 * ```ts
 * import { sqlStorageFromUrl } from '@portcullis/storage-sql';
 * const storage = sqlStorageFromUrl(process.env.DATABASE_URL ?? 'sqlite:./portcullis.db');
 * ```
 */
export function sqlStorageFromUrl(url: string, options: SqlUrlStorageOptions = {}): SqlStorage {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  const rest = url.slice((scheme?.length ?? 0) + 1);
  switch (scheme) {
    case 'postgres':
    case 'postgresql':
      return postgresStorage(url, options);
    case 'mysql':
    case 'mariadb':
      return mysqlStorage(url, options);
    case 'sqlite':
      return sqliteStorage(rest.startsWith('//') ? rest.slice(2) : rest, options);
    case 'pglite':
      return pgliteStorage(rest === '' || rest === '//' ? 'memory://' : rest.replace(/^\/\//, ''), options);
    default:
      // Only the scheme is named: the rest may hold a password.
      throw new TypeError(
        `unsupported database URL scheme ${scheme ? `"${scheme}:"` : '(none)'}; use postgres:, mysql:, mariadb:, sqlite: or pglite:`,
      );
  }
}
