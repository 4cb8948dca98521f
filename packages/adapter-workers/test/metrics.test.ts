/**
 * A Worker's own metrics route (the opt-in `eventCounters` of the core) and the gateway's health
 * routes, run inside workerd; the scrape is parsed with an independent Prometheus text parser.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Miniflare } from 'miniflare';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleWorker, type Dispatch, pinFlow } from './workerd.js';

// The parser is a dev dependency of @portcullis/cli (the package that serves Prometheus on Node).
const parse = createRequire(new URL('../../cli/package.json', import.meta.url))(
  'parse-prometheus-text-format',
) as (
  text: string,
) => { name: string; type: string; metrics: { value?: string; labels?: Record<string, string> }[] }[];

const PIN = 'metrics-pin-4242';
const TOKEN = 'metrics-token-0123456789-abcdefghijklmnop';
const ORIGIN = 'http://localhost:8787';
let mf: Miniflare;
let dispatch: Dispatch;

beforeAll(async () => {
  const script = await bundleWorker(fileURLToPath(new URL('./fixtures/metrics-worker.ts', import.meta.url)));
  mf = new Miniflare({
    modules: true,
    script,
    compatibilityDate: '2025-07-01',
    bindings: {
      AUTH_PIN: PIN,
      PORTCULLIS_SECRET: 'metrics-worker-secret-0123456789abcdef',
      METRICS_TOKEN: TOKEN,
    },
  });
  dispatch = async (url, init) => (await mf.dispatchFetch(url, init as never)) as unknown as Response;
});
afterAll(() => mf?.dispose());

const value = (families: ReturnType<typeof parse>, name: string, labels: Record<string, string> = {}) =>
  Number(
    families
      .find((f) => f.name === name)
      ?.metrics.find((m) => JSON.stringify(m.labels ?? {}) === JSON.stringify(labels))?.value ?? 0,
  );

describe('a Worker with event counters and health routes', () => {
  it('serves counters only with its bearer token, and they move as a flow runs', async () => {
    expect((await dispatch(`${ORIGIN}/metrics`)).status).toBe(401);
    expect(
      (await dispatch(`${ORIGIN}/metrics`, { headers: { authorization: `Bearer ${TOKEN}x` } })).status,
    ).toBe(401);
    const scrape = async () => {
      const response = await dispatch(`${ORIGIN}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      return parse(await response.text());
    };
    const before = await scrape();
    expect(before.find((f) => f.name === 'portcullis_flows_started_total')?.type).toBe('COUNTER');
    const tokens = await pinFlow(dispatch, ORIGIN, PIN);
    const refused = await dispatch(`${ORIGIN}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: 'pcrt_unknown',
        client_id: tokens.clientId,
      }),
    });
    expect(refused.status).toBe(400);
    const after = await scrape();
    const moved = (name: string, labels: Record<string, string> = {}) =>
      value(after, name, labels) - value(before, name, labels);
    expect(moved('portcullis_flows_started_total')).toBe(1);
    expect(moved('portcullis_flows_completed_total')).toBe(1);
    expect(moved('portcullis_clients_registered_total')).toBe(1);
    expect(moved('portcullis_tokens_issued_total', { grant_type: 'authorization_code' })).toBe(1);
    expect(moved('portcullis_refusals_total', { error: 'invalid_grant' })).toBe(1);
    const text = await (
      await dispatch(`${ORIGIN}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })
    ).text();
    for (const secret of [tokens.accessToken, tokens.refreshToken, PIN, tokens.clientId])
      expect(text).not.toContain(secret);
  });

  it('answers liveness and readiness from createGateway', async () => {
    const live = await dispatch(`${ORIGIN}/healthz`);
    expect(live.status).toBe(200);
    const ready = await dispatch(`${ORIGIN}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready' });
  });
});
