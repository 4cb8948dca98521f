/**
 * Liveness and readiness of a real `portcullis` process whose store sits behind a fault proxy:
 * readiness turns unready when the store stops answering and ready again by itself once it is back.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { pg } from '../../../test/support/deps.js';
import { type FaultProxy, startFaultProxy } from '../../../test/support/fault-proxy.js';
import { send } from '../../../test/support/gateway-client.js';
import { type CliProcess, freePort, spawnCli } from './helpers/spawn.js';

const POSTGRES_URL = process.env.POSTGRES_URL;
const REDIS_URL = process.env.REDIS_URL;

/** Polls until `check` holds or `ms` pass; returns how long it took. */
async function eventually(check: () => Promise<boolean>, ms: number): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < ms) {
    if (await check()) return Date.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`not within ${ms} ms`);
}

const stores = [
  { name: 'PostgreSQL', url: POSTGRES_URL, fault: 'stall' as const },
  { name: 'Redis', url: REDIS_URL, fault: 'refuse' as const },
];

// A fresh machine runs without the services; CI (PORTCULLIS_REQUIRE_SERVICES=1) must have them.
describe('the suite has its services', () => {
  it.runIf(process.env.PORTCULLIS_REQUIRE_SERVICES === '1')('has POSTGRES_URL and REDIS_URL', () => {
    expect(POSTGRES_URL && REDIS_URL, 'export POSTGRES_URL and REDIS_URL').toBeTruthy();
  });
});

for (const store of stores.filter((s) => s.url)) {
  describe(`readiness over ${store.name} behind a fault proxy`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-health-'));
    const prefix = `ops_health_${process.pid}_${Date.now().toString(36)}_`;
    let proxy: FaultProxy | undefined;
    let cli: CliProcess | undefined;
    afterAll(async () => {
      await cli?.stop();
      await proxy?.close();
      if (store.name === 'PostgreSQL') {
        const client = new pg.Client({ connectionString: POSTGRES_URL });
        await client.connect();
        await client.query(`DROP TABLE IF EXISTS ${prefix}records, ${prefix}migrations`);
        await client.end();
      }
      rmSync(dir, { recursive: true, force: true });
    });

    it(`goes unready when the store ${store.fault === 'stall' ? 'stops answering' : 'is down'}, and ready again by itself`, async () => {
      const target = new URL(store.url as string);
      proxy = await startFaultProxy({ host: target.hostname, port: Number(target.port) });
      const proxied = new URL(target);
      proxied.port = String(proxy.port);
      const port = await freePort();
      const url = `http://127.0.0.1:${port}`;
      cli = spawnCli(
        [],
        {
          PORT: String(port),
          STORAGE_URL: proxied.toString(),
          STORAGE_PREFIX: store.name === 'Redis' ? prefix.replace(/_$/, ':') : prefix,
          STORAGE_TIMEOUT_MS: '1500',
          PORTCULLIS_SECRET: 'health-suite-secret-0123456789-abcdefghijkl',
          PORTCULLIS_PIN: '2468013579',
          LOG_EVENTS: 'false',
        },
        dir,
      );
      await cli.waitFor(/ready/);
      const ready = async () => (await send(`${url}/readyz`, { timeoutMs: 10_000 })).status;
      expect((await send(`${url}/healthz`)).status).toBe(200);
      expect(await ready()).toBe(200);

      if (store.fault === 'stall') proxy.stall();
      else proxy.refuse();
      const unready = await send(`${url}/readyz`, { timeoutMs: 10_000 });
      expect(unready.status).toBe(503);
      expect(JSON.parse(unready.body)).toEqual({ status: 'unready', reason: 'storage unavailable' });
      // The readiness probe answers within its own timeout (2 s at most), never hangs.
      expect(unready.ms).toBeLessThan(4000);
      // Liveness does not depend on the store: the process is alive, only not ready.
      expect((await send(`${url}/healthz`)).status).toBe(200);

      proxy.heal();
      const took = await eventually(async () => (await ready()) === 200, 30_000);
      expect(took).toBeLessThan(30_000);
      expect(cli.child.exitCode).toBeNull();
    }, 90_000);
  });
}
