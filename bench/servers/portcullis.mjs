/**
 * Scenarios (2), (4) and (5): a Portcullis authorization server on `node:http` through
 * `@portcullis/adapter-node`, storage chosen by `BENCH_STORAGE` (`memory`, or `sqlite` with a file at
 * `BENCH_SQLITE_FILE`). Runs from the TypeScript sources (bench/lib/loader.mjs).
 *
 * Routes besides the authorization-server ones (all under the one protected resource `/mcp`):
 * - `POST /noop`       adapter only, no auth: Web Request/Response conversion cost;
 * - `POST /mcp`        `authenticate`, then a plain no-op handler;
 * - `POST /mcp/cached` the same with the opt-in `tokenCache` (2 s);
 * - `POST /mcp/sdk`    `protectMcpServer` with a real SDK `McpServer` (stateless, JSON responses);
 * - `POST /mcp/proxy`  `mcpProxy` to `BENCH_UPSTREAM` with `staticToken` credentials;
 * - `POST /mcp/proxy-cached` the same behind the server with the `tokenCache`;
 * - `POST /fetch-proxy` adapter + a bare `fetch()` forward to the same upstream, no auth: what the
 *   Web-standard plumbing (undici fetch, Web streams) costs before any Portcullis logic.
 */
import { createServer } from 'node:http';
import { clientIp, toNodeListener } from '@portcullis/adapter-node';
import { createAuthorizationServer, MemoryStorage } from '@portcullis/core';
import { mcpProxy, protectMcpServer, staticToken } from '@portcullis/core/mcp';
import { pinUpstream } from '@portcullis/core/upstreams';
import { sqliteStorage } from '@portcullis/storage-sql';
import { announce, listen, RESULT, UPSTREAM_TOKEN } from './common.mjs';
import { AjvJsonSchemaValidator, McpServer } from './deps.mjs';

const kind = process.env.BENCH_STORAGE ?? 'memory';
const storage =
  kind === 'sqlite' ? sqliteStorage(process.env.BENCH_SQLITE_FILE ?? ':memory:') : new MemoryStorage();

const server = createServer();
server.keepAliveTimeout = 60_000;
const port = await listen(server);
const issuer = `http://127.0.0.1:${port}`;

const options = {
  issuer,
  storage,
  // The flow scenario makes thousands of PIN attempts: lift the global attempt window for the bench.
  upstream: pinUpstream({
    pin: process.env.BENCH_PIN ?? '',
    maxAttemptsPerWindow: 1_000_000_000,
    maxAttemptsPerClient: 1_000_000_000,
  }),
  secret: 'bench-secret-bench-secret-bench-secret-0123456789',
  resources: [{ path: '/mcp' }],
  scopes: { supported: ['mcp'], default: ['mcp'] },
  registration: { maxPerHour: 1_000_000_000 },
  clientIp,
};
const as = createAuthorizationServer(options);
// The same server (same storage and secret) with the opt-in token cache, for `POST /mcp/cached`.
const cachedAs = createAuthorizationServer({ ...options, tokenCache: { ttlSeconds: 2 } });

const json = () => new Response(RESULT, { headers: { 'content-type': 'application/json' } });

const noop = async (request) => {
  await request.arrayBuffer();
  return json();
};

const authenticated = async (request) => {
  const result = await as.authenticate(request);
  if (!result.ok) return result.response;
  return noop(request);
};

const cachedAuthenticated = async (request) => {
  const result = await cachedAs.authenticate(request);
  if (!result.ok) return result.response;
  return noop(request);
};

// One JSON Schema validator for every per-request server (the SDK would build an Ajv instance per server).
const jsonSchemaValidator = new AjvJsonSchemaValidator();
const sdk = protectMcpServer({
  authenticator: as,
  enableJsonResponse: true,
  server: () => {
    const mcp = new McpServer({ name: 'bench', version: '1.0.0' }, { jsonSchemaValidator });
    mcp.registerTool('echo', { description: 'Echoes nothing back' }, async () => ({
      content: [{ type: 'text', text: 'ok' }],
    }));
    return mcp;
  },
});

const upstreamMcp = new URL('/mcp', process.env.BENCH_UPSTREAM);

const proxy = mcpProxy({
  upstream: upstreamMcp,
  authenticator: as,
  credentials: staticToken(UPSTREAM_TOKEN),
});
// The same proxy behind the server with the opt-in token cache.
const cachedProxy = mcpProxy({
  upstream: upstreamMcp,
  authenticator: cachedAs,
  credentials: staticToken(UPSTREAM_TOKEN),
});

const fetchProxy = async (request) => {
  const response = await fetch(upstreamMcp, {
    method: request.method,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${UPSTREAM_TOKEN}` },
    body: await request.text(),
  });
  const headers = new Headers(response.headers);
  for (const name of ['connection', 'keep-alive', 'transfer-encoding', 'content-length'])
    headers.delete(name);
  return new Response(response.body, { status: response.status, headers });
};

const routes = new Map([
  ['/fetch-proxy', fetchProxy],
  ['/noop', noop],
  ['/mcp', authenticated],
  ['/mcp/cached', cachedAuthenticated],
  ['/mcp/sdk', sdk],
  ['/mcp/proxy', proxy],
  ['/mcp/proxy-cached', cachedProxy],
]);

server.on(
  'request',
  toNodeListener(async (request) => {
    if (as.handles(request)) return as.fetch(request);
    const route = routes.get(new URL(request.url).pathname);
    return route ? route(request) : Response.json({ error: 'not_found' }, { status: 404 });
  }),
);

announce(port, async () => {
  await new Promise((resolve) => server.close(resolve));
  await storage.close?.();
});
