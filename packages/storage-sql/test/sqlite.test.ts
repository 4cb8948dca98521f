import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { storageContract } from '@portcullis/core/testkit';
import { sqliteStorage } from '@portcullis/storage-sql';
import Database from 'better-sqlite3';
import { afterAll } from 'vitest';
import { uniquePrefix } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'portcullis-sqlite-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

storageContract('sqlite :memory:', {
  create: (clock) => sqliteStorage(':memory:', { now: clock.now }),
  dispose: (storage) => storage.close?.(),
});

storageContract('sqlite file', {
  create: (clock) => sqliteStorage(join(dir, 'contract.db'), { now: clock.now, tablePrefix: uniquePrefix() }),
  dispose: (storage) => storage.close?.(),
});

const shared = new Database(join(dir, 'shared.db'));
afterAll(() => shared.close());
storageContract('sqlite with a caller-owned database', {
  create: (clock) => sqliteStorage(shared, { now: clock.now, tablePrefix: uniquePrefix() }),
});
