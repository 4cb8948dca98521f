import { storageContract } from '@portcullis/core/testkit';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { redisStorage } from '../src/index.js';

const url = process.env.REDIS_URL;
const required = process.env.PORTCULLIS_REQUIRE_SERVICES === '1';
const run = `pc-test-${process.pid}-${Date.now().toString(36)}`;

if (!url) {
  describe('redis storage', () => {
    if (required) {
      it('needs REDIS_URL (PORTCULLIS_REQUIRE_SERVICES=1)', () => {
        expect.fail('REDIS_URL is not set but PORTCULLIS_REQUIRE_SERVICES=1');
      });
    } else {
      it.skip('runs when REDIS_URL is set', () => {});
    }
  });
} else {
  const client = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 2 });
  let n = 0;
  afterAll(async () => {
    const keys = await client.keys(`${run}:*`);
    if (keys.length > 0) await client.del(...keys);
    await client.quit();
  });

  storageContract('kv: redis', {
    create: (clock) => redisStorage({ client, prefix: `${run}:${n++}:`, now: clock.now }),
  });

  storageContract('kv: redis (own client from a URL)', {
    create: (clock) => redisStorage({ url, prefix: `${run}:${n++}:`, now: clock.now }),
    dispose: (storage) => storage.close?.(),
  });

  describe('redis storage specifics', () => {
    it('lets Redis expire records itself (TTL set, after a slack)', async () => {
      const prefix = `${run}:ttl:`;
      const storage = redisStorage({ client, prefix, expirySlackMs: 1000 });
      await storage.put('access', 'k', 'v', Date.now() + 10_000);
      const pttl = await client.pttl(`${prefix}access:k`);
      expect(pttl).toBeGreaterThan(9_000);
      expect(pttl).toBeLessThanOrEqual(11_000);
      await storage.put('client', 'k', 'v', null);
      expect(await client.pttl(`${prefix}client:k`)).toBe(-1);
      expect(storage.deleteExpired).toBeUndefined();
    });

    it('is atomic across separate connections', async () => {
      const prefix = `${run}:multi:`;
      const others = Array.from({ length: 5 }, () => new Redis(url));
      try {
        const storages = others.map((c) => redisStorage({ client: c, prefix }));
        const now = Date.now();
        await storages[0]!.put('refresh', 'r', 'token', now + 60_000);
        const results = await Promise.all(
          Array.from({ length: 50 }, (_, i) => storages[i % 5]!.consume('refresh', 'r', now)),
        );
        expect(results.filter((r) => r.status === 'consumed')).toHaveLength(1);
        expect(storages[0]!.capabilities.atomic).toBe(true);
      } finally {
        await Promise.all(others.map((c) => c.quit()));
      }
    });

    it('recovers when Redis lost its script cache', async () => {
      const storage = redisStorage({ client, prefix: `${run}:flush:` });
      expect(await storage.increment('counter', 'c', Date.now() + 60_000)).toBe(1);
      await client.script('FLUSH');
      expect(await storage.increment('counter', 'c', Date.now() + 60_000)).toBe(2);
    });
  });
}
