/**
 * The store-fault suite, run once per store (postgres.test.ts, redis.test.ts): a real gateway in a
 * child process talks to the store through a {@link FaultProxy}; the proxy drops idle connections,
 * black-holes every connection, then refuses them (store down), and heals. Checked every time: the
 * process never exits; every answer during a fault is a 503 with `Retry-After`, within the storage
 * timeout plus a small bound; the gateway recovers by itself within seconds of healing; its heap after
 * GC does not grow with requests during the outage.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FaultProxy, startFaultProxy } from '../support/fault-proxy.js';
import {
  authorizeUrl,
  type ClientTokens,
  obtainTokens,
  openPinForm,
  protectedRequest,
  refreshRequest,
  registerRequest,
  send,
  submitPin,
  type TimedResponse,
} from '../support/gateway-client.js';
import {
  GATEWAY_PIN,
  type GatewayProcess,
  type GatewayStorageSpec,
  startGatewayProcess,
} from '../support/gateway-process.js';

/** The core's storage timeout in the main gateway, and the store client's own (lower) timeouts. */
export const STORAGE_TIMEOUT_MS = 1500;
const STORE_TIMEOUT_MS = 1000;
/** How much later than the storage timeout a 503 may arrive (HTTP, scheduling, a loaded CI machine). */
const ANSWER_BOUND_MS = 2000;
/** Longer than the store client's timeouts: calls abandoned by the last burst have settled by then. */
const SETTLE_MS = 1500;
/** How soon after healing every route must work again. */
const RECOVERY_BOUND_MS = 5000;
/**
 * Allowed growth of the heap's objects (code spaces excluded) per request during the outage, over the
 * {@link WINDOW} requests after the 200th failing one. The unfixed gateway grew about 4 KB per request
 * (1.6 MB over the window); the fixed one stays within warm-up and measurement noise (a few hundred
 * KB over the window, so up to about 1 KB per request).
 */
const HEAP_BYTES_PER_REQUEST = 2048;
const WINDOW = 400;

/** One store under test. */
export interface FaultTarget {
  readonly name: string;
  /** Where the real store listens. */
  readonly store: { readonly host: string; readonly port: number };
  /** The gateway's storage, given the proxy port; `fast` sets the store client's timeouts low. */
  storage(proxyPort: number, fast: boolean): GatewayStorageSpec;
  /** Removes what the runs stored (tables, keys). */
  cleanup(): Promise<void>;
}

/** The options that lower a store client's timeouts (both storages accept them; each reads its own). */
export const fastTimeouts = {
  queryTimeoutMs: STORE_TIMEOUT_MS,
  commandTimeoutMs: STORE_TIMEOUT_MS,
  connectTimeoutMs: STORE_TIMEOUT_MS,
  statementTimeoutMs: 800,
};

type Route = 'token' | 'protected' | 'register' | 'authorize';
const ROUTES: readonly Route[] = ['token', 'protected', 'register', 'authorize'];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `count` requests, `concurrency` at a time, cycling through the routes; returns every answer. */
async function burst(
  call: (route: Route) => Promise<TimedResponse>,
  count: number,
  concurrency: number,
): Promise<{ route: Route; response: TimedResponse }[]> {
  const results: { route: Route; response: TimedResponse }[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const route = ROUTES[next++ % ROUTES.length]!;
        results.push({ route, response: await call(route) });
      }
    }),
  );
  return results;
}

/** Every answer is a 503 with a `Retry-After` of whole seconds, in time; returns the slowest time. */
function expectUnavailable(results: { route: Route; response: TimedResponse }[], timeoutMs: number): number {
  let slowest = 0;
  for (const { route, response } of results) {
    const summary = `${route}: ${response.status} after ${Math.round(response.ms)} ms`;
    expect(response.status, summary).toBe(503);
    expect(response.headers['retry-after'], summary).toMatch(/^\d+$/);
    // Browsers navigate to the page routes: their errors are pages, the others JSON.
    expect(response.headers['content-type'], summary).toMatch(
      route === 'authorize' ? /^text\/html/ : /^application\/json/,
    );
    expect(response.ms, summary).toBeLessThanOrEqual(timeoutMs + ANSWER_BOUND_MS);
    slowest = Math.max(slowest, response.ms);
  }
  return slowest;
}

/** Defines the suite for one store. */
export function faultSuite(target: FaultTarget): void {
  describe(`store faults on ${target.name}`, () => {
    let proxy: FaultProxy;
    let gateway: GatewayProcess;
    let tokens: ClientTokens;
    let clientId: string;

    const call = (gw: GatewayProcess) => async (route: Route) => {
      switch (route) {
        case 'token':
          return refreshRequest(gw.url, tokens.clientId, tokens.refreshToken);
        case 'protected':
          return protectedRequest(gw.url, tokens.accessToken);
        case 'register':
          return registerRequest(gw.url);
        case 'authorize':
          return send(await authorizeUrl(gw.url, clientId));
      }
    };

    /** Polls until every route works again; returns how long that took after `since`. */
    async function recovery(gw: GatewayProcess, since: number): Promise<number> {
      for (;;) {
        const registered = await registerRequest(gw.url);
        if (registered.status === 201) break;
        expect(registered.status, 'while recovering').toBe(503);
        if (performance.now() - since > RECOVERY_BOUND_MS) break;
        await sleep(50);
      }
      const page = await send(await authorizeUrl(gw.url, clientId));
      const resource = await protectedRequest(gw.url, tokens.accessToken);
      const refreshed = await refreshRequest(gw.url, tokens.clientId, tokens.refreshToken);
      const elapsed = performance.now() - since;
      const why = (response: TimedResponse) =>
        `${response.body.slice(0, 200)} after ${Math.round(response.ms)} ms; gateway: ${gw.output().slice(-600)}`;
      expect(page.status, why(page)).toBe(200);
      expect(resource.status, why(resource)).toBe(200);
      expect(refreshed.status, why(refreshed)).toBe(200);
      const body = JSON.parse(refreshed.body) as { access_token: string; refresh_token: string };
      tokens = {
        clientId: tokens.clientId,
        accessToken: body.access_token,
        refreshToken: body.refresh_token,
      };
      return elapsed;
    }

    const expectAlive = (gw: GatewayProcess) => expect(gw.alive(), gw.output()).toBe(true);

    beforeAll(async () => {
      proxy = await startFaultProxy(target.store);
      gateway = await startGatewayProcess({
        storage: target.storage(proxy.port, true),
        storageTimeoutMs: STORAGE_TIMEOUT_MS,
      });
      tokens = await obtainTokens(gateway.url, GATEWAY_PIN);
      clientId = tokens.clientId;
    }, 30_000);

    afterAll(async () => {
      await gateway?.stop();
      await proxy?.close();
      await target.cleanup();
    }, 20_000);

    it('survives idle store connections being dropped, and the next request works', async () => {
      await sleep(200); // every pooled connection is idle now
      expect(proxy.cutIdle(100)).toBeGreaterThan(0);
      await sleep(300);
      expectAlive(gateway);
      expect((await registerRequest(gateway.url)).status).toBe(201);
      expect((await protectedRequest(gateway.url, tokens.accessToken)).status).toBe(200);
      expectAlive(gateway);
    }, 15_000);

    it('answers 503 with Retry-After within the storage timeout while the store is black-holed, and recovers after', async () => {
      const pinForms = await Promise.all(Array.from({ length: 4 }, () => openPinForm(gateway.url, clientId)));
      proxy.stall();
      const [results, pins] = await Promise.all([
        burst(call(gateway), 80, 40),
        Promise.all(pinForms.map((form) => submitPin(form, GATEWAY_PIN))),
      ]);
      const slowest = expectUnavailable(results, STORAGE_TIMEOUT_MS);
      // The PIN page is an upstream route: its 503 is a page, with Retry-After too.
      expectUnavailable(
        pins.map((response) => ({ route: 'authorize' as const, response })),
        STORAGE_TIMEOUT_MS,
      );
      expectAlive(gateway);
      proxy.heal();
      const recovered = await recovery(gateway, performance.now());
      expect(recovered).toBeLessThanOrEqual(RECOVERY_BOUND_MS);
      console.info(
        `${target.name} black hole: ${results.length} answers, all 503 + Retry-After, slowest ${Math.round(slowest)} ms; recovered ${Math.round(recovered)} ms after healing`,
      );
    }, 30_000);

    it('keeps its heap flat while requests keep failing during an outage', async () => {
      proxy.stall();
      const first = await burst(call(gateway), 200, 60);
      expectUnavailable(first, STORAGE_TIMEOUT_MS);
      await sleep(SETTLE_MS);
      const after200 = await gateway.heap();
      const rest = await burst(call(gateway), WINDOW, 60);
      expectUnavailable(rest, STORAGE_TIMEOUT_MS);
      await sleep(SETTLE_MS);
      const afterWindow = await gateway.heap();
      expectAlive(gateway);
      const kb = (bytes: number) => `${Math.round(bytes / 1024)} KB`;
      const growth = afterWindow.data - after200.data;
      console.info(
        `${target.name} heap after GC without code: ${kb(after200.data)} after 200 failing requests, ${kb(afterWindow.data)} after ${200 + WINDOW} (${Math.round(growth / WINDOW)} B per request); with code: ${kb(after200.heapUsed)} -> ${kb(afterWindow.heapUsed)}`,
      );
      expect(growth).toBeLessThan(WINDOW * HEAP_BYTES_PER_REQUEST);
      proxy.heal();
      expect(await recovery(gateway, performance.now())).toBeLessThanOrEqual(RECOVERY_BOUND_MS);
    }, 60_000);

    it('answers 503 with Retry-After at once while the store refuses connections, and recovers after', async () => {
      proxy.refuse();
      const results = await burst(call(gateway), 80, 40);
      const slowest = expectUnavailable(results, STORAGE_TIMEOUT_MS);
      expectAlive(gateway);
      proxy.heal();
      const recovered = await recovery(gateway, performance.now());
      expect(recovered).toBeLessThanOrEqual(RECOVERY_BOUND_MS);
      console.info(
        `${target.name} refused: ${results.length} answers, all 503 + Retry-After, slowest ${Math.round(slowest)} ms; recovered ${Math.round(recovered)} ms after healing`,
      );
    }, 30_000);

    it('with default timeouts, gives up on a black-holed store before the core does (8000 ms) and recovers', async () => {
      const defaults = await startGatewayProcess({ storage: target.storage(proxy.port, false) });
      try {
        const own = await obtainTokens(defaults.url, GATEWAY_PIN);
        const saved = tokens;
        tokens = own;
        try {
          proxy.stall();
          const results = await burst(call(defaults), 24, 24);
          const slowest = expectUnavailable(results, 8000);
          expect(slowest).toBeLessThan(8000);
          expectAlive(defaults);
          proxy.heal();
          const recovered = await recovery(defaults, performance.now());
          expect(recovered).toBeLessThanOrEqual(RECOVERY_BOUND_MS * 2);
          console.info(
            `${target.name} defaults, black hole: slowest 503 after ${Math.round(slowest)} ms; recovered ${Math.round(recovered)} ms after healing`,
          );
        } finally {
          tokens = saved;
        }
      } finally {
        proxy.heal();
        await defaults.stop();
      }
    }, 45_000);

    it('never exited', () => {
      expectAlive(gateway);
    });
  });
}
