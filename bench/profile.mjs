#!/usr/bin/env node
/**
 * `node bench/profile.mjs <path> [seconds]`: loads one route of the Portcullis bench server
 * (`/noop`, `/mcp`, `/mcp/cached`, `/mcp/sdk`, `/mcp/proxy`, `/fetch-proxy`) under `node --cpu-prof`
 * and prints where the server's CPU time went: the functions with the most self time, and self time
 * by module. The raw profile is kept in bench/profiles/ (git-ignored) for Chrome DevTools.
 *
 * It also prints the server's CPU time per request (user + system, from /proc), which prices a request
 * even when other processes compete for the CPU.
 *
 * Environment: BENCH_STORAGE (`memory` or `sqlite`), BENCH_CONNECTIONS (default 32), BENCH_PROFILE=0
 * (no profiler, CPU per request only), BENCH_SERVER (another server of bench/servers, e.g.
 * `plain-proxy` or `hono`, to price the same load on it).
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { startServer, stopAll } from './lib/children.mjs';
import { runFlow } from './lib/flow.mjs';

const path = process.argv[2] ?? '/noop';
const seconds = Number(process.argv[3] ?? 8);
const root = fileURLToPath(new URL('..', import.meta.url));
const out = fileURLToPath(new URL('./profiles/', import.meta.url));
mkdirSync(out, { recursive: true });
const dir = mkdtempSync(join(out, `${path.replace(/\W+/g, '_')}-`));
const tmp = mkdtempSync(join(tmpdir(), 'portcullis-profile-'));
const PIN = 'bench-pin-4242';

// Another bench server (`plain-proxy`, `hono`, `upstream`…) can be profiled the same way, for comparison.
const serverName = process.env.BENCH_SERVER ?? 'portcullis';
const upstream = await startServer('upstream');
const server = await startServer(
  serverName,
  {
    BENCH_UPSTREAM: serverName === 'plain-proxy' ? `${upstream.url}/mcp` : upstream.url,
    BENCH_PIN: PIN,
    BENCH_STORAGE: process.env.BENCH_STORAGE ?? 'memory',
    BENCH_SQLITE_FILE: join(tmp, 'bench.db'),
  },
  process.env.BENCH_PROFILE === '0' ? [] : ['--cpu-prof', '--cpu-prof-dir', dir],
);
// CPU time the server process used (user + system, from /proc), to price a request whatever else runs.
const cpuTicks = () => {
  const fields = readFileSync(`/proc/${server.child.pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(fields[11]) + Number(fields[12]);
};
const token = serverName === 'portcullis' ? (await runFlow(server.url, PIN)).access_token : 'none';
const body =
  path === '/mcp/sdk'
    ? JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} })
    : JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' });
const load = (duration) =>
  autocannon({
    url: `${server.url}${path}`,
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      authorization: `Bearer ${token}`,
    },
    body,
    connections: Number(process.env.BENCH_CONNECTIONS ?? 32),
    duration,
  });
await load(2); // warm-up: JIT and caches, not measured
const ticksBefore = cpuTicks();
const result = await load(seconds);
const cpuMs = (cpuTicks() - ticksBefore) * 10; // USER_HZ is 100 on Linux
process.stdout.write(
  `${path}: server CPU ${Math.round((cpuMs * 1000) / result.requests.total)} µs/request, ` +
    `${Math.round(result.requests.average)} req/s, p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, ` +
    `${result.non2xx} non-2xx, ${result.errors} errors\n`,
);
await stopAll();
rmSync(tmp, { recursive: true, force: true });
if (process.env.BENCH_PROFILE === '0') process.exit(0);

// The main thread's profile: the largest one (the module loader's thread writes a small one too).
const file = readdirSync(dir)
  .filter((name) => name.endsWith('.cpuprofile'))
  .sort((a, b) => statSync(join(dir, b)).size - statSync(join(dir, a)).size)[0];
if (!file) throw new Error(`no profile written in ${dir}`);
const profile = JSON.parse(readFileSync(join(dir, file), 'utf8'));
const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
const where = (frame) => {
  const url = frame.url.replace(/^file:\/\//, '');
  if (!url) return '(native)';
  if (url.startsWith('node:')) return url;
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) {
    const rest = url.slice(modules + 13).split('/');
    return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : (rest[0] ?? url);
  }
  return relative(root, url);
};
// Only the samples taken under load: the last `seconds` of the profile, without start-up and shutdown.
const times = [];
let clock = profile.startTime;
for (const delta of profile.timeDeltas) {
  clock += delta;
  times.push(clock);
}
const from = profile.endTime - seconds * 1e6 - 0.2e6;
const self = new Map();
const parents = new Map();
for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);
const inclusive = new Map();
for (let i = 0; i < profile.samples.length; i++) {
  if (times[i] < from) continue;
  const id = profile.samples[i];
  const delta = profile.timeDeltas[i + 1] ?? 0;
  self.set(id, (self.get(id) ?? 0) + delta);
  const seen = new Set();
  for (let at = id; at !== undefined; at = parents.get(at)) {
    const frame = nodes.get(at).callFrame;
    if (!frame.url) continue;
    const key = `${frame.functionName || '(anonymous)'}  ${where(frame)}:${frame.lineNumber + 1}`;
    if (seen.has(key)) continue;
    seen.add(key);
    inclusive.set(key, (inclusive.get(key) ?? 0) + delta);
  }
}
const total = [...self.values()].reduce((a, b) => a + b, 0);
const byFunction = new Map();
const byModule = new Map();
for (const [id, time] of self) {
  const frame = nodes.get(id).callFrame;
  const key = `${frame.functionName || '(anonymous)'}  ${where(frame)}:${frame.lineNumber + 1}`;
  byFunction.set(key, (byFunction.get(key) ?? 0) + time);
  const module = where(frame);
  byModule.set(module, (byModule.get(module) ?? 0) + time);
}
const top = (map, n) =>
  [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([key, time]) => `${((100 * time) / total).toFixed(1).padStart(5)}%  ${key}`)
    .join('\n');
process.stdout.write(`\nself time by function (top 30):\n${top(byFunction, 30)}\n`);
process.stdout.write(`\ntotal (inclusive) time by function, JS only (top 40):\n${top(inclusive, 40)}\n`);
process.stdout.write(`\nself time by module (top 15):\n${top(byModule, 15)}\n`);
process.stdout.write(`\nprofile: ${relative(root, join(dir, file))}\n`);
