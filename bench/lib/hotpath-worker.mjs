/**
 * In-process cost of each step of `authenticate` (packages/core/src/authenticate.ts) on MemoryStorage,
 * so the HTTP numbers of `pnpm bench` can be attributed. Runs under the sources loader (see bench/hotpath.mjs).
 */
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import { toNodeListener } from '@portcullis/adapter-node';
import { createAuthorizationServer, MemoryStorage } from '@portcullis/core';
import { mcpProxy, staticToken } from '@portcullis/core/mcp';
import { pinUpstream } from '@portcullis/core/upstreams';
import { sha256 } from '../../packages/core/src/crypto/hash.ts';
import { KeyRing } from '../../packages/core/src/crypto/keys.ts';
import { Records } from '../../packages/core/src/stores/records.ts';
import { grantRecord, tokenRecord } from '../../packages/core/src/stores/schemas.ts';
import { runFlow } from './flow.mjs';

const SECRET = 'hotpath-secret-hotpath-secret-hotpath-0123456789';
const PIN = 'hotpath-pin-1';
const ITERATIONS = Number(process.env.HOTPATH_ITERATIONS ?? 20_000);
const CONCURRENCY = 32;

const storage = new MemoryStorage();
const server = createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;
const as = createAuthorizationServer({
  issuer,
  storage,
  upstream: pinUpstream({ pin: PIN }),
  secret: SECRET,
  resources: [{ path: '/mcp' }],
});
server.on(
  'request',
  toNodeListener((request) => as.fetch(request)),
);
const token = (await runFlow(issuer, PIN)).access_token;
server.close();

const records = new Records(storage);
const keys = new KeyRing([SECRET]);
const tokenHash = await sha256(token);
const access = await records.get('access', tokenHash, tokenRecord);
const grant = await records.get('grant', access.grantId, grantRecord);
const url = `${issuer}/mcp`;
const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
const body = '{"jsonrpc":"2.0","id":1,"method":"ping"}';

// The proxy's own work, in process: its upstream transport answers at once with a ready response.
const answer = '{"jsonrpc":"2.0","id":1,"result":{}}';
const instant = Object.assign(async () => new Response(answer), {
  [Symbol.for('portcullis.upstreamTransport')]: async () =>
    new Response(answer, { headers: { 'content-type': 'application/json', 'content-length': '36' } }),
});
const proxy = mcpProxy({
  upstream: `${issuer}/upstream`,
  authenticator: as,
  credentials: staticToken('upstream-token'),
  fetch: instant,
});
const cachedAs = createAuthorizationServer({
  issuer,
  storage,
  upstream: pinUpstream({ pin: PIN }),
  secret: SECRET,
  resources: [{ path: '/mcp' }],
  tokenCache: { ttlSeconds: 2 },
});

const steps = {
  'mcpProxy (instant upstream, incl. new Request)': async () => {
    const response = await proxy(new Request(url, { method: 'POST', headers, body }));
    if (response.status !== 200) throw new Error(`mcpProxy answered ${response.status}`);
  },
  'authenticate with tokenCache (incl. new Request)': async () => {
    const result = await cachedAs.authenticate(new Request(url, { method: 'POST', headers, body }));
    if (!result.ok) throw new Error('authenticate refused the token');
  },
  'authenticate (whole, incl. new Request)': async () => {
    const result = await as.authenticate(new Request(url, { method: 'POST', headers, body }));
    if (!result.ok) throw new Error('authenticate refused the token');
  },
  'new Request (POST, 2 headers, body)': async () => new Request(url, { method: 'POST', headers, body }),
  'sha256 token (WebCrypto, as core.hash)': () => sha256(token),
  'sha256 token (node:crypto, sync)': async () => createHash('sha256').update(token).digest('base64url'),
  'storage call alone (timeout guard, no parse)': () => records.exists('access', tokenHash),
  'storage get access + JSON + schema': () => records.get('access', tokenHash, tokenRecord),
  'storage get grant + JSON + schema': () => records.get('grant', access.grantId, grantRecord),
  'AES-GCM open grant (WebCrypto)': () => keys.open(grant.sealed, `grant:${grant.id}`),
};

async function time(fn, concurrency) {
  for (let i = 0; i < 2000; i++) await fn();
  const start = performance.now();
  let next = 0;
  const worker = async () => {
    while (next++ < ITERATIONS) await fn();
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return performance.now() - start;
}

const rows = [];
for (const [name, fn] of Object.entries(steps)) {
  const sequential = await time(fn, 1);
  const concurrent = await time(fn, CONCURRENCY);
  rows.push([
    name,
    ((sequential * 1000) / ITERATIONS).toFixed(1),
    Math.round((ITERATIONS / concurrent) * 1000).toString(),
  ]);
}
const header = ['step', 'µs/op (sequential)', `ops/s (${CONCURRENCY} in flight)`];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const line = (cells) =>
  cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
process.stdout.write(
  `${[line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n')}\n`,
);
process.stdout.write(`${ITERATIONS} iterations per step, ${process.version}\n`);
