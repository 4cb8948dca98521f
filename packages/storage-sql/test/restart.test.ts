import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postgresStorage, sqliteStorage } from '@portcullis/storage-sql';
import { afterAll, describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'portcullis-restart-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('restart on the same SQLite file', () => {
  it('keeps records, consumed marks, counters and expiries', async () => {
    const file = join(dir, 'restart.db');
    const now = Date.now();
    const before = sqliteStorage(file);
    await before.put('client', 'c1', '{"name":"kept"}', null);
    await before.put('code', 'code1', 'payload', now + 60_000);
    expect((await before.consume('code', 'code1', now)).status).toBe('consumed');
    expect(await before.increment('counter', 'pin', now + 60_000)).toBe(1);
    await before.close();

    const after = sqliteStorage(file);
    expect((await after.migrate()).applied).toEqual([]);
    expect(await after.get('client', 'c1')).toEqual({
      value: '{"name":"kept"}',
      expiresAt: null,
      consumedAt: null,
    });
    expect(await after.consume('code', 'code1', now + 1)).toEqual({
      status: 'already_consumed',
      value: 'payload',
      consumedAt: now,
    });
    expect(await after.increment('counter', 'pin', now + 60_000)).toBe(2);
    await after.close();
  });

  it('fails every operation after close', async () => {
    const storage = sqliteStorage(join(dir, 'closed.db'));
    await storage.put('client', 'c', 'v', null);
    await storage.close();
    await expect(storage.get('client', 'c')).rejects.toThrow();
  });
});

describe('an unreachable database', () => {
  it('rejects operations, and a later call tries again', async () => {
    const storage = postgresStorage('postgres://portcullis@127.0.0.1:1/none');
    await expect(storage.get('client', 'c')).rejects.toThrow(/ECONNREFUSED|connect/);
    await expect(storage.migrate()).rejects.toThrow(/ECONNREFUSED|connect/);
    await storage.close();
  });
});
