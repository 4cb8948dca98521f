/**
 * The gateway's Prometheus endpoint scraped from a real `portcullis` process and parsed with an
 * independent exposition-format parser: the counters move as an OAuth flow runs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import parsePrometheusTextFormat, { type ParsedFamily } from 'parse-prometheus-text-format';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { obtainTokens, refreshRequest, send } from '../../../test/support/gateway-client.js';
import { type CliProcess, freePort, spawnCli } from './helpers/spawn.js';

const PIN = '5150251503';
const SECRET = 'metrics-suite-secret-0123456789-abcdefghijkl';

let cli: CliProcess;
let issuer: string;
let metricsUrl: string;
const dir = mkdtempSync(join(tmpdir(), 'portcullis-metrics-'));

beforeAll(async () => {
  const port = await freePort();
  issuer = `http://127.0.0.1:${port}`;
  cli = spawnCli(
    [],
    {
      PORT: String(port),
      STORAGE_URL: join(dir, 'metrics.db'),
      PORTCULLIS_SECRET: SECRET,
      PORTCULLIS_PIN: PIN,
      METRICS_PORT: '0',
      // Every second use of a refresh token is a replay (no reuse interval for retries).
      REUSE_INTERVAL: '0',
      LOG_EVENTS: 'false',
    },
    dir,
  );
  const [, url] = (await cli.waitFor(/Metrics:\s+(\S+)/)) as RegExpMatchArray;
  metricsUrl = url as string;
  await cli.waitFor(/ready/);
}, 60_000);
afterAll(async () => {
  await cli?.stop();
  rmSync(dir, { recursive: true, force: true });
});

interface Scrape {
  readonly families: ParsedFamily[];
  readonly text: string;
}

async function scrape(): Promise<Scrape> {
  const response = await send(metricsUrl);
  expect(response.status).toBe(200);
  expect(String(response.headers['content-type'])).toMatch(/^text\/plain; version=0\.0\.4/);
  return { families: parsePrometheusTextFormat(response.body), text: response.body };
}

/** The value of a counter sample with exactly these labels (0 when the series does not exist yet). */
function counter({ families }: Scrape, name: string, labels: Record<string, string> = {}): number {
  const family = families.find((f) => f.name === name);
  if (!family) return 0;
  expect(family.type).toBe('COUNTER');
  const sample = family.metrics.find((m) => JSON.stringify(m.labels ?? {}) === JSON.stringify(labels));
  return sample?.value === undefined ? 0 : Number(sample.value);
}

/**
 * The observation count of one histogram series. parse-prometheus-text-format folds `_count` and
 * `_sum` only for histograms without labels, so the series' own lines are parsed with its labels
 * (given in exposition order) taken out; `le` stays.
 */
function histogramCount({ families, text }: Scrape, name: string, labels: string): number {
  expect(families.find((f) => f.name === name)?.type).toBe('HISTOGRAM');
  const series = text
    .split('\n')
    .filter((line) =>
      line.startsWith('#') ? line.includes(` ${name} `) : line.startsWith(name) && line.includes(labels),
    )
    .map((line) => line.replace(`,${labels}`, '').replace(`{${labels}}`, '').replace(labels, ''));
  const [family] = parsePrometheusTextFormat(`${series.join('\n')}\n`);
  return Number(family?.metrics[0]?.count ?? 0);
}

describe('Prometheus metrics of a running gateway', () => {
  it('counts flows, tokens by grant type, refusals, replays and storage timings as a flow runs', async () => {
    const before = await scrape();
    expect(before.families.map((f) => f.name)).toContain('portcullis_storage_operation_seconds');

    const tokens = await obtainTokens(issuer, PIN);
    const refreshed = await refreshRequest(issuer, tokens.clientId, tokens.refreshToken);
    expect(refreshed.status).toBe(200);
    const bad = await send(`${issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: 'not-a-code',
        client_id: tokens.clientId,
      }).toString(),
    });
    expect(bad.status).toBe(400);

    const after = await scrape();
    const moved = (name: string, labels: Record<string, string> = {}) =>
      counter(after, name, labels) - counter(before, name, labels);
    expect(moved('portcullis_flows_started_total')).toBe(1);
    expect(moved('portcullis_flows_completed_total')).toBe(1);
    expect(moved('portcullis_clients_registered_total')).toBe(1);
    expect(moved('portcullis_tokens_issued_total', { grant_type: 'authorization_code' })).toBe(1);
    expect(moved('portcullis_tokens_issued_total', { grant_type: 'refresh_token' })).toBe(1);
    expect(moved('portcullis_refusals_total', { error: JSON.parse(bad.body).error })).toBe(1);
    const putGrant = 'operation="put",kind="grant"';
    expect(
      histogramCount(after, 'portcullis_storage_operation_seconds', putGrant) -
        histogramCount(before, 'portcullis_storage_operation_seconds', putGrant),
    ).toBe(1);
    expect(
      histogramCount(after, 'portcullis_storage_operation_seconds', 'operation="consume",kind="code"'),
    ).toBeGreaterThanOrEqual(1);
  }, 120_000);

  it('counts a replayed refresh token, and never exposes a token or the PIN', async () => {
    const tokens = await obtainTokens(issuer, PIN);
    const other = await obtainTokens(issuer, PIN);
    const before = await scrape();
    expect((await refreshRequest(issuer, tokens.clientId, tokens.refreshToken)).status).toBe(200);
    // The same refresh token again: a replay (RFC 9700 §4.14.2), the grant is revoked.
    const replay = await refreshRequest(issuer, tokens.clientId, tokens.refreshToken);
    expect(replay.status).toBe(400);
    const after = await scrape();
    const moved = (name: string, labels: Record<string, string>) =>
      counter(after, name, labels) - counter(before, name, labels);
    expect(moved('portcullis_replays_detected_total', { what: 'refresh_token' })).toBe(1);
    expect(moved('portcullis_refusals_total', { error: 'invalid_grant' })).toBe(1);
    expect(moved('portcullis_grants_revoked_total', {})).toBe(1);
    const text = (await send(metricsUrl)).body;
    for (const secret of [
      tokens.accessToken,
      tokens.refreshToken,
      other.accessToken,
      PIN,
      SECRET,
      tokens.clientId,
    ]) {
      expect(text).not.toContain(secret);
    }
  }, 120_000);

  it('answers 404 for anything but GET /metrics on the metrics listener', async () => {
    expect((await send(metricsUrl.replace('/metrics', '/other'))).status).toBe(404);
    expect((await send(metricsUrl, { method: 'POST' })).status).toBe(404);
  });
});
