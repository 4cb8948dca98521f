import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import { toNodeListener } from '@portcullis/adapter-node';
import { pinUpstream } from '@portcullis/core/upstreams';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClient, PinOAuthProvider } from '../../../packages/adapter-node/test/helpers/mcp-client.js';
import { freePort } from '../../../packages/cli/test/helpers/spawn.js';
import { readEnv } from '../src/config.js';
import { createGateway, type OidcGateway } from '../src/gateway.js';

/** The upstream MCP server (Context Forge's stand-in): no auth, trusts the proxy, records what it got. */
let upstream: Server;
let upstreamUrl: string;
const seen: Headers[] = [];
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'oidc-gateway-'));
  upstream = createServer(
    toNodeListener(async (request) => {
      seen.push(new Headers(request.headers));
      const server = new McpServer({ name: 'context-forge-standin', version: '1.0.0' });
      server.registerTool('greet', { description: 'Greets the proxied user' }, async (extra) => ({
        content: [
          { type: 'text', text: `hello ${extra.requestInfo?.headers['x-forwarded-user'] ?? 'nobody'}` },
        ],
      }));
      const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined });
      await server.connect(transport);
      return transport.handleRequest(request);
    }),
  );
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/mcp`;
});
afterAll(async () => {
  upstream.closeAllConnections();
  await new Promise((resolve) => upstream.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

function env(port: number, databaseUrl: string, prefix = 'portcullis_') {
  return readEnv({
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    PORT: String(port),
    DATABASE_URL: databaseUrl,
    TABLE_PREFIX: prefix,
    PORTCULLIS_SECRET: 'an-example-secret-that-is-definitely-32-chars',
    GOOGLE_CLIENT_ID: 'client.apps.googleusercontent.com',
    GOOGLE_CLIENT_SECRET: 'google-secret',
    ALLOWED_DOMAINS: 'example.com',
    UPSTREAM_MCP_URL: upstreamUrl,
  });
}

async function listen(gateway: OidcGateway, port: number): Promise<() => Promise<void>> {
  const server = createServer(gateway.app);
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await gateway.close();
  };
}

async function proxiesAsTheUser(databaseUrl: string, prefix?: string): Promise<void> {
  const port = await freePort();
  const gateway = createGateway(env(port, databaseUrl, prefix), {
    // Google needs the internet; the PIN upstream stands in for "the user signed in as alice".
    upstream: pinUpstream({ pin: '11223344', userId: 'alice@example.com', email: 'alice@example.com' }),
  });
  const stop = await listen(gateway, port);
  try {
    const provider = new PinOAuthProvider('11223344');
    const client = await connectClient(`http://127.0.0.1:${port}/mcp`, provider);
    seen.length = 0;
    const result = await client.callTool({ name: 'greet', arguments: {} });
    expect(result.content).toEqual([{ type: 'text', text: 'hello alice@example.com' }]);
    const call = seen.at(-1)!;
    expect(call.get('x-forwarded-user')).toBe('alice@example.com');
    expect(call.get('x-forwarded-email')).toBe('alice@example.com');
    expect(call.get('authorization')).toBeNull(); // the client's token is never passed upstream
    await client.close();

    // A client cannot pick its identity: spoofed headers are replaced by the verified ones.
    const token = provider.tokens()!.access_token;
    seen.length = 0;
    const spoofed = await fetch(`http://127.0.0.1:${port}/mcp`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'x-forwarded-user': 'admin@example.com',
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
          clientInfo: { name: 'raw', version: '1' },
        },
      }),
    });
    expect(spoofed.status).toBe(200);
    await spoofed.text();
    expect(seen.at(-1)?.get('x-forwarded-user')).toBe('alice@example.com');
  } finally {
    await stop();
  }
}

describe('node-oidc-gateway', () => {
  it('boots with the Google configuration, serves metadata and protects /mcp', async () => {
    const port = await freePort();
    const gateway = createGateway(env(port, `sqlite:${join(dir, 'boot.db')}`));
    const stop = await listen(gateway, port);
    try {
      const base = `http://127.0.0.1:${port}`;
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      const metadata = (await (await fetch(`${base}/.well-known/oauth-authorization-server`)).json()) as {
        issuer: string;
        registration_endpoint: string;
        code_challenge_methods_supported: string[];
      };
      expect(metadata.issuer).toBe(base);
      expect(metadata.registration_endpoint).toBe(`${base}/register`);
      expect(metadata.code_challenge_methods_supported).toEqual(['S256']);
      const prm = (await (await fetch(`${base}/.well-known/oauth-protected-resource/mcp`)).json()) as {
        resource: string;
        authorization_servers: string[];
      };
      expect(prm).toMatchObject({ resource: `${base}/mcp`, authorization_servers: [base] });
      const before = seen.length;
      const refused = await fetch(`${base}/mcp`, { method: 'POST', body: '{}' });
      expect(refused.status).toBe(401);
      expect(refused.headers.get('www-authenticate')).toContain('resource_metadata=');
      expect(seen.length).toBe(before); // nothing reached the upstream
    } finally {
      await stop();
    }
  });

  it('proxies to the upstream with X-Forwarded-User / X-Forwarded-Email (SQLite)', async () => {
    await proxiesAsTheUser(`sqlite:${join(dir, 'flow.db')}`);
  });

  it('proxies to the upstream with X-Forwarded-User / X-Forwarded-Email (Postgres)', async () => {
    const url = process.env.POSTGRES_URL;
    if (!url) {
      if (process.env.PORTCULLIS_REQUIRE_SERVICES === '1') throw new Error('POSTGRES_URL is not set');
      return;
    }
    const prefix = `ex${Date.now().toString(36)}_`;
    try {
      await proxiesAsTheUser(url, prefix);
    } finally {
      const pg = await import('pg');
      const client = new pg.default.Client({ connectionString: url });
      await client.connect();
      await client.query(`DROP TABLE IF EXISTS ${prefix}records, ${prefix}migrations`);
      await client.end();
    }
  });

  it('refuses incomplete configuration with one line naming the variables', () => {
    expect(() => readEnv({ PUBLIC_URL: 'not a url', GOOGLE_CLIENT_SECRET: 'shh' })).toThrow(
      /^invalid configuration: PUBLIC_URL: .*DATABASE_URL is required.*GOOGLE_CLIENT_ID is required/,
    );
    expect(() =>
      readEnv({
        PUBLIC_URL: 'https://mcp.example.com',
        DATABASE_URL: 'postgres://db/app',
        PORTCULLIS_SECRET: 'x'.repeat(40),
        GOOGLE_CLIENT_ID: 'id',
        GOOGLE_CLIENT_SECRET: 'shh',
        UPSTREAM_MCP_URL: 'http://context-forge/mcp',
      }),
    ).toThrow(/ALLOWED_DOMAINS or ALLOWED_EMAILS/);
  });
});
