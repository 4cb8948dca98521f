import type { SqlStorage } from '@portcullis/storage-sql';

/** Drops the tables a test storage created, so shared databases do not fill up. */
export async function dropTables(storage: SqlStorage): Promise<void> {
  const driver = await storage.driver();
  for (const table of ['records', 'migrations']) {
    await driver.execute(`DROP TABLE IF EXISTS ${storage.tablePrefix}${table}`);
  }
}
