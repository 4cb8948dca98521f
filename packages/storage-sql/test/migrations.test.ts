import { MIGRATIONS, type SqlStorage, sqliteStorage } from '@portcullis/storage-sql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Backend, backends } from './backends.js';
import { serviceUrl, uniquePrefix } from './helpers.js';

const latest = Math.max(...MIGRATIONS.map((m) => m.version));
const urls = { postgres: serviceUrl('POSTGRES_URL'), mysql: serviceUrl('MYSQL_URL') };

async function versions(storage: SqlStorage): Promise<number[]> {
  const driver = await storage.driver();
  const rows = await driver.query(`SELECT version FROM ${storage.tablePrefix}migrations ORDER BY version`);
  return rows.map((row) => Number(row.version));
}

for (const spec of backends(urls)) {
  describe(`migrations and tables: ${spec.name}`, () => {
    let backend: Backend;
    beforeAll(async () => {
      backend = await spec.start();
    });
    afterAll(() => backend?.teardown());

    it('migrates before the first operation and records the version', async () => {
      const storage = backend.open({ tablePrefix: uniquePrefix('m') });
      await storage.put('client', 'c', 'v', null);
      expect(await versions(storage)).toEqual(MIGRATIONS.map((m) => m.version));
      const driver = await storage.driver();
      const [row] = await driver.query(`SELECT name, applied_at FROM ${storage.tablePrefix}migrations`);
      expect(row?.name).toBe('create records');
      expect(Number(row?.applied_at)).toBeGreaterThan(Date.UTC(2020, 0, 1));
    });

    it('is idempotent: a second migrate and a second instance apply nothing and keep the data', async () => {
      const tablePrefix = uniquePrefix('i');
      const first = backend.open({ tablePrefix });
      expect(await first.migrate()).toEqual({ version: latest, applied: [latest] });
      expect(await first.migrate()).toEqual({ version: latest, applied: [latest] });
      await first.put('grant', 'g', 'kept', null);
      const second = backend.open({ tablePrefix });
      expect(await second.migrate()).toEqual({ version: latest, applied: [] });
      expect((await second.get('grant', 'g'))?.value).toBe('kept');
      expect(await versions(second)).toEqual([latest]);
    });

    it('applies each migration once when several instances start at the same time', async () => {
      const tablePrefix = uniquePrefix('c');
      const storages = Array.from({ length: 4 }, () => backend.open({ tablePrefix }));
      const results = await Promise.all(storages.map((s) => s.migrate()));
      expect(results.flatMap((r) => r.applied)).toEqual([latest]);
      expect(results.every((r) => r.version === latest)).toBe(true);
      expect(await versions(storages[0]!)).toEqual([latest]);
      await storages[1]!.put('code', 'k', 'shared', null);
      expect((await storages[2]!.consume('code', 'k', Date.now())).status).toBe('consumed');
      expect((await storages[3]!.consume('code', 'k', Date.now())).status).toBe('already_consumed');
    });

    it('keeps storages with different table prefixes apart', async () => {
      const a = backend.open({ tablePrefix: uniquePrefix('a') });
      const b = backend.open({ tablePrefix: uniquePrefix('b') });
      await a.put('client', 'same', 'from a', null);
      expect(await b.get('client', 'same')).toBeNull();
      await b.put('client', 'same', 'from b', null);
      expect((await a.get('client', 'same'))?.value).toBe('from a');
    });

    it('compares keys exactly: case and trailing spaces make different keys', async () => {
      const storage = backend.open({ tablePrefix: uniquePrefix('k') });
      await storage.put('access', 'Key', 'upper', null);
      await storage.put('access', 'key', 'lower', null);
      await storage.put('access', 'key ', 'space', null);
      expect((await storage.get('access', 'Key'))?.value).toBe('upper');
      expect((await storage.get('access', 'key'))?.value).toBe('lower');
      expect((await storage.get('access', 'key '))?.value).toBe('space');
      expect(await storage.get('access', 'KEY')).toBeNull();
    });

    it('accepts 200-character keys', async () => {
      const storage = backend.open({ tablePrefix: uniquePrefix('l') });
      const key = 'é'.repeat(200);
      await storage.put('pending', key, 'long', null);
      expect((await storage.get('pending', key))?.value).toBe('long');
    });

    it('does not migrate on its own with autoMigrate: false', async () => {
      const tablePrefix = uniquePrefix('n');
      const storage = backend.open({ tablePrefix, autoMigrate: false });
      await expect(storage.get('client', 'c')).rejects.toThrow();
      expect((await storage.migrate()).applied).toEqual([latest]);
      expect(await storage.get('client', 'c')).toBeNull();
    });
  });
}

describe('table prefix', () => {
  it.each(['', 'Bad', 'x;DROP TABLE y', '1abc', 'a-b', 'a'.repeat(41)])('rejects %j', (tablePrefix) => {
    expect(() => sqliteStorage(':memory:', { tablePrefix })).toThrow(/tablePrefix/);
  });

  it('defaults to portcullis_', async () => {
    const storage = sqliteStorage(':memory:');
    expect(storage.tablePrefix).toBe('portcullis_');
    await storage.put('client', 'c', 'v', null);
    const driver = await storage.driver();
    expect(await driver.query('SELECT value FROM portcullis_records')).toEqual([{ value: 'v' }]);
    await storage.close();
  });
});
