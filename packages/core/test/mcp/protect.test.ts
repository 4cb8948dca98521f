import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { protectMcpServer } from '../../src/mcp/index.js';
import { createResourceServer, jwtVerifier } from '../../src/resource-server/index.js';
import { type LocalIssuer, type LocalServer, startIssuer } from '../resource-server/helpers.js';
import { serveFetch } from './node-bridge.js';

function buildServer(): McpServer {
  const server = new McpServer({ name: 'protected-test', version: '1.0.0' });
  server.registerTool('whoami', { description: 'Echoes the caller' }, async (extra) => ({
    content: [{ type: 'text', text: JSON.stringify(extra.authInfo ?? null) }],
  }));
  server.registerTool('admin_tool', { description: 'Needs the admin scope' }, async () => ({
    content: [{ type: 'text', text: 'admin done' }],
  }));
  return server;
}

/** A JSON-RPC `tools/call` POST to a protected `/mcp` route, as a Streamable HTTP client sends it. */
const postToolCall = (url: string, token: string, name: string, id = 1) =>
  fetch(`${url}/mcp`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
    },
    body: JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: {} } }),
  });

describe('protectMcpServer', () => {
  let issuer: LocalIssuer;
  let stateless: LocalServer;
  let sessions: LocalServer;
  let factoryCalls = 0;

  const tokenFor = (server: LocalServer, sub: string, scope = 'mcp') =>
    issuer.sign({
      iss: issuer.url,
      sub,
      client_id: `client-${sub}`,
      aud: `${server.url}/mcp`,
      scope,
      email: `${sub}@example.test`,
    });

  /** A resource server for `local`'s `/mcp` that verifies the local issuer's JWTs. */
  const verifierFor = (
    local: LocalServer,
    more: { scopesSupported?: string[]; requiredScopes?: string[] } = {},
  ) =>
    createResourceServer({
      resource: `${local.url}/mcp`,
      authorizationServers: [issuer.url],
      verify: jwtVerifier({ jwksUrl: issuer.jwksUrl, issuer: issuer.url }),
      ...more,
    });

  beforeAll(async () => {
    issuer = await startIssuer();
    const mount = async (sessionMode: boolean): Promise<LocalServer> => {
      let handler: ((r: Request) => Promise<Response>) | undefined;
      const local = await serveFetch((request) => handler!(request));
      const authenticator = verifierFor(local, {
        scopesSupported: ['mcp', 'admin'],
        requiredScopes: ['mcp'],
      });
      handler = protectMcpServer({
        authenticator,
        server: () => {
          factoryCalls++;
          return buildServer();
        },
        sessions: sessionMode,
        scopes: { tools: { admin_tool: ['admin'] } },
      });
      return local;
    };
    stateless = await mount(false);
    sessions = await mount(true);
  });
  afterAll(async () => {
    await Promise.all([issuer.close(), stateless.close(), sessions.close()]);
  });

  async function connect(server: LocalServer, token: string) {
    const client = new Client({ name: 'test-client', version: '1.0.0' });
    const transport = new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`), {
      requestInit: { headers: { authorization: `Bearer ${token}` } },
    });
    await client.connect(transport);
    return { client, transport };
  }

  it('gives tools the caller authInfo through the real SDK client (stateless)', async () => {
    const token = await tokenFor(stateless, 'alice');
    const { client } = await connect(stateless, token);
    const result = await client.callTool({ name: 'whoami', arguments: {} });
    const authInfo = JSON.parse((result.content as [{ text: string }])[0].text);
    expect(authInfo).toMatchObject({
      token,
      clientId: 'client-alice',
      scopes: ['mcp'],
      resource: `${stateless.url}/mcp`,
      extra: { userId: 'alice', email: 'alice@example.test', props: {}, resource: `${stateless.url}/mcp` },
    });
    expect(authInfo.expiresAt).toBeGreaterThan(Date.now() / 1000);
    await client.close();
  });

  it('closes every stateless JSON-mode server after its answer, without aborting the finished call', async () => {
    const signals: AbortSignal[] = [];
    const closed: Promise<void>[] = [];
    let handler: ((r: Request) => Promise<Response>) | undefined;
    const local = await serveFetch((request) => handler!(request));
    try {
      handler = protectMcpServer({
        authenticator: verifierFor(local),
        enableJsonResponse: true,
        reuseServers: false,
        server: () => {
          const server = new McpServer({ name: 'json-mode', version: '1.0.0' });
          closed.push(new Promise((resolve) => (server.server.onclose = () => resolve())));
          server.registerTool('note', { description: 'Keeps its signal' }, async (extra) => {
            signals.push(extra.signal);
            return { content: [{ type: 'text', text: 'noted' }] };
          });
          return server;
        },
      });
      const { client } = await connect(local, await tokenFor(local, 'erin'));
      const result = await client.callTool({ name: 'note', arguments: {} });
      expect(result.content).toEqual([{ type: 'text', text: 'noted' }]);
      await client.close();
      // initialize, notifications/initialized, tools/call: one server each, every one closed.
      expect(closed.length).toBeGreaterThanOrEqual(3);
      await Promise.all(closed);
      expect(signals).toHaveLength(1);
      expect(signals[0]!.aborted).toBe(false);
    } finally {
      await local.close();
    }
  });

  /** A stateless route whose factory counts its calls and whose tools report the server serving them. */
  async function mountCounting() {
    const built: string[] = [];
    const closes = new Map<number, number>();
    let handler: ((r: Request) => Promise<Response>) | undefined;
    const local = await serveFetch((request) => handler!(request));
    handler = protectMcpServer({
      authenticator: verifierFor(local),
      enableJsonResponse: true,
      server: (info) => {
        const id = built.push(info.userId);
        let active = 0;
        const server = new McpServer({ name: 'counting', version: '1.0.0' });
        server.server.onclose = () => closes.set(id, (closes.get(id) ?? 0) + 1);
        server.registerTool('who', { description: 'Names the caller and the server' }, async (extra) => {
          active++;
          const overlapping = active;
          await new Promise((resolve) => setTimeout(resolve, 20));
          active--;
          const caller = extra.authInfo?.extra?.userId;
          return {
            content: [
              { type: 'text', text: JSON.stringify({ id, builtFor: info.userId, caller, overlapping }) },
            ],
          };
        });
        return server;
      },
    });
    const call = async (token: string) => {
      const response = await postToolCall(local.url, token, 'who');
      expect(response.status).toBe(200);
      const body = (await response.json()) as { result: { content: [{ text: string }] } };
      return JSON.parse(body.result.content[0].text) as {
        id: number;
        builtFor: string;
        caller: string;
        overlapping: number;
      };
    };
    return { local, built, closes, call };
  }

  it('builds a stateless server once per access token and serves only that token with it', async () => {
    const { local, built, closes, call } = await mountCounting();
    try {
      const alice = await tokenFor(local, 'alice');
      const bob = await tokenFor(local, 'bob');
      const first = await call(alice);
      for (let i = 0; i < 4; i++) expect(await call(alice)).toMatchObject({ id: first.id, caller: 'alice' });
      const forBob = await call(bob);
      expect(forBob).toMatchObject({ builtFor: 'bob', caller: 'bob' });
      expect(forBob.id).not.toBe(first.id);
      expect(await call(alice)).toMatchObject({ id: first.id, builtFor: 'alice', caller: 'alice' });
      expect(built).toEqual(['alice', 'bob']);
      // Its transport was closed after every request it served.
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(closes.get(first.id)).toBe(6);
    } finally {
      await local.close();
    }
  });

  it('gives concurrent requests of one token a server each, never two requests to one server at once', async () => {
    const { local, built, call } = await mountCounting();
    try {
      const carol = await tokenFor(local, 'carol');
      const answers = await Promise.all(Array.from({ length: 6 }, () => call(carol)));
      for (const answer of answers)
        expect(answer).toMatchObject({ caller: 'carol', builtFor: 'carol', overlapping: 1 });
      expect(new Set(answers.map((a) => a.id)).size).toBe(built.length);
      const afterBurst = built.length;
      expect(afterBurst).toBeLessThanOrEqual(6);
      await new Promise((resolve) => setTimeout(resolve, 20));
      // The servers of the burst serve the next requests; none is built for them.
      for (let i = 0; i < 3; i++) expect((await call(carol)).caller).toBe('carol');
      expect(built.length).toBe(afterBurst);
    } finally {
      await local.close();
    }
  });

  it('answers unauthenticated requests with the authenticator 401 and serves metadata', async () => {
    const response = await fetch(`${stateless.url}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
    });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe(
      `Bearer resource_metadata="${stateless.url}/.well-known/oauth-protected-resource/mcp", scope="mcp"`,
    );
    const metadata = await fetch(`${stateless.url}/.well-known/oauth-protected-resource/mcp`);
    expect(await metadata.json()).toMatchObject({ resource: `${stateless.url}/mcp` });

    const client = new Client({ name: 'anon', version: '1.0.0' });
    await expect(
      client.connect(new StreamableHTTPClientTransport(new URL(`${stateless.url}/mcp`))),
    ).rejects.toThrow();
  });

  it('refuses a tool that needs a scope the token lacks with 403 insufficient_scope', async () => {
    const token = await tokenFor(stateless, 'bob');
    const { client } = await connect(stateless, token);
    await expect(client.callTool({ name: 'admin_tool', arguments: {} })).rejects.toThrow(/403|insufficient/i);
    const response = await postToolCall(stateless.url, token, 'admin_tool', 7);
    expect(response.status).toBe(403);
    const challenge = response.headers.get('www-authenticate') ?? '';
    expect(challenge).toContain('error="insufficient_scope"');
    expect(challenge).toContain('scope="mcp admin"');
    expect(challenge).toContain('resource_metadata=');

    const admin = await connect(stateless, await tokenFor(stateless, 'carol', 'mcp admin'));
    const ok = await admin.client.callTool({ name: 'admin_tool', arguments: {} });
    expect((ok.content as [{ text: string }])[0].text).toBe('admin done');
    await Promise.all([client.close(), admin.client.close()]);
  });

  it('keeps sessions, binds them to their owner and ends them with DELETE', async () => {
    const before = factoryCalls;
    const alice = await tokenFor(sessions, 'alice');
    const { client, transport } = await connect(sessions, alice);
    const sessionId = transport.sessionId;
    expect(sessionId).toMatch(/^[0-9a-f-]{36}$/);
    await client.callTool({ name: 'whoami', arguments: {} });
    await client.callTool({ name: 'whoami', arguments: {} });
    expect(factoryCalls - before).toBe(1);

    const mallory = await tokenFor(sessions, 'mallory');
    const hijack = await fetch(`${sessions.url}/mcp`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${mallory}`,
        'mcp-session-id': sessionId ?? '',
        'mcp-protocol-version': '2025-06-18',
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(hijack.status).toBe(404);

    await transport.terminateSession();
    const after = await fetch(`${sessions.url}/mcp`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${alice}`,
        'mcp-session-id': sessionId ?? '',
        'mcp-protocol-version': '2025-06-18',
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }),
    });
    expect(after.status).toBe(404);
    await client.close();
  });

  it('refuses GET streams in stateless mode with 405', async () => {
    const token = await tokenFor(stateless, 'dave');
    const response = await fetch(`${stateless.url}/mcp`, {
      headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
    });
    expect(response.status).toBe(405);
  });

  it('closes a stateless server whose request fails inside the transport, and never reuses it', async () => {
    const closes: string[] = [];
    let built = 0;
    const handler = protectMcpServer({
      authenticator: verifierFor(stateless),
      server: () => {
        built++;
        const server = buildServer();
        const connect = server.connect.bind(server);
        // The transport this server is given fails the request it handles.
        server.connect = async (transport) => {
          Object.assign(transport, {
            handleRequest: async () => {
              throw new Error('transport failure');
            },
          });
          const close = transport.close.bind(transport);
          transport.close = async () => {
            closes.push(`transport ${built}`);
            return close();
          };
          return connect(transport);
        };
        return server;
      },
    });
    const token = await tokenFor(stateless, 'frank');
    const request = () =>
      new Request(`${stateless.url}/mcp`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
        },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
      });
    await expect(handler(request())).rejects.toThrow('transport failure');
    expect(closes).toEqual(['transport 1']);
    await expect(handler(request())).rejects.toThrow('transport failure');
    // The failed server was not pooled: the second request got a server of its own.
    expect(built).toBe(2);
    expect(closes).toEqual(['transport 1', 'transport 2']);
  });
});
