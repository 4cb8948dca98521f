import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sqlStorageFromUrl } from '@portcullis/storage-sql';
import { afterAll, describe, expect, it } from 'vitest';
import { dropTables } from './drop.js';
import { serviceUrl, uniquePrefix } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'portcullis-url-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function roundTrip(url: string, dialect: string): Promise<void> {
  const storage = sqlStorageFromUrl(url, { tablePrefix: uniquePrefix('u') });
  try {
    expect((await storage.driver()).dialect).toBe(dialect);
    await storage.put('client', 'c', 'v', null);
    expect((await storage.get('client', 'c'))?.value).toBe('v');
  } finally {
    await dropTables(storage);
    await storage.close();
  }
}

describe('sqlStorageFromUrl', () => {
  it('opens SQLite files by relative-looking and absolute paths, and in memory', async () => {
    await roundTrip(`sqlite:${join(dir, 'a.db')}`, 'sqlite');
    await roundTrip(`sqlite://${join(dir, 'b.db')}`, 'sqlite');
    await roundTrip('sqlite::memory:', 'sqlite');
  });

  it('opens PGlite in memory', async () => {
    await roundTrip('pglite:', 'postgres');
  });

  it('rejects other schemes without echoing the URL', () => {
    expect(() => sqlStorageFromUrl('redis://user:s3cret@host/0')).toThrow(
      /unsupported database URL scheme "redis:"/,
    );
    expect(() => sqlStorageFromUrl('redis://user:s3cret@host/0')).not.toThrow(/s3cret/);
    expect(() => sqlStorageFromUrl('/just/a/path')).toThrow(/\(none\)/);
  });

  const postgres = serviceUrl('POSTGRES_URL');
  it.runIf(postgres)('opens PostgreSQL', () => roundTrip(postgres!, 'postgres'));
  const mysql = serviceUrl('MYSQL_URL');
  it.runIf(mysql)('opens MySQL/MariaDB, also under the mariadb: scheme', async () => {
    await roundTrip(mysql!, 'mysql');
    await roundTrip(mysql!.replace(/^mysql:/, 'mariadb:'), 'mysql');
  });
});
