import { storageContract } from '@portcullis/core/testkit';
import { mysqlStorage, type SqlStorage } from '@portcullis/storage-sql';
import mysql from 'mysql2/promise';
import { afterAll, describe } from 'vitest';
import { dropTables } from './drop.js';
import { serviceUrl, uniquePrefix } from './helpers.js';

const url = serviceUrl('MYSQL_URL');

describe.runIf(url)('mysql/mariadb', () => {
  const pool = mysql.createPool({ uri: url, connectionLimit: 10 });
  afterAll(() => pool.end());

  storageContract('mysql (pool)', {
    create: (clock) => mysqlStorage(pool, { now: clock.now, tablePrefix: uniquePrefix() }),
    dispose: (storage) => dropTables(storage as SqlStorage),
  });

  storageContract('mysql (url)', {
    create: (clock) => mysqlStorage(url!, { now: clock.now, tablePrefix: uniquePrefix() }),
    dispose: async (storage) => {
      await dropTables(storage as SqlStorage);
      await storage.close?.();
    },
  });
});
