import type { IncomingHttpHeaders } from 'node:http';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { identityHeaders, legacySse, mcpProxy, staticToken, upstreamIdpToken } from '../../src/mcp/index.js';
import { bearerErrorResponse, createResourceServer, jwtVerifier } from '../../src/resource-server/index.js';
import type { Authenticator, TokenInfo } from '../../src/types.js';
import { type LocalIssuer, type LocalServer, startIssuer, startServer } from '../resource-server/helpers.js';
import { serveFetch } from './node-bridge.js';

const UPSTREAM_TOKEN = 'ghp_upstream_secret_token';

function upstreamServer(): McpServer {
  const server = new McpServer({ name: 'upstream', version: '1.0.0' });
  server.registerTool('echo', { description: 'Echo' }, async () => ({
    content: [{ type: 'text', text: 'echoed' }],
  }));
  server.registerTool('delete_everything', { description: 'Dangerous' }, async () => ({
    content: [{ type: 'text', text: 'deleted' }],
  }));
  return server;
}

/** A real SDK Streamable HTTP server with sessions that records every request's headers. */
async function startStreamableUpstream() {
  const seen: { method: string; headers: Headers }[] = [];
  const sessions = new Map<string, WebStandardStreamableHTTPServerTransport>();
  const local = await serveFetch(async (request) => {
    seen.push({ method: request.method, headers: new Headers(request.headers) });
    const id = request.headers.get('mcp-session-id');
    if (id) {
      const transport = sessions.get(id);
      if (!transport) return new Response('{"error":"no session"}', { status: 404 });
      return transport.handleRequest(request);
    }
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => crypto.randomUUID(),
      onsessioninitialized: (sid) => {
        sessions.set(sid, transport);
      },
      onsessionclosed: (sid) => {
        sessions.delete(sid);
      },
    });
    await upstreamServer().connect(transport);
    return transport.handleRequest(request);
  });
  return { ...local, seen, sessions };
}

describe('mcpProxy', () => {
  let issuer: LocalIssuer;
  let upstream: Awaited<ReturnType<typeof startStreamableUpstream>>;
  const servers: LocalServer[] = [];

  beforeAll(async () => {
    issuer = await startIssuer();
    upstream = await startStreamableUpstream();
  });
  afterAll(async () => {
    await Promise.all([issuer.close(), upstream.close(), ...servers.map((s) => s.close())]);
  });

  /** Serves a proxy route at `/mcp` behind a resource server whose tokens the local issuer signs. */
  async function mountProxy(configure: (authenticator: Authenticator) => (r: Request) => Promise<Response>) {
    let handler: ((r: Request) => Promise<Response>) | undefined;
    const local = await serveFetch((request) => handler!(request));
    servers.push(local);
    const authenticator = createResourceServer({
      resource: `${local.url}/mcp`,
      authorizationServers: [issuer.url],
      verify: jwtVerifier({ jwksUrl: issuer.jwksUrl, issuer: issuer.url }),
    });
    handler = configure(authenticator);
    const token = (sub: string, scope = 'mcp') =>
      issuer.sign({
        iss: issuer.url,
        sub,
        client_id: 'c1',
        aud: `${local.url}/mcp`,
        scope,
        email: `${sub}@corp.test`,
      });
    return { local, authenticator, token };
  }

  it('proxies Streamable HTTP with a static upstream token, never forwarding the client token', async () => {
    const { local, token } = await mountProxy((authenticator) =>
      mcpProxy({ upstream: `${upstream.url}/mcp`, authenticator, credentials: staticToken(UPSTREAM_TOKEN) }),
    );
    const clientToken = await token('alice');
    upstream.seen.length = 0;
    const client = new Client({ name: 'c', version: '1' });
    const transport = new StreamableHTTPClientTransport(new URL(`${local.url}/mcp`), {
      requestInit: { headers: { authorization: `Bearer ${clientToken}`, cookie: 'session=abc' } },
    });
    await client.connect(transport);
    const result = await client.callTool({ name: 'echo', arguments: {} });
    expect((result.content as [{ text: string }])[0].text).toBe('echoed');
    expect(transport.sessionId).toBeDefined();
    expect(upstream.sessions.has(transport.sessionId ?? '')).toBe(true);

    expect(upstream.seen.length).toBeGreaterThanOrEqual(3);
    for (const { headers } of upstream.seen) {
      expect(headers.get('authorization')).toBe(`Bearer ${UPSTREAM_TOKEN}`);
      expect(headers.get('cookie')).toBeNull();
      for (const value of headers.values()) expect(value).not.toContain(clientToken);
    }
    // Mcp-Session-Id kept both ways: the upstream saw the session the client was given.
    expect(upstream.seen.at(-1)?.headers.get('mcp-session-id')).toBe(transport.sessionId);

    await transport.terminateSession();
    expect(upstream.seen.at(-1)?.method).toBe('DELETE');
    expect(upstream.sessions.has(transport.sessionId ?? 'gone')).toBe(false);
    await client.close();
  });

  it('refuses the sseSecret option of earlier versions, naming its replacement', async () => {
    const { authenticator } = await mountProxy((a) =>
      mcpProxy({ upstream: upstream.url, authenticator: a, credentials: staticToken('t') }),
    );
    const old = {
      upstream: upstream.url,
      authenticator,
      credentials: staticToken('t'),
      sseSecret: 'x'.repeat(32),
    };
    expect(() => mcpProxy(old)).toThrow('sseSecret is now legacySse: legacySse({ secret })');
  });

  it('injects identity headers and strips spoofed copies from the client', async () => {
    const { local, token } = await mountProxy((authenticator) =>
      mcpProxy({ upstream: `${upstream.url}/mcp`, authenticator, credentials: identityHeaders() }),
    );
    upstream.seen.length = 0;
    const client = new Client({ name: 'c', version: '1' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${local.url}/mcp`), {
        requestInit: {
          headers: {
            authorization: `Bearer ${await token('bob')}`,
            'x-forwarded-user': 'admin',
            'X-Forwarded-Email': 'admin@corp.test',
            'cf-access-authenticated-user-email': 'admin@corp.test',
          },
        },
      }),
    );
    await client.callTool({ name: 'echo', arguments: {} });
    for (const { headers } of upstream.seen) {
      expect(headers.get('x-forwarded-user')).toBe('bob');
      expect(headers.get('x-forwarded-email')).toBe('bob@corp.test');
      expect(headers.get('cf-access-authenticated-user-email')).toBeNull();
      expect(headers.get('authorization')).toBeNull();
    }
    await client.close();
  });

  it('requires step-up scopes for a route tool with 403 insufficient_scope', async () => {
    const { local, token } = await mountProxy((authenticator) =>
      mcpProxy({
        upstream: `${upstream.url}/mcp`,
        authenticator,
        credentials: staticToken(UPSTREAM_TOKEN),
        scopes: { tools: { delete_everything: ['admin'] } },
      }),
    );
    const client = new Client({ name: 'c', version: '1' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${local.url}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${await token('carol')}` } },
      }),
    );
    upstream.seen.length = 0;
    await expect(client.callTool({ name: 'delete_everything', arguments: {} })).rejects.toThrow(
      /403|insufficient/i,
    );
    expect(upstream.seen.filter((s) => s.method === 'POST')).toHaveLength(0);
    expect((await client.callTool({ name: 'echo', arguments: {} })).isError).toBeFalsy();
    await client.close();

    const direct = await fetch(`${local.url}/mcp`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${await token('carol')}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      // Duplicate keys differing in case could be read differently by the upstream's parser.
      body: '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","NAME":"delete_everything"}}',
    });
    expect(direct.status).toBe(400);
  });

  it('answers unauthenticated calls with the 401 challenge and never contacts the upstream', async () => {
    const { local } = await mountProxy((authenticator) =>
      mcpProxy({ upstream: `${upstream.url}/mcp`, authenticator, credentials: staticToken(UPSTREAM_TOKEN) }),
    );
    upstream.seen.length = 0;
    const response = await fetch(`${local.url}/mcp`, { method: 'POST', body: '{}' });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toContain('resource_metadata=');
    expect(upstream.seen).toHaveLength(0);
  });

  it('streams SSE chunk by chunk: the first event reaches the client before the upstream finishes', async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    let finished = false;
    const slow = await startServer(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.write(
        'event: message\ndata: {"jsonrpc":"2.0","method":"notifications/progress","params":{"n":1}}\n\n',
      );
      await released; // sent only after the client has received the first event
      res.end('event: message\ndata: {"jsonrpc":"2.0","id":1,"result":{}}\n\n');
      finished = true;
    });
    servers.push(slow);
    const { token, authenticator } = await mountProxy(() => async () => new Response());
    const proxy = mcpProxy({
      upstream: `${slow.url}/mcp`,
      authenticator,
      credentials: staticToken(UPSTREAM_TOKEN),
    });
    const response = await proxy(
      new Request(`${servers.at(-1)?.url}/mcp`, {
        method: 'POST',
        headers: { authorization: `Bearer ${await token('dan')}`, 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'x' } }),
      }),
    );
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

  it('maps an unreachable upstream to 502 and a slow one to 504, with JSON-RPC error bodies', async () => {
    const hang = await startServer(() => new Promise(() => undefined));
    servers.push(hang);
    const { token, authenticator, local } = await mountProxy(() => async () => new Response());
    const request = async () =>
      new Request('http://127.0.0.1/mcp', {
        method: 'POST',
        headers: { authorization: `Bearer ${await token('erin')}`, 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 42, method: 'ping' }),
      });
    const resource = { resource: `${local.url}/mcp` };
    const down = mcpProxy({
      upstream: 'http://127.0.0.1:1/mcp',
      authenticator,
      credentials: staticToken('t'),
      ...resource,
    });
    const slow = mcpProxy({
      upstream: `${hang.url}/mcp`,
      authenticator,
      credentials: staticToken('t'),
      timeoutMs: 200,
      ...resource,
    });
    const r502 = await down(await request());
    expect(r502.status).toBe(502);
    expect(await r502.json()).toMatchObject({ jsonrpc: '2.0', id: 42, error: { code: -32603 } });
    const r504 = await slow(await request());
    expect(r504.status).toBe(504);
    expect(await r504.json()).toMatchObject({
      id: 42,
      error: { message: 'The upstream MCP server timed out.' },
    });
  });

  it('sends the upstream IdP token, and asks the client to re-authorize when there is none', async () => {
    const info = (upstreamToken?: TokenInfo['upstreamToken']): TokenInfo => ({
      token: 'client-token',
      clientId: 'c',
      userId: 'u',
      scopes: [],
      resource: 'https://x.test/mcp',
      props: {},
      expiresAt: Math.floor(Date.now() / 1000) + 60,
      ...(upstreamToken ? { upstreamToken } : {}),
    });
    let current = info({ accessToken: 'idp-access-token' });
    const fake: Authenticator = {
      authenticate: async (request) =>
        request.headers.get('authorization') === 'Bearer client-token'
          ? { ok: true, info: current }
          : {
              ok: false,
              response: new Response(null, {
                status: 401,
                headers: { 'www-authenticate': 'Bearer resource_metadata="https://x.test/m"' },
              }),
            },
      protectedResourceMetadata: async () => null,
      challenge: (_request, options) =>
        bearerErrorResponse({
          resourceMetadata: 'https://x.test/m',
          ...(options?.error ? { error: options.error } : {}),
          ...(options?.description ? { description: options.description } : {}),
        }),
    };
    const proxy = mcpProxy({
      upstream: `${upstream.url}/mcp`,
      authenticator: fake,
      credentials: upstreamIdpToken(),
    });
    upstream.seen.length = 0;
    const init = () =>
      new Request('https://x.test/mcp', {
        method: 'POST',
        headers: {
          authorization: 'Bearer client-token',
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
        },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'initialize',
          params: {
            protocolVersion: '2025-06-18',
            capabilities: {},
            clientInfo: { name: 'x', version: '1' },
          },
        }),
      });
    const ok = await proxy(init());
    expect(ok.status).toBe(200);
    await ok.body?.cancel();
    expect(upstream.seen[0]?.headers.get('authorization')).toBe('Bearer idp-access-token');
    current = info();
    const refused = await proxy(init());
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toContain('error="invalid_token"');
    expect(refused.headers.get('www-authenticate')).toContain('resource_metadata="https://x.test/m"');
  });

  it('proxies the legacy HTTP+SSE transport, rewriting the endpoint to a signed URL bound to the caller', async () => {
    const transports = new Map<string, SSEServerTransport>();
    const seen: IncomingHttpHeaders[] = [];
    const legacy = await startServer(async (req, res) => {
      seen.push(req.headers);
      const url = new URL(req.url ?? '/', 'http://x');
      if (req.method === 'GET' && url.pathname === '/sse') {
        const transport = new SSEServerTransport('/messages', res);
        transports.set(transport.sessionId, transport);
        await upstreamServer().connect(transport);
        return;
      }
      if (req.method === 'POST' && url.pathname === '/messages') {
        const transport = transports.get(url.searchParams.get('sessionId') ?? '');
        if (!transport) {
          res.statusCode = 404;
          res.end();
          return;
        }
        await transport.handlePostMessage(req, res);
        return;
      }
      res.statusCode = 404;
      res.end();
    });
    servers.push(legacy);
    const { local, token } = await mountProxy((authenticator) =>
      mcpProxy({
        upstream: `${legacy.url}/sse`,
        authenticator,
        credentials: staticToken(UPSTREAM_TOKEN),
        legacySse: legacySse(),
      }),
    );
    const aliceToken = await token('alice');
    const client = new Client({ name: 'legacy', version: '1' });
    let endpoint: URL | undefined;
    const transport = new SSEClientTransport(new URL(`${local.url}/mcp`), {
      requestInit: { headers: { authorization: `Bearer ${aliceToken}` } },
      fetch: async (url, init) => {
        if (init?.method === 'POST') endpoint = new URL(String(url));
        return fetch(url, init);
      },
    });
    await client.connect(transport);
    const result = await client.callTool({ name: 'echo', arguments: {} });
    expect((result.content as [{ text: string }])[0].text).toBe('echoed');
    expect(endpoint?.origin).toBe(local.url);
    expect(endpoint?.pathname).toBe('/mcp');
    expect(endpoint?.searchParams.get('portcullis_sig')).toBeTruthy();
    expect(seen.every((h) => h.authorization === `Bearer ${UPSTREAM_TOKEN}`)).toBe(true);

    // Another user cannot post into alice's legacy session with her endpoint URL.
    const stolen = await fetch(endpoint!, {
      method: 'POST',
      headers: { authorization: `Bearer ${await token('mallory')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/list' }),
    });
    expect(stolen.status).toBe(403);
    await client.close();
  });

  it('without legacySse, passes an event stream through unchanged and signed-URL parameters on as a query', async () => {
    const stream = 'event: endpoint\ndata: /messages?sessionId=1\n\nevent: message\ndata: {}\n\n';
    const seen: string[] = [];
    const legacy = await startServer(async (req, res) => {
      seen.push(req.url ?? '');
      res.writeHead(200, { 'content-type': 'text/event-stream', 'content-length': String(stream.length) });
      res.end(stream);
    });
    servers.push(legacy);
    const { local, token } = await mountProxy((authenticator) =>
      mcpProxy({ upstream: `${legacy.url}/sse`, authenticator, credentials: staticToken(UPSTREAM_TOKEN) }),
    );
    const authorization = `Bearer ${await token('alice')}`;
    const response = await fetch(`${local.url}/mcp`, { headers: { authorization } });
    expect(response.status).toBe(200);
    // The bytes are unchanged, so their length stays.
    expect(response.headers.get('content-length')).toBe(String(stream.length));
    expect(await response.text()).toBe(stream);
    // No URL names a signed endpoint here: its parameters are the upstream's to judge, not refused.
    const named = await fetch(`${local.url}/mcp?portcullis_endpoint=L20&portcullis_sig=A`, {
      headers: { authorization },
    });
    expect(named.status).toBe(200);
    await named.body?.cancel();
    expect(seen).toEqual(['/sse', '/sse?portcullis_endpoint=L20&portcullis_sig=A']);
  });
});
