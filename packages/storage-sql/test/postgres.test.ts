import { storageContract } from '@portcullis/core/testkit';
import { postgresStorage, type SqlStorage } from '@portcullis/storage-sql';
import pg from 'pg';
import { afterAll, describe } from 'vitest';
import { dropTables } from './drop.js';
import { serviceUrl, uniquePrefix } from './helpers.js';

const url = serviceUrl('POSTGRES_URL');

describe.runIf(url)('postgresql', () => {
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  afterAll(() => pool.end());

  storageContract('postgresql (pool)', {
    create: (clock) => postgresStorage(pool, { now: clock.now, tablePrefix: uniquePrefix() }),
    dispose: (storage) => dropTables(storage as SqlStorage),
  });

  storageContract('postgresql (connection string)', {
    create: (clock) => postgresStorage(url!, { now: clock.now, tablePrefix: uniquePrefix() }),
    dispose: async (storage) => {
      await dropTables(storage as SqlStorage);
      await storage.close?.();
    },
  });
});
