import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import type { Storage } from '../storage/types.js';

/** A controllable clock handed to the storage under test. */
export interface TestClock {
  now(): number;
  advance(ms: number): void;
}

/** How the contract suite builds the storage under test. */
export interface StorageContractOptions {
  /** Builds a fresh, empty storage that reads time from `clock.now`. Called before each test. */
  create(clock: TestClock): Promise<Storage> | Storage;
  /** Called after each test with the storage it built (close connections, drop tables…). */
  dispose?(storage: Storage): Promise<void> | void;
  /** Parallel redemptions in the concurrency tests; default 50. */
  concurrency?: number;
  /**
   * `false` for a storage without the optional `list` (management then refuses with a clear error);
   * by default the suite requires `list` and proves it.
   */
  listing?: boolean;
}

const START = Date.UTC(2030, 0, 1);

/**
 * The storage contract every Portcullis storage must pass: TTLs, replace semantics, single-use
 * `consume` (also under 50 parallel redemptions) and atomic counters. Call it inside a vitest file:
 *
 * ```ts
 * import { storageContract } from '@portcullis/core/testkit';
 * storageContract('my storage', { create: (clock) => new MyStorage({ now: clock.now }) });
 * ```
 */
export function storageContract(name: string, options: StorageContractOptions): void {
  describe(`storage contract: ${name}`, () => {
    let time = START;
    const clock: TestClock = { now: () => time, advance: (ms) => (time += ms) };
    let storage: Storage;
    const built: Storage[] = [];
    let n = 0;
    const key = (label: string) => `${label}-${Date.now().toString(36)}-${n++}`;

    beforeEach(async () => {
      time = START;
      storage = await options.create(clock);
      built.push(storage);
    });
    afterAll(async () => {
      for (const s of built) await options.dispose?.(s);
    });

    it('declares whether it is atomic', () => {
      expect(typeof storage.capabilities.atomic).toBe('boolean');
    });

    it('returns null for a missing record', async () => {
      expect(await storage.get('client', key('missing'))).toBeNull();
    });

    it('stores and reads back a value with its expiry', async () => {
      const k = key('put');
      await storage.put('client', k, '{"a":1}', null);
      expect(await storage.get('client', k)).toEqual({ value: '{"a":1}', expiresAt: null, consumedAt: null });
      const k2 = key('ttl');
      await storage.put('access', k2, 'v', time + 1000);
      expect(await storage.get('access', k2)).toEqual({
        value: 'v',
        expiresAt: time + 1000,
        consumedAt: null,
      });
    });

    it('keeps kinds apart', async () => {
      const k = key('kinds');
      await storage.put('access', k, 'a', null);
      await storage.put('refresh', k, 'r', null);
      expect((await storage.get('access', k))?.value).toBe('a');
      expect((await storage.get('refresh', k))?.value).toBe('r');
      await storage.delete('access', k);
      expect(await storage.get('access', k)).toBeNull();
      expect((await storage.get('refresh', k))?.value).toBe('r');
    });

    it('round-trips values with unicode, quotes and large sizes', async () => {
      const k = key('unicode');
      const value = JSON.stringify({ s: 'ünïcødé ✓ "quoted" \\ \n', big: 'x'.repeat(64 * 1024) });
      await storage.put('grant', k, value, null);
      expect((await storage.get('grant', k))?.value).toBe(value);
    });

    it('replaces a record on put, clearing its consumed mark', async () => {
      const k = key('replace');
      await storage.put('code', k, 'one', time + 60_000);
      expect((await storage.consume('code', k, time)).status).toBe('consumed');
      await storage.put('code', k, 'two', time + 60_000);
      expect(await storage.get('code', k)).toEqual({
        value: 'two',
        expiresAt: time + 60_000,
        consumedAt: null,
      });
    });

    it('never returns an expired record', async () => {
      const k = key('expire');
      await storage.put('code', k, 'v', time + 1000);
      clock.advance(999);
      expect((await storage.get('code', k))?.value).toBe('v');
      clock.advance(1);
      expect(await storage.get('code', k)).toBeNull();
      expect((await storage.consume('code', k, time)).status).toBe('missing');
    });

    it('deletes, and deleting a missing record is fine', async () => {
      const k = key('delete');
      await storage.put('grant', k, 'v', null);
      await storage.delete('grant', k);
      expect(await storage.get('grant', k)).toBeNull();
      await expect(storage.delete('grant', key('never'))).resolves.toBeUndefined();
    });

    it('consumes once, then reports the replay with the value and time', async () => {
      const k = key('consume');
      await storage.put('code', k, 'payload', time + 60_000);
      expect(await storage.consume('code', k, time)).toEqual({ status: 'consumed', value: 'payload' });
      const later = time + 5;
      expect(await storage.consume('code', k, later)).toEqual({
        status: 'already_consumed',
        value: 'payload',
        consumedAt: time,
      });
      expect((await storage.get('code', k))?.consumedAt).toBe(time);
    });

    it('reports missing when consuming an unknown key', async () => {
      expect(await storage.consume('refresh', key('unknown'), time)).toEqual({ status: 'missing' });
    });

    it('lets exactly one of many parallel consumers win', async () => {
      const parallel = options.concurrency ?? 50;
      const k = key('race');
      await storage.put('code', k, 'once', time + 60_000);
      const results = await Promise.all(
        Array.from({ length: parallel }, () => storage.consume('code', k, time)),
      );
      expect(results.filter((r) => r.status === 'consumed')).toHaveLength(1);
      expect(results.filter((r) => r.status === 'already_consumed')).toHaveLength(parallel - 1);
    });

    it('counts atomically and starts over after expiry', async () => {
      const k = key('counter');
      const parallel = options.concurrency ?? 50;
      const values = await Promise.all(
        Array.from({ length: parallel }, () => storage.increment('counter', k, time + 1000)),
      );
      expect([...values].sort((a, b) => a - b)).toEqual(Array.from({ length: parallel }, (_, i) => i + 1));
      clock.advance(1000);
      expect(await storage.increment('counter', k, time + 1000)).toBe(1);
    });

    it('keeps a counter expiry when incrementing', async () => {
      const k = key('counter-ttl');
      await storage.increment('counter', k, time + 1000);
      clock.advance(500);
      expect(await storage.increment('counter', k, time + 10_000)).toBe(2);
      clock.advance(500);
      expect(await storage.increment('counter', k, time + 1000)).toBe(1);
    });

    it('works the same when every call carries the core call options (a signal that never aborts)', async () => {
      const o = { signal: new AbortController().signal };
      const k = key('options');
      await storage.put('code', k, 'with-options', time + 60_000, o);
      expect(await storage.get('code', k, o)).toEqual({
        value: 'with-options',
        expiresAt: time + 60_000,
        consumedAt: null,
      });
      expect(await storage.consume('code', k, time, o)).toEqual({
        status: 'consumed',
        value: 'with-options',
      });
      expect((await storage.consume('code', k, time + 1, o)).status).toBe('already_consumed');
      expect(await storage.increment('counter', k, time + 1000, o)).toBe(1);
      await storage.delete('code', k, o);
      expect(await storage.get('code', k, o)).toBeNull();
    });

    it('lists the live records of one kind by key prefix, page by page', async () => {
      if (options.listing === false) {
        expect(storage.list).toBeUndefined();
        return;
      }
      expect(typeof storage.list).toBe('function');
      const list = storage.list!.bind(storage);
      const base = key('list');
      const keys = Array.from({ length: 7 }, (_, i) => `${base}:${String(i).padStart(2, '0')}`);
      for (const k of keys) await storage.put('grant', k, `v-${k}`, time + 60_000);
      await storage.put('grant', `${base}:gone`, 'v', time + 10);
      await storage.put('client', `${base}:other-kind`, 'v', null);
      await storage.put('grant', `${base}x-outside`, 'v', null);
      clock.advance(20);
      const seen = new Map<string, string>();
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await list('grant', { prefix: `${base}:`, limit: 3, ...(cursor ? { cursor } : {}) });
        expect(page.records.length).toBeLessThanOrEqual(3);
        for (const r of page.records) {
          seen.set(r.key, r.value);
          expect(r.expiresAt).toBe(time - 20 + 60_000);
          expect(r.consumedAt).toBeNull();
        }
        cursor = page.cursor ?? undefined;
        pages++;
      } while (cursor && pages < 20);
      expect([...seen.keys()].sort()).toEqual(keys);
      expect(seen.get(keys[0]!)).toBe(`v-${keys[0]}`);
      expect(pages).toBeGreaterThanOrEqual(1);
      const none = await list('grant', { prefix: `${base}:nothing-here:` });
      expect(none).toEqual({ records: [], cursor: null });
    });

    it('lists a consumed record with its consumed mark', async () => {
      if (options.listing === false) return;
      const k = key('list-consumed');
      await storage.put('code', k, 'once', time + 60_000);
      await storage.consume('code', k, time);
      const page = await storage.list!('code', { prefix: k });
      expect(page.records).toEqual([{ key: k, value: 'once', expiresAt: time + 60_000, consumedAt: time }]);
    });

    it('removes expired records in housekeeping when it supports it', async () => {
      if (!storage.deleteExpired) return;
      const k = key('sweep');
      await storage.put('access', k, 'v', time + 10);
      await storage.put('client', `${k}-keep`, 'v', null);
      clock.advance(20);
      const removed = await storage.deleteExpired(time);
      expect(removed).toBeGreaterThanOrEqual(1);
      expect(await storage.get('access', k)).toBeNull();
      expect((await storage.get('client', `${k}-keep`))?.value).toBe('v');
    });
  });
}
