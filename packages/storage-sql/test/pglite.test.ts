import { PGlite } from '@electric-sql/pglite';
import { storageContract } from '@portcullis/core/testkit';
import { pgliteStorage } from '@portcullis/storage-sql';
import { afterAll, expect, it } from 'vitest';
import { uniquePrefix } from './helpers.js';

const db = new PGlite();
afterAll(() => db.close());

storageContract('pglite', {
  create: (clock) => pgliteStorage(db, { now: clock.now, tablePrefix: uniquePrefix() }),
});

it('opens its own PGlite from a data directory and closes it', async () => {
  const storage = pgliteStorage('memory://');
  await storage.put('client', 'c1', 'v', null);
  expect((await storage.get('client', 'c1'))?.value).toBe('v');
  await storage.close();
  await expect(storage.get('client', 'c1')).rejects.toThrow();
});
