import type { SqlDialect } from './driver.js';

/**
 * How a dialect makes `consume` and `increment` atomic: one statement with RETURNING (SQLite,
 * PostgreSQL), or a transaction that locks the row (MySQL/MariaDB, which has no UPDATE ... RETURNING).
 */
export type AtomicQueries =
  | {
      readonly mode: 'returning';
      /** Conditional mark returning the value. Params: consumedAt, kind, key, now. */
      readonly consume: string;
      /** Counter upsert returning the new value. Params: kind, key, expiresAt, now, now. */
      readonly increment: string;
    }
  | {
      readonly mode: 'locking';
      /** Reads a live row and locks it. Params: kind, key, now. */
      readonly lockRow: string;
      /** Marks the locked row. Params: consumedAt, kind, key. */
      readonly markConsumed: string;
      /** Counter upsert. Params: kind, key, expiresAt, now, now, expiresAt. */
      readonly increment: string;
      /** Reads the counter back inside the same transaction. Params: kind, key. */
      readonly readValue: string;
    };

/** The statements {@link SqlStorage} runs, written once per dialect for one table prefix. */
export interface Queries {
  /** Params: kind, key, now. Returns value, expires_at, consumed_at of a live record. */
  readonly get: string;
  /** Upsert clearing the consumed mark. Params: kind, key, value, expiresAt (+ value, expiresAt on MySQL). */
  readonly put: string;
  /** Params: kind, key. */
  readonly delete: string;
  /** Params: now. */
  readonly deleteExpired: string;
  /**
   * One page of live records of a kind by key prefix, in key order, after a key. Params: kind, prefix
   * length (bytes on MySQL, characters elsewhere), prefix, after, now, limit. Returns rkey and the record.
   */
  readonly list: string;
  readonly atomic: AtomicQueries;
}

const TABLE_PREFIX = /^[a-z_][a-z0-9_]{0,39}$/;

/** Rejects a table prefix that is not a plain lowercase identifier (it is spliced into SQL). */
export function checkPrefix(prefix: string): string {
  if (!TABLE_PREFIX.test(prefix)) {
    throw new TypeError(
      'tablePrefix must be 1-40 characters of lowercase letters, digits and underscores, not starting with a digit',
    );
  }
  return prefix;
}

/** Builds the statements for `dialect` on the table `${prefix}records`. */
export function buildQueries(dialect: SqlDialect, prefix: string): Queries {
  const t = `${checkPrefix(prefix)}records`;
  let n = 0;
  const p = () => (dialect === 'postgres' ? `$${++n}` : '?');
  const q = (build: () => string) => {
    n = 0;
    return build();
  };
  const live = (now: string) => `(expires_at IS NULL OR expires_at > ${now})`;
  const select = `SELECT value, expires_at, consumed_at FROM ${t}`;

  if (dialect === 'mysql') {
    const expired = 'expires_at IS NOT NULL AND expires_at <= ?';
    return {
      get: `${select} WHERE kind = ? AND rkey = ? AND ${live('?')}`,
      put: `INSERT INTO ${t} (kind, rkey, value, expires_at, consumed_at) VALUES (?, ?, ?, ?, NULL)
        ON DUPLICATE KEY UPDATE value = ?, expires_at = ?, consumed_at = NULL`,
      delete: `DELETE FROM ${t} WHERE kind = ? AND rkey = ?`,
      deleteExpired: `DELETE FROM ${t} WHERE expires_at IS NOT NULL AND expires_at <= ?`,
      list: `SELECT rkey, value, expires_at, consumed_at FROM ${t}
        WHERE kind = ? AND SUBSTRING(rkey, 1, ?) = ? AND rkey > ? AND ${live('?')} ORDER BY rkey LIMIT ?`,
      atomic: {
        mode: 'locking',
        lockRow: `${select} WHERE kind = ? AND rkey = ? AND ${live('?')} FOR UPDATE`,
        markConsumed: `UPDATE ${t} SET consumed_at = ? WHERE kind = ? AND rkey = ?`,
        // MySQL assigns left to right: `value` is computed while `expires_at` still holds the old expiry.
        increment: `INSERT INTO ${t} (kind, rkey, value, expires_at, consumed_at) VALUES (?, ?, '1', ?, NULL)
        ON DUPLICATE KEY UPDATE
          value = IF(${expired}, '1', CAST(CAST(value AS UNSIGNED) + 1 AS CHAR)),
          expires_at = IF(${expired}, ?, expires_at),
          consumed_at = NULL`,
        readValue: `SELECT value FROM ${t} WHERE kind = ? AND rkey = ?`,
      },
    };
  }

  const int = dialect === 'postgres' ? 'BIGINT' : 'INTEGER';
  return {
    get: q(() => `${select} WHERE kind = ${p()} AND rkey = ${p()} AND ${live(p())}`),
    put: q(
      () => `INSERT INTO ${t} (kind, rkey, value, expires_at, consumed_at) VALUES (${p()}, ${p()}, ${p()}, ${p()}, NULL)
        ON CONFLICT (kind, rkey) DO UPDATE SET
          value = excluded.value, expires_at = excluded.expires_at, consumed_at = NULL`,
    ),
    delete: q(() => `DELETE FROM ${t} WHERE kind = ${p()} AND rkey = ${p()}`),
    deleteExpired: q(() => `DELETE FROM ${t} WHERE expires_at IS NOT NULL AND expires_at <= ${p()}`),
    list: q(
      () => `SELECT rkey, value, expires_at, consumed_at FROM ${t}
        WHERE kind = ${p()} AND substr(rkey, 1, ${p()}) = ${p()} AND rkey > ${p()} AND ${live(p())}
        ORDER BY rkey LIMIT ${p()}`,
    ),
    atomic: {
      mode: 'returning',
      // One statement: concurrent callers serialize on the row and only the first still sees NULL.
      consume: q(
        () => `UPDATE ${t} SET consumed_at = ${p()}
        WHERE kind = ${p()} AND rkey = ${p()} AND consumed_at IS NULL AND ${live(p())}
        RETURNING value`,
      ),
      increment: q(() => {
        const head = `INSERT INTO ${t} (kind, rkey, value, expires_at, consumed_at) VALUES (${p()}, ${p()}, '1', ${p()}, NULL)`;
        const expired1 = `${t}.expires_at IS NOT NULL AND ${t}.expires_at <= ${p()}`;
        const expired2 = `${t}.expires_at IS NOT NULL AND ${t}.expires_at <= ${p()}`;
        return `${head}
        ON CONFLICT (kind, rkey) DO UPDATE SET
          value = CASE WHEN ${expired1} THEN '1' ELSE CAST(CAST(${t}.value AS ${int}) + 1 AS TEXT) END,
          expires_at = CASE WHEN ${expired2} THEN excluded.expires_at ELSE ${t}.expires_at END,
          consumed_at = NULL
        RETURNING value`;
      }),
    },
  };
}
