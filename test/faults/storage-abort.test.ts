/**
 * The network storages, in this process, through a {@link FaultProxy}: a call the caller abandons (its
 * signal aborts) or that goes unanswered for the storage's own timeout rejects at once and destroys the
 * connection it ran on, so with a pool of one connection the next call after healing works on a new
 * connection; and callers waiting for a connection are bounded.
 */
import { randomBytes } from 'node:crypto';
import type { Storage } from '@portcullis/core';
import { redisStorage } from '@portcullis/storage-kv';
import { mysqlStorage, postgresStorage, type SqlStorage } from '@portcullis/storage-sql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FaultProxy, startFaultProxy } from '../support/fault-proxy.js';

const run = randomBytes(4).toString('hex');

interface Backend {
  readonly name: string;
  readonly url: string | undefined;
  /** A storage on `url` (pointed at the proxy) with one connection and the given timeouts. */
  open(url: string, options: { queryTimeoutMs: number; maxWaiting: number }): Storage;
  drop?(storage: Storage): Promise<void>;
}

const dropTables = async (storage: Storage) => {
  const sql = storage as SqlStorage;
  const driver = await sql.driver();
  for (const table of ['records', 'migrations']) {
    await driver.execute(`DROP TABLE IF EXISTS ${sql.tablePrefix}${table}`);
  }
};

const backends: Backend[] = [
  {
    name: 'PostgreSQL',
    url: process.env.POSTGRES_URL,
    open: (url, o) =>
      postgresStorage(url, {
        tablePrefix: `pt_abort_${run}_`,
        maxConnections: 1,
        connectTimeoutMs: 1000,
        ...o,
      }),
    drop: dropTables,
  },
  {
    name: 'MariaDB',
    url: process.env.MYSQL_URL,
    open: (url, o) =>
      mysqlStorage(url, { tablePrefix: `pt_abort_${run}_`, maxConnections: 1, connectTimeoutMs: 1000, ...o }),
    drop: dropTables,
  },
  {
    name: 'Redis',
    url: process.env.REDIS_URL,
    open: (url, o) =>
      redisStorage({
        url,
        prefix: `pc-abort-${run}:`,
        commandTimeoutMs: o.queryTimeoutMs,
        maxWaiting: o.maxWaiting,
        connectTimeoutMs: 1000,
      }),
  },
];

const required = process.env.PORTCULLIS_REQUIRE_SERVICES === '1';

for (const backend of backends) {
  describe(`abandoned calls on ${backend.name}`, () => {
    if (!backend.url) {
      it.runIf(required)('has its service URL (PORTCULLIS_REQUIRE_SERVICES=1)', () => {
        expect.fail(`no URL for ${backend.name}`);
      });
      it.skipIf(required)('runs when its service URL is set', () => {});
      return;
    }
    const target = new URL(backend.url);
    let proxy: FaultProxy;
    let proxied: string;
    const opened: Storage[] = [];
    const open = (queryTimeoutMs: number, maxWaiting = 100) => {
      const storage = backend.open(proxied, { queryTimeoutMs, maxWaiting });
      opened.push(storage);
      return storage;
    };

    beforeAll(async () => {
      proxy = await startFaultProxy({ host: target.hostname, port: Number(target.port) });
      const url = new URL(backend.url!);
      url.hostname = '127.0.0.1';
      url.port = String(proxy.port);
      proxied = url.toString();
    });
    afterAll(async () => {
      await proxy.close(); // resets the black-holed connections, so closing the storages is quick
      const direct = backend.open(backend.url!, { queryTimeoutMs: 5000, maxWaiting: 10 });
      for (const key of ['k', 'q', 'w']) await direct.delete('client', key);
      await backend.drop?.(direct);
      await direct.close?.();
      for (const storage of opened) await storage.close?.();
    });

    it('rejects an aborted call at once, and the next call after healing works on a new connection', async () => {
      const storage = open(30_000); // only the signal can end the stuck call
      await storage.put('client', 'k', 'v', null);
      const before = proxy.stats.accepted;
      proxy.stall();
      const controller = new AbortController();
      const started = performance.now();
      const stuck = storage.get('client', 'k', { signal: controller.signal });
      setTimeout(() => controller.abort(new Error('the caller gave up')), 200);
      await expect(stuck).rejects.toThrow('the caller gave up');
      expect(performance.now() - started).toBeLessThan(1000);
      proxy.heal();
      expect(await storage.get('client', 'k')).toEqual({ value: 'v', expiresAt: null, consumedAt: null });
      expect(proxy.stats.accepted).toBeGreaterThan(before);
    }, 15_000);

    it('fails a call unanswered for its query timeout, and recovers after healing', async () => {
      const storage = open(500);
      await storage.put('client', 'q', 'v', null);
      proxy.stall();
      const started = performance.now();
      await expect(storage.get('client', 'q')).rejects.toThrow(/did not answer within 500 ms/);
      expect(performance.now() - started).toBeLessThan(2000);
      proxy.heal();
      expect((await storage.get('client', 'q'))?.value).toBe('v');
    }, 15_000);

    it('fails at once when too many calls already wait', async () => {
      const storage = open(800, 2);
      await storage.put('client', 'w', 'v', null);
      // Redis waits for its connection to be ready; SQL calls wait for the pool's one connection.
      if (backend.name === 'Redis') proxy.refuse();
      else proxy.stall();
      const settle = () => new Promise((resolve) => setTimeout(resolve, 100));
      await settle(); // the client has seen the fault
      const calls: Promise<unknown>[] = [];
      const call = () => calls.push(storage.get('client', 'w').catch((error: Error) => error));
      if (backend.name !== 'Redis') {
        call(); // holds the pool's one connection, stuck
        await settle();
      }
      call();
      call();
      await settle();
      const started = performance.now();
      await expect(storage.get('client', 'w')).rejects.toThrow(/already wait/);
      expect(performance.now() - started).toBeLessThan(100);
      await Promise.all(calls);
      proxy.heal();
      await expect
        .poll(
          () =>
            storage.get('client', 'w').then(
              (r) => r?.value,
              () => 'failed',
            ),
          { timeout: 5000 },
        )
        .toBe('v');
    }, 15_000);
  });
}
