/**
 * protectMcpServer with both MCP SDK lines: a v2 `McpServer` (`@modelcontextprotocol/server`) served to
 * the v2 client (`@modelcontextprotocol/client`), a v1 one to the v1 client, and concurrent callers
 * with different tokens, each seeing only its own `authInfo`.
 */

import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  Client as ClientV2,
  StreamableHTTPClientTransport as TransportV2,
} from '@modelcontextprotocol/client';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as TransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer as McpServerV1 } from '@modelcontextprotocol/sdk/server/mcp.js';
import { McpServer as McpServerV2 } from '@modelcontextprotocol/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type McpServerLike, protectMcpServer } from '../../src/mcp/index.js';
import { createResourceServer, jwtVerifier } from '../../src/resource-server/index.js';
import { type LocalIssuer, type LocalServer, startIssuer } from '../resource-server/helpers.js';
import { serveFetch } from './node-bridge.js';

type Caller = { userId?: string; token?: string; clientId?: string } | null;

/** A v2 server whose `whoami` tool answers the caller the transport handed it. */
function v2Server(): McpServerV2 {
  const server = new McpServerV2({ name: 'v2', version: '1.0.0' });
  server.registerTool('whoami', { description: 'The caller' }, async (ctx) => {
    const auth = ctx.http?.authInfo;
    // A yield between reading and answering, so concurrent calls interleave inside the server.
    await new Promise((resolve) => setTimeout(resolve, Math.random() * 5));
    const caller: Caller = auth
      ? { userId: String(auth.extra?.userId), token: auth.token, clientId: auth.clientId }
      : null;
    return { content: [{ type: 'text', text: JSON.stringify(caller) }] };
  });
  return server;
}

function v1Server(): McpServerV1 {
  const server = new McpServerV1({ name: 'v1', version: '1.0.0' });
  server.registerTool('whoami', { description: 'The caller' }, async (extra) => {
    const auth = extra.authInfo;
    await new Promise((resolve) => setTimeout(resolve, Math.random() * 5));
    const caller: Caller = auth
      ? { userId: String(auth.extra?.userId), token: auth.token, clientId: auth.clientId }
      : null;
    return { content: [{ type: 'text', text: JSON.stringify(caller) }] };
  });
  return server;
}

const lines = [
  {
    name: 'SDK v2 (@modelcontextprotocol/server + /client)',
    build: v2Server as () => McpServerLike,
    connect: async (url: string, token: string) => {
      const client = new ClientV2({ name: 'v2-client', version: '1.0.0' });
      await client.connect(
        new TransportV2(new URL(url), { requestInit: { headers: { authorization: `Bearer ${token}` } } }),
      );
      return {
        whoami: async () => {
          const result = await client.callTool({ name: 'whoami', arguments: {} });
          return JSON.parse((result.content as unknown as [{ text: string }])[0].text) as Caller;
        },
        close: () => client.close(),
      };
    },
  },
  {
    name: 'SDK v1 (@modelcontextprotocol/sdk)',
    build: v1Server as () => McpServerLike,
    connect: async (url: string, token: string) => {
      const client = new ClientV1({ name: 'v1-client', version: '1.0.0' });
      await client.connect(
        new TransportV1(new URL(url), { requestInit: { headers: { authorization: `Bearer ${token}` } } }),
      );
      return {
        whoami: async () => {
          const result = await client.callTool({ name: 'whoami', arguments: {} });
          return JSON.parse((result.content as unknown as [{ text: string }])[0].text) as Caller;
        },
        close: () => client.close(),
      };
    },
  },
];

describe.each(lines)('protectMcpServer with $name', (line) => {
  let issuer: LocalIssuer;
  const mounted: Record<'json' | 'sse' | 'sessions', LocalServer> = {} as never;

  const tokenFor = (server: LocalServer, sub: string) =>
    issuer.sign({ iss: issuer.url, sub, client_id: `client-${sub}`, aud: `${server.url}/mcp`, scope: 'mcp' });

  beforeAll(async () => {
    issuer = await startIssuer();
    for (const mode of ['json', 'sse', 'sessions'] as const) {
      let handler: ((r: Request) => Promise<Response>) | undefined;
      const local = await serveFetch((request) => handler!(request));
      const authenticator = createResourceServer({
        resource: `${local.url}/mcp`,
        authorizationServers: [issuer.url],
        verify: jwtVerifier({ jwksUrl: issuer.jwksUrl, issuer: issuer.url }),
      });
      handler = protectMcpServer({
        authenticator,
        server: line.build,
        enableJsonResponse: mode === 'json',
        sessions: mode === 'sessions',
      });
      mounted[mode] = local;
    }
  });
  afterAll(async () => {
    await Promise.all([issuer.close(), ...Object.values(mounted).map((s) => s.close())]);
  });

  it.each(['json', 'sse', 'sessions'] as const)('serves the real client of that line (%s)', async (mode) => {
    const server = mounted[mode];
    const token = await tokenFor(server, 'alice');
    const client = await line.connect(`${server.url}/mcp`, token);
    expect(await client.whoami()).toEqual({ userId: 'alice', token, clientId: 'client-alice' });
    await client.close();
  });

  it.each(['json', 'sse'] as const)(
    'keeps authInfo per caller under concurrency: 4 callers × 8 calls in flight (%s)',
    async (mode) => {
      const server = mounted[mode];
      const users = ['ann', 'ben', 'cat', 'dov'];
      const tokens = await Promise.all(users.map((user) => tokenFor(server, user)));
      const clients = await Promise.all(tokens.map((token) => line.connect(`${server.url}/mcp`, token)));
      const calls = clients.flatMap((client, i) =>
        Array.from({ length: 8 }, async () => ({
          expected: users[i],
          token: tokens[i],
          got: await client.whoami(),
        })),
      );
      const results = await Promise.all(calls);
      expect(results).toHaveLength(32);
      for (const { expected, token, got } of results)
        expect(got).toEqual({ userId: expected, token, clientId: `client-${expected}` });
      await Promise.all(clients.map((client) => client.close()));
    },
  );
});

it('serves a v2 server when SDK v1 cannot be loaded at all (no v1 needed for the transport)', async () => {
  const child = fileURLToPath(new URL('./fixtures/v2-only.ts', import.meta.url));
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', child], {
    timeout: 60_000,
  });
  expect(JSON.parse(stdout.trim().split('\n').at(-1) ?? '')).toEqual({ v1Loadable: false, text: 'zoe' });
}, 90_000);
