#!/usr/bin/env node
/**
 * `pnpm bench`: load-tests Portcullis on 127.0.0.1 against a raw node:http baseline measured in the
 * same run, prints a table and writes bench/results.json. See bench/README.md.
 *
 * Environment: BENCH_SECONDS (per scenario, default 10), BENCH_ROUNDS (interleaved rounds the seconds
 * are split into, default floor(seconds / 2) capped at 5), BENCH_CONNECTIONS (autocannon, default 32),
 * BENCH_FLOW_CONCURRENCY (default 10), BENCH_LATENCY_REQUESTS (unloaded proxy latency probe, default
 * 2000 per target), BENCH_ONLY (comma-separated scenario ids).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { aggregate } from './lib/aggregate.mjs';
import { startServer, stopAll } from './lib/children.mjs';
import { runFlow } from './lib/flow.mjs';
import { addedLatency } from './lib/latency.mjs';
import { flowTest, loadTest } from './lib/load.mjs';
import { workerBundleSize } from './lib/size.mjs';
import { formatTable } from './lib/table.mjs';

const positive = (name, fallback) => {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0)
    throw new Error(`${name} must be a positive number, got "${raw}"`);
  return value;
};

const SECONDS = positive('BENCH_SECONDS', 10);
const WARMUP = Math.min(2, Math.max(0.5, SECONDS / 5));
const ROUNDS = Math.round(positive('BENCH_ROUNDS', Math.min(5, Math.max(1, Math.floor(SECONDS / 2)))));
const CONNECTIONS = Math.round(positive('BENCH_CONNECTIONS', 32));
const FLOW_CONCURRENCY = Math.round(positive('BENCH_FLOW_CONCURRENCY', 10));
const LATENCY_REQUESTS = Math.round(positive('BENCH_LATENCY_REQUESTS', 2000));
const ONLY = process.env.BENCH_ONLY ? new Set(process.env.BENCH_ONLY.split(',').map((s) => s.trim())) : null;
const PIN = 'bench-pin-4242';
const RESULTS = fileURLToPath(new URL('./results.json', import.meta.url));

const PING = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' });
const TOOLS_LIST = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} });
const JSON_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
const bearer = (token) => ({ ...JSON_HEADERS, authorization: `Bearer ${token}` });

/**
 * The scenarios, in run order. `target(servers)` gives the request; `vs` names the scenario this one
 * is best compared with (besides the baseline).
 */
const SCENARIOS = [
  { id: 'baseline', title: '(1) raw node:http, no auth', target: (s) => ({ url: `${s.upstream.url}/` }) },
  {
    id: 'adapter-noop',
    title: '(1b) adapter-node no-op, no auth',
    target: (s) => ({ url: `${s.adapter.url}/` }),
  },
  {
    id: 'hono-noop',
    title: '(1c) Hono node-server no-op, no auth',
    target: (s) => ({ url: `${s.hono.url}/` }),
  },
  {
    id: 'portcullis-memory',
    title: '(2) authenticate + no-op, MemoryStorage',
    vs: 'sdk-express-bearer',
    target: (s) => ({ url: `${s.memory.url}/mcp`, headers: bearer(s.memory.token) }),
  },
  {
    id: 'portcullis-memory-cached',
    title: '(2) same, with tokenCache (2 s)',
    vs: 'portcullis-memory',
    target: (s) => ({ url: `${s.memory.url}/mcp/cached`, headers: bearer(s.memory.token) }),
  },
  {
    id: 'portcullis-sqlite-cached',
    title: '(2) SQLite file, with tokenCache (2 s)',
    vs: 'portcullis-sqlite',
    target: (s) => ({ url: `${s.sqlite.url}/mcp/cached`, headers: bearer(s.sqlite.token) }),
  },
  {
    id: 'portcullis-sqlite',
    title: '(2) authenticate + no-op, SQLite file',
    vs: 'portcullis-memory',
    target: (s) => ({ url: `${s.sqlite.url}/mcp`, headers: bearer(s.sqlite.token) }),
  },
  {
    id: 'portcullis-mcp-sdk',
    title: '(2b) protectMcpServer tools/list, Memory',
    vs: 'portcullis-memory',
    target: (s) => ({
      url: `${s.memory.url}/mcp/sdk`,
      headers: bearer(s.memory.token),
      body: TOOLS_LIST,
      expect: '"tools"',
    }),
  },
  {
    id: 'sdk-express-bearer',
    title: '(3) SDK requireBearerAuth on Express',
    target: (s) => ({ url: `${s.express.url}/mcp`, headers: bearer(s.memory.token) }),
  },
  {
    id: 'portcullis-proxy',
    title: '(4) mcpProxy, static token, Memory',
    vs: 'plain-proxy',
    target: (s) => ({ url: `${s.memory.url}/mcp/proxy`, headers: bearer(s.memory.token) }),
  },
  {
    id: 'portcullis-proxy-cached',
    title: '(4) same, with tokenCache (2 s)',
    vs: 'plain-proxy',
    target: (s) => ({ url: `${s.memory.url}/mcp/proxy-cached`, headers: bearer(s.memory.token) }),
  },
  {
    id: 'plain-proxy',
    title: '(4) plain node:http proxy, no auth',
    target: (s) => ({ url: `${s.plainProxy.url}/`, headers: bearer('ignored') }),
  },
  {
    id: 'fetch-proxy',
    title: '(4b) adapter + fetch() proxy, no auth',
    vs: 'plain-proxy',
    target: (s) => ({ url: `${s.memory.url}/fetch-proxy`, headers: bearer('ignored') }),
  },
  { id: 'flows-memory', title: '(5) OAuth flows/s, MemoryStorage', flows: (s) => s.memory.url },
  { id: 'flows-sqlite', title: '(5) OAuth flows/s, SQLite file', flows: (s) => s.sqlite.url },
];

const selected = SCENARIOS.filter((s) => !ONLY || ONLY.has(s.id) || s.id === 'baseline');
const selectedIds = new Set(selected.map((s) => s.id));

async function startServers(tmp) {
  const upstream = await startServer('upstream');
  const env = { BENCH_UPSTREAM: upstream.url, BENCH_PIN: PIN };
  const [memory, sqlite, plainProxy, hono, adapter] = await Promise.all([
    startServer('portcullis', { ...env, BENCH_STORAGE: 'memory' }),
    startServer('portcullis', { ...env, BENCH_STORAGE: 'sqlite', BENCH_SQLITE_FILE: join(tmp, 'bench.db') }),
    startServer('plain-proxy', env),
    startServer('hono'),
    startServer('adapter'),
  ]);
  // Real tokens, from real flows, before any load starts.
  memory.token = (await runFlow(memory.url, PIN)).access_token;
  sqlite.token = (await runFlow(sqlite.url, PIN)).access_token;
  // The SDK verifier knows the same token string, so scenario (3) sends the very same requests.
  const express = await startServer('sdk-express', { BENCH_TOKEN: memory.token });
  return { upstream, memory, sqlite, plainProxy, express, hono, adapter };
}

async function measure(scenario, servers, seconds, warmup) {
  if (scenario.flows) {
    return flowTest({
      issuer: scenario.flows(servers),
      pin: PIN,
      seconds,
      warmup,
      concurrency: FLOW_CONCURRENCY,
    });
  }
  const target = scenario.target(servers);
  return loadTest({
    body: PING,
    headers: JSON_HEADERS,
    expect: '"result"',
    ...target,
    seconds,
    warmup,
    connections: CONNECTIONS,
  });
}

async function main() {
  const estimate = selected.length * (SECONDS + WARMUP + ROUNDS) + 120;
  const deadline = setTimeout(() => {
    process.stderr.write(`bench: still running after ${Math.round(estimate)} s, giving up\n`);
    stopAll(1000).finally(() => process.exit(1));
  }, estimate * 1000);
  deadline.unref();

  const tmp = mkdtempSync(join(tmpdir(), 'portcullis-bench-'));
  // Also on SIGINT/SIGTERM, whose handler (lib/children.mjs) exits without unwinding this function.
  process.once('exit', () => rmSync(tmp, { recursive: true, force: true }));
  // samples[round][scenario id] = a measurement or { error }.
  const samples = [];
  let bundle = null;
  let proxyLatency = null;
  try {
    process.stderr.write(
      `bench: ${SECONDS} s per scenario in ${ROUNDS} interleaved round(s) (+${WARMUP} s warm-up), ` +
        `${CONNECTIONS} connections, flow concurrency ${FLOW_CONCURRENCY}; starting servers...\n`,
    );
    const servers = await startServers(tmp);
    const failed = new Set();
    for (let round = 0; round < ROUNDS; round++) {
      const sample = {};
      samples.push(sample);
      for (const scenario of selected) {
        if (failed.has(scenario.id)) continue;
        process.stderr.write(`bench: round ${round + 1}/${ROUNDS} ${scenario.id}...\n`);
        try {
          sample[scenario.id] = await measure(scenario, servers, SECONDS / ROUNDS, round === 0 ? WARMUP : 0);
        } catch (error) {
          failed.add(scenario.id);
          sample[scenario.id] = { error: error instanceof Error ? error.message : String(error) };
        }
      }
    }
    if (selectedIds.has('portcullis-proxy') && selectedIds.has('plain-proxy')) {
      process.stderr.write('bench: added latency of mcpProxy over the plain proxy, unloaded...\n');
      const proxy = SCENARIOS.find((s) => s.id === 'portcullis-proxy').target(servers);
      const plain = SCENARIOS.find((s) => s.id === 'plain-proxy').target(servers);
      try {
        proxyLatency = await addedLatency(
          { headers: JSON_HEADERS, body: PING, ...proxy },
          { headers: JSON_HEADERS, body: PING, ...plain },
          LATENCY_REQUESTS,
        );
      } catch (error) {
        proxyLatency = { error: error instanceof Error ? error.message : String(error) };
      }
    }
    try {
      bundle = await workerBundleSize();
    } catch (error) {
      bundle = { error: error instanceof Error ? error.message : String(error) };
    }
  } finally {
    await stopAll();
    rmSync(tmp, { recursive: true, force: true });
  }

  const scenarios = aggregate(selected, samples, round);
  const results = {
    date: new Date().toISOString(),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: availableParallelism(),
    loadavgBefore: LOAD_BEFORE,
    loadavgAfter: loadavg().map((l) => round(l, 2)),
    settings: {
      seconds: SECONDS,
      rounds: ROUNDS,
      warmupSeconds: WARMUP,
      connections: CONNECTIONS,
      flowConcurrency: FLOW_CONCURRENCY,
    },
    scenarios,
    proxyLatency,
    workerBundle: bundle,
  };
  writeFileSync(RESULTS, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(`${formatTable(results)}\nwritten: bench/results.json\n`);
  const failed = scenarios.filter((s) => s.error);
  if (failed.length > 0) {
    process.stderr.write(
      `bench: ${failed.length} scenario(s) failed: ${failed.map((s) => s.id).join(', ')}\n`,
    );
    process.exitCode = 1;
  }
}

const round = (value, digits) => Math.round(value * 10 ** digits) / 10 ** digits;
const LOAD_BEFORE = loadavg().map((l) => round(l, 2));

main().catch(async (error) => {
  process.stderr.write(`bench: ${error instanceof Error ? error.stack : String(error)}\n`);
  await stopAll(1000);
  process.exit(1);
});
