/**
 * mcpProxy on Node with the default upstream transport the adapter registers (a keep-alive pool over
 * node:http), end to end: a real SDK client → toNodeListener → mcpProxy → a real upstream.
 */
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { gzipSync } from 'node:zlib';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { createResourceServer, jwtVerifier } from '@portcullis/core';
import { identityHeaders, legacySse, mcpProxy, staticToken } from '@portcullis/core/mcp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type LocalIssuer,
  type LocalServer,
  startIssuer,
  startServer,
} from '../../core/test/resource-server/helpers.js';
import { nodeUpstreamFetch, toNodeListener } from '../src/index.js';

const UPSTREAM_TOKEN = 'upstream-static-secret';

function tools(): McpServer {
  const server = new McpServer({ name: 'upstream', version: '1.0.0' });
  server.registerTool('echo', { description: 'Echo' }, async () => ({
    content: [{ type: 'text', text: 'echoed' }],
  }));
  return server;
}

/** A real SDK Streamable HTTP upstream (stateless, SSE answers) that records headers and sockets. */
async function startUpstream() {
  const seen: IncomingHttpHeaders[] = [];
  const sockets = new Set<Socket>();
  const local = await startServer(async (req, res) => {
    seen.push(req.headers);
    sockets.add(req.socket);
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    const server = tools();
    await server.connect(transport);
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    await transport.handleRequest(req, res);
  });
  return { ...local, seen, sockets };
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('mcpProxy over the Node upstream pool (the adapter default)', () => {
  let issuer: LocalIssuer;
  let upstream: Awaited<ReturnType<typeof startUpstream>>;
  const closers: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    issuer = await startIssuer();
    upstream = await startUpstream();
  });
  afterAll(async () => {
    await Promise.all([issuer.close(), upstream.close(), ...closers.map((close) => close())]);
  });

  /** Serves `mcpProxy` (options from `configure`) at `/mcp` on a node:http server through the adapter. */
  async function gateway(
    upstreamUrl: string,
    configure: (
      authenticator: ReturnType<typeof createResourceServer>,
    ) => Partial<Parameters<typeof mcpProxy>[0]> = () => ({}),
  ) {
    let handler: (request: Request) => Promise<Response> = async () => new Response(null, { status: 503 });
    const server = createServer(toNodeListener((request) => handler(request)));
    const url = await listen(server);
    closers.push(
      () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    );
    const authenticator = createResourceServer({
      resource: `${url}/mcp`,
      authorizationServers: [issuer.url],
      verify: jwtVerifier({ jwksUrl: issuer.jwksUrl, issuer: issuer.url }),
    });
    handler = mcpProxy({
      upstream: upstreamUrl,
      authenticator,
      credentials: staticToken(UPSTREAM_TOKEN),
      ...configure(authenticator),
    });
    const token = (sub: string) =>
      issuer.sign({
        iss: issuer.url,
        sub,
        client_id: 'c1',
        aud: `${url}/mcp`,
        scope: 'mcp',
        email: `${sub}@corp.test`,
      });
    /** POSTs one JSON-RPC message to the gateway as `sub` (more headers and init from `extra`). */
    const post = async (
      sub: string,
      message: Record<string, unknown>,
      extra: { headers?: Record<string, string>; signal?: AbortSignal } = {},
    ) =>
      fetch(`${url}/mcp`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${await token(sub)}`,
          'content-type': 'application/json',
          ...extra.headers,
        },
        body: JSON.stringify(message),
        ...(extra.signal ? { signal: extra.signal } : {}),
      });
    return { url, token, post };
  }

  it('serves a real SDK client over Streamable HTTP, reusing upstream connections, never forwarding the client token', async () => {
    const { url, token } = await gateway(`${upstream.url}/mcp`);
    const before = upstream.seen.length;
    upstream.sockets.clear();
    const clientToken = await token('alice');
    const client = new Client({ name: 'pool', version: '1' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${url}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${clientToken}` } },
      }),
    );
    for (let i = 0; i < 5; i++) {
      const result = await client.callTool({ name: 'echo', arguments: {} });
      expect((result.content as [{ text: string }])[0].text).toBe('echoed');
    }
    await client.close();
    // The adapter registered its pool as the proxy's transport on the first request.
    expect(typeof (globalThis as Record<symbol, unknown>)[Symbol.for('portcullis.upstreamFetch')]).toBe(
      'function',
    );
    const seen = upstream.seen.slice(before);
    expect(seen.length).toBeGreaterThanOrEqual(6);
    expect(seen.every((h) => h.authorization === `Bearer ${UPSTREAM_TOKEN}`)).toBe(true);
    expect(seen.some((h) => JSON.stringify(h).includes(clientToken))).toBe(false);
    // Sequential calls ride the same keep-alive connection(s), not one connection per request.
    expect(upstream.sockets.size).toBeLessThan(seen.length);
  });

  it('strips spoofed identity headers and sends the configured ones', async () => {
    const { post } = await gateway(`${upstream.url}/mcp`, () => ({
      credentials: identityHeaders({ extra: { 'x-upstream-secret': 'shared-secret-for-upstream' } }),
    }));
    const before = upstream.seen.length;
    const response = await post(
      'bob',
      { jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} },
      {
        headers: {
          accept: 'application/json, text/event-stream',
          'x-forwarded-user': 'root',
          'x-remote-user': 'root',
        },
      },
    );
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('echo');
    const headers = upstream.seen[before]!;
    expect(headers['x-remote-user']).toBeUndefined();
    expect(headers['x-forwarded-user']).not.toBe('root');
    expect(headers['x-forwarded-user']).toBe('bob');
    expect(headers['x-upstream-secret']).toBe('shared-secret-for-upstream');
    expect(headers.authorization).toBeUndefined();
  });

  it('hands a custom credential function a Headers holding the forwarded client fields', async () => {
    const seenByStrategy: string[] = [];
    const { post } = await gateway(`${upstream.url}/mcp`, () => ({
      credentials: (_info, headers) => {
        seenByStrategy.push(headers.get('x-client-note') ?? 'none');
        headers.set('authorization', `Bearer ${UPSTREAM_TOKEN}`);
      },
    }));
    const before = upstream.seen.length;
    const response = await post(
      'cyd',
      { jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} },
      {
        headers: { accept: 'application/json, text/event-stream', 'x-client-note': 'from-the-client' },
      },
    );
    expect(response.status).toBe(200);
    expect(seenByStrategy).toEqual(['from-the-client']);
    expect(upstream.seen[before]!['x-client-note']).toBe('from-the-client');
    expect(upstream.seen[before]!.authorization).toBe(`Bearer ${UPSTREAM_TOKEN}`);
  });

  it('answers Expect: 100-continue itself and does not forward it (RFC 9110 §10.1.1)', async () => {
    const { url, token } = await gateway(`${upstream.url}/mcp`);
    const before = upstream.seen.length;
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} });
    const authorization = `Bearer ${await token('dee')}`;
    const answer = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const outgoing = httpRequest(`${url}/mcp`, {
        method: 'POST',
        headers: {
          authorization,
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'content-length': Buffer.byteLength(body),
          expect: '100-continue',
        },
      });
      outgoing.on('continue', () => outgoing.end(body));
      outgoing.on('response', (incoming) => {
        let text = '';
        incoming.setEncoding('utf8').on('data', (chunk: string) => {
          text += chunk;
        });
        incoming.on('end', () => resolve({ status: incoming.statusCode ?? 0, text }));
      });
      outgoing.on('error', reject);
    });
    expect(answer.status).toBe(200);
    expect(answer.text).toContain('echo');
    expect(upstream.seen[before]!.expect).toBeUndefined();
  });

  it('streams SSE live: the first event reaches the client before the upstream finishes', async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    let finished = false;
    const slow = await startServer(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(
        'event: message\ndata: {"jsonrpc":"2.0","method":"notifications/progress","params":{"n":1}}\n\n',
      );
      await released;
      res.end('event: message\ndata: {"jsonrpc":"2.0","id":1,"result":{}}\n\n');
      finished = true;
    });
    closers.push(slow.close);
    const { post } = await gateway(`${slow.url}/mcp`);
    const response = await post('dan', {
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: 'x' },
    });
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    while (!text.includes('\n\n')) text += decoder.decode((await reader.read()).value);
    expect(text).toContain('"n":1');
    expect(finished).toBe(false);
    release();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value);
    }
    expect(text).toContain('"id":1');
    expect(finished).toBe(true);
  });

  it('closes the upstream stream when the client goes away mid-stream', async () => {
    let upstreamClosed!: () => void;
    const closed = new Promise<void>((resolve) => {
      upstreamClosed = resolve;
    });
    const endless = await startServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('event: message\ndata: {}\n\n');
      const tick = setInterval(() => res.write(': keep-alive\n\n'), 20);
      res.on('close', () => {
        clearInterval(tick);
        upstreamClosed();
      });
    });
    closers.push(endless.close);
    const { post } = await gateway(`${endless.url}/mcp`);
    const controller = new AbortController();
    const response = await post(
      'erin',
      { jsonrpc: '2.0', id: 1, method: 'ping' },
      { signal: controller.signal },
    );
    const reader = response.body!.getReader();
    await reader.read();
    controller.abort();
    await expect(closed).resolves.toBeUndefined();
  });

  it('answers 502 when the upstream breaks off a small answer of declared length (read whole before it is sent)', async () => {
    const broken = await startServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
      res.write('{"jsonrpc":"2.0","id":1,');
      setTimeout(() => res.destroy(), 20);
    });
    closers.push(broken.close);
    const { post } = await gateway(`${broken.url}/mcp`);
    const response = await post('fay', { jsonrpc: '2.0', id: 7, method: 'ping' });
    expect(response.status).toBe(502);
    expect(await response.json()).toMatchObject({ jsonrpc: '2.0', id: 7, error: { code: -32603 } });
  });

  it('cuts the client connection when a streamed upstream body fails midway (a truncated answer, not a clean end)', async () => {
    const broken = await startServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }); // chunked: streamed through
      res.write('{"jsonrpc":"2.0","id":1,');
      setTimeout(() => res.destroy(), 20);
    });
    closers.push(broken.close);
    const { post } = await gateway(`${broken.url}/mcp`);
    const response = await post('fay', { jsonrpc: '2.0', id: 1, method: 'ping' });
    await expect(response.text()).rejects.toThrow();
  });

  // The same answer through the adapter's pool and through plain fetch(): the client sees the same thing.
  for (const [transport, configure] of [
    ['the Node pool', () => ({})],
    ['fetch()', () => ({ fetch: globalThis.fetch })],
  ] as const) {
    it(`returns a coded upstream answer decoded, hop-by-hop and cookie fields dropped, repeated fields joined (${transport})`, async () => {
      const answer = JSON.stringify({ jsonrpc: '2.0', id: 3, result: { text: 'x'.repeat(500) } });
      const coded = await startServer((_req, res) => {
        const body = gzipSync(answer);
        res.writeHead(200, [
          ['content-type', 'application/json'],
          ['content-encoding', 'gzip'],
          ['content-length', String(body.byteLength)],
          ['x-trace', 'a'],
          ['x-trace', 'b'],
          ['set-cookie', 'upstream=1'],
          ['connection', 'keep-alive, x-hop'],
          ['x-hop', 'dropped'],
        ]);
        res.end(body);
      });
      closers.push(coded.close);
      const { post } = await gateway(`${coded.url}/mcp`, configure);
      const response = await post('hal', { jsonrpc: '2.0', id: 3, method: 'ping' });
      expect(response.status).toBe(200);
      expect(await response.text()).toBe(answer);
      expect(response.headers.get('content-encoding')).toBeNull();
      expect(response.headers.get('x-trace')).toBe('a, b');
      expect(response.headers.get('set-cookie')).toBeNull();
      expect(response.headers.get('x-hop')).toBeNull();
    });

    it(`keeps the upstream Content-Length of a body forwarded as it is (${transport})`, async () => {
      const answer = JSON.stringify({ jsonrpc: '2.0', id: 4, result: {} });
      const plain = await startServer((_req, res) => {
        res.writeHead(200, {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(answer),
        });
        res.end(answer);
      });
      closers.push(plain.close);
      const { post } = await gateway(`${plain.url}/mcp`, configure);
      const response = await post('ida', { jsonrpc: '2.0', id: 4, method: 'ping' });
      expect(response.headers.get('content-length')).toBe(String(Buffer.byteLength(answer)));
      expect(response.headers.get('transfer-encoding')).toBeNull();
      expect(await response.text()).toBe(answer);
    });
  }

  it('maps an unreachable upstream to 502 and a slow one to 504', async () => {
    const hang = await startServer(() => new Promise(() => undefined));
    closers.push(hang.close);
    const down = await gateway('http://127.0.0.1:1/mcp');
    const slow = await gateway(`${hang.url}/mcp`, () => ({ timeoutMs: 200 }));
    const call = async (g: typeof down) =>
      fetch(`${g.url}/mcp`, {
        method: 'POST',
        headers: { authorization: `Bearer ${await g.token('gil')}`, 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 42, method: 'ping' }),
      });
    const r502 = await call(down);
    expect(r502.status).toBe(502);
    expect(await r502.json()).toMatchObject({ id: 42, error: { code: -32603 } });
    const r504 = await call(slow);
    expect(r504.status).toBe(504);
    expect(await r504.json()).toMatchObject({
      id: 42,
      error: { message: 'The upstream MCP server timed out.' },
    });
  });

  it('proxies the legacy HTTP+SSE transport with a real SDK client', async () => {
    const transports = new Map<string, SSEServerTransport>();
    const legacy: LocalServer = await startServer(async (req, res) => {
      const at = new URL(req.url ?? '/', 'http://x');
      if (req.method === 'GET' && at.pathname === '/sse') {
        const transport = new SSEServerTransport('/messages', res);
        transports.set(transport.sessionId, transport);
        await tools().connect(transport);
        return;
      }
      const transport = transports.get(at.searchParams.get('sessionId') ?? '');
      if (req.method === 'POST' && transport) return transport.handlePostMessage(req, res);
      res.statusCode = 404;
      res.end();
    });
    closers.push(legacy.close);
    const { url, token } = await gateway(`${legacy.url}/sse`, () => ({ legacySse: legacySse() }));
    const client = new Client({ name: 'legacy', version: '1' });
    await client.connect(
      new SSEClientTransport(new URL(`${url}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${await token('hal')}` } },
      }),
    );
    const result = await client.callTool({ name: 'echo', arguments: {} });
    expect((result.content as [{ text: string }])[0].text).toBe('echoed');
    await client.close();
  });

  it('sends bodies in one write and keeps fetch for what it does not pool', async () => {
    const seen: { length?: string; body: string }[] = [];
    const echo = await startServer(async (req, res) => {
      let body = '';
      for await (const chunk of req) body += chunk;
      seen.push({ length: req.headers['content-length'], body });
      res.writeHead(200, { 'content-type': 'text/plain' }).end(`got ${body.length}`);
    });
    closers.push(echo.close);
    const pool = nodeUpstreamFetch({ maxSockets: 2 });
    const text = await (await pool(`${echo.url}/x`, { method: 'POST', body: 'héllo' })).text();
    expect(text).toBe('got 5');
    expect(seen[0]).toEqual({ length: '6', body: 'héllo' });
    const streamed = await pool(`${echo.url}/y`, {
      method: 'POST',
      body: new Blob(['from a blob']),
    });
    expect(await streamed.text()).toBe('got 11');
    const aborted = new AbortController();
    aborted.abort(new Error('stop'));
    await expect(pool(`${echo.url}/z`, { signal: aborted.signal })).rejects.toThrow('stop');
  });
});
