import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ioredis } from '../support/deps.js';
import { fastTimeouts, faultSuite } from './fault-suite.js';

const url = process.env.REDIS_URL;
const prefix = `pc-faults-${randomBytes(4).toString('hex')}:`;

if (url) {
  const store = new URL(url);
  faultSuite({
    name: 'Redis',
    store: { host: store.hostname, port: Number(store.port || 6379) },
    storage(proxyPort, fast) {
      const proxied = new URL(url);
      proxied.hostname = '127.0.0.1';
      proxied.port = String(proxyPort);
      return { kind: 'redis', url: proxied.toString(), prefix, ...(fast ? { options: fastTimeouts } : {}) };
    },
    async cleanup() {
      const client = new ioredis.Redis(url);
      try {
        let cursor = '0';
        do {
          const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
          if (keys.length > 0) await client.del(...keys);
          cursor = next;
        } while (cursor !== '0');
      } finally {
        client.disconnect();
      }
    },
  });
} else {
  describe('store faults on Redis', () => {
    it.runIf(process.env.PORTCULLIS_REQUIRE_SERVICES === '1')('needs REDIS_URL', () => {
      expect.fail('REDIS_URL is not set but PORTCULLIS_REQUIRE_SERVICES=1');
    });
    it.skipIf(process.env.PORTCULLIS_REQUIRE_SERVICES === '1')('runs when REDIS_URL is set', () => {});
  });
}
