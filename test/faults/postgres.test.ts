import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { pg } from '../support/deps.js';
import { fastTimeouts, faultSuite } from './fault-suite.js';

const url = process.env.POSTGRES_URL;
const prefix = `pt_faults_${randomBytes(4).toString('hex')}_`;

if (url) {
  const store = new URL(url);
  faultSuite({
    name: 'PostgreSQL',
    store: { host: store.hostname, port: Number(store.port || 5432) },
    storage(proxyPort, fast) {
      const proxied = new URL(url);
      proxied.hostname = '127.0.0.1';
      proxied.port = String(proxyPort);
      return {
        kind: 'postgres',
        url: proxied.toString(),
        prefix,
        ...(fast ? { options: fastTimeouts } : {}),
      };
    },
    async cleanup() {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        for (const table of ['records', 'migrations'])
          await client.query(`DROP TABLE IF EXISTS ${prefix}${table}`);
      } finally {
        await client.end();
      }
    },
  });
} else {
  describe('store faults on PostgreSQL', () => {
    it.runIf(process.env.PORTCULLIS_REQUIRE_SERVICES === '1')('needs POSTGRES_URL', () => {
      expect.fail('POSTGRES_URL is not set but PORTCULLIS_REQUIRE_SERVICES=1');
    });
    it.skipIf(process.env.PORTCULLIS_REQUIRE_SERVICES === '1')('runs when POSTGRES_URL is set', () => {});
  });
}
