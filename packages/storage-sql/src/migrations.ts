import type { SqlDialect, SqlDriver, SqlExecutor } from './driver.js';
import { toNumber } from './driver.js';

/** One versioned schema change. Every statement must be idempotent (`IF NOT EXISTS`). */
export interface Migration {
  readonly version: number;
  readonly name: string;
  statements(dialect: SqlDialect, prefix: string): readonly string[];
}

/** What {@link SqlStorage.migrate} did. */
export interface MigrationResult {
  /** The schema version the database is at now. */
  readonly version: number;
  /** Versions this call applied; empty when another instance (or an earlier call) already had. */
  readonly applied: readonly number[];
}

function recordsTable(dialect: SqlDialect, t: string): string[] {
  if (dialect === 'mysql') {
    // Keys are opaque and compared byte for byte: VARBINARY has no case folding and no PAD SPACE.
    return [
      `CREATE TABLE IF NOT EXISTS ${t}records (
        kind VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        rkey VARBINARY(800) NOT NULL,
        value LONGTEXT CHARACTER SET utf8mb4 NOT NULL,
        expires_at BIGINT NULL,
        consumed_at BIGINT NULL,
        PRIMARY KEY (kind, rkey),
        INDEX ${t}records_expires (expires_at)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
    ];
  }
  const int = dialect === 'postgres' ? 'BIGINT' : 'INTEGER';
  return [
    `CREATE TABLE IF NOT EXISTS ${t}records (
      kind TEXT NOT NULL,
      rkey TEXT NOT NULL,
      value TEXT NOT NULL,
      expires_at ${int},
      consumed_at ${int},
      PRIMARY KEY (kind, rkey)
    )`,
    `CREATE INDEX IF NOT EXISTS ${t}records_expires ON ${t}records (expires_at) WHERE expires_at IS NOT NULL`,
  ];
}

/** The schema history, oldest first. Append only: never edit a released migration. */
export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: 'create records', statements: recordsTable },
];

function migrationsTable(dialect: SqlDialect, t: string): string {
  const int = dialect === 'postgres' || dialect === 'mysql' ? 'BIGINT' : 'INTEGER';
  return `CREATE TABLE IF NOT EXISTS ${t}migrations (
    version INTEGER NOT NULL PRIMARY KEY,
    name VARCHAR(100) NOT NULL,
    applied_at ${int} NOT NULL
  )`;
}

function recordVersion(dialect: SqlDialect, t: string): string {
  if (dialect === 'mysql')
    return `INSERT IGNORE INTO ${t}migrations (version, name, applied_at) VALUES (?, ?, ?)`;
  const p = dialect === 'postgres' ? ['$1', '$2', '$3'] : ['?', '?', '?'];
  return `INSERT INTO ${t}migrations (version, name, applied_at) VALUES (${p.join(', ')}) ON CONFLICT (version) DO NOTHING`;
}

async function apply(
  db: SqlExecutor,
  dialect: SqlDialect,
  prefix: string,
  now: number,
  migrations: readonly Migration[],
): Promise<MigrationResult> {
  await db.execute(migrationsTable(dialect, prefix));
  const rows = await db.query(`SELECT version FROM ${prefix}migrations`);
  const done = new Set(rows.map((row) => toNumber(row.version)));
  const applied: number[] = [];
  for (const migration of migrations) {
    if (done.has(migration.version)) continue;
    for (const statement of migration.statements(dialect, prefix)) await db.execute(statement);
    // The version row is the claim: with no lock (D1), only the instance whose insert lands reports it.
    const changed = await db.execute(recordVersion(dialect, prefix), [
      migration.version,
      migration.name,
      now,
    ]);
    if (changed > 0) applied.push(migration.version);
  }
  const version = migrations.reduce((max, m) => Math.max(max, m.version), 0);
  return { version, applied };
}

/**
 * Brings the schema under `prefix` up to date. Runs in one transaction holding a cross-process lock
 * where the driver has one, so instances starting together apply each migration once.
 */
export async function runMigrations(
  driver: SqlDriver,
  prefix: string,
  now: number,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<MigrationResult> {
  const run = (db: SqlExecutor) => apply(db, driver.dialect, prefix, now, migrations);
  if (driver.transaction) return driver.transaction(run, `portcullis:${prefix}migrations`);
  return run(driver);
}
