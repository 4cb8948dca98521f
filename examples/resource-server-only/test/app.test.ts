import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import { type RunningServer, serve } from '@portcullis/adapter-node';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/app.js';
import { readConfig } from '../src/config.js';

/** The external authorization server's signing key, served as a JWKS. */
async function startAuthorizationServer() {
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'as-1', alg: 'RS256', use: 'sig' };
  const running = await serve(async () => Response.json({ keys: [jwk] }), { port: 0 });
  const sign = (claims: Record<string, unknown>) =>
    new SignJWT({ scope: 'mcp', client_id: 'claude', ...claims })
      .setProtectedHeader({ alg: 'RS256', kid: 'as-1', typ: 'at+jwt' })
      .setIssuer(running.url)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(privateKey);
  return { running, sign };
}

/** An upstream MCP server that trusts identity headers (like Context Forge with TRUST_PROXY_AUTH). */
async function startUpstream() {
  return serve(
    async (request) => {
      const server = new McpServer({ name: 'context-forge-stand-in', version: '1.0.0' });
      server.registerTool('whoami', { description: 'Who the proxy says I am' }, async (extra) => {
        const headers = extra.requestInfo?.headers ?? {};
        return {
          content: [
            {
              type: 'text',
              text: JSON.stringify({
                user: headers['x-forwarded-user'] ?? null,
                email: headers['x-forwarded-email'] ?? null,
                authorization: headers.authorization ?? null,
              }),
            },
          ],
        };
      });
      const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined });
      await server.connect(transport);
      return transport.handleRequest(request);
    },
    { port: 0 },
  );
}

describe('resource-server-only example', () => {
  let as: Awaited<ReturnType<typeof startAuthorizationServer>>;
  let upstream: RunningServer;
  let app: RunningServer;
  let resource = '';

  beforeAll(async () => {
    as = await startAuthorizationServer();
    upstream = await startUpstream();
    // The app's public URL is only known once it listens: bind first, then build the handler.
    let handler: ((r: Request) => Promise<Response>) | undefined;
    app = await serve((request) => handler!(request), { port: 0 });
    resource = `${app.url}/mcp`;
    const config = readConfig({
      PUBLIC_URL: app.url,
      AUTHORIZATION_SERVER: as.running.url,
      JWKS_URL: `${as.running.url}/jwks`,
      UPSTREAM_MCP: `${upstream.url}/mcp`,
    });
    handler = createApp(config).fetch;
  });
  afterAll(async () => {
    await Promise.all([app.close(), upstream.close(), as.running.close()]);
  });

  it('serves RFC 9728 metadata pointing at the external authorization server', async () => {
    const response = await fetch(`${app.url}/.well-known/oauth-protected-resource/mcp`);
    expect(await response.json()).toEqual({
      resource,
      authorization_servers: [as.running.url],
      bearer_methods_supported: ['header'],
      scopes_supported: ['mcp'],
    });
    const challenge = await fetch(resource, { method: 'POST', body: '{}' });
    expect(challenge.status).toBe(401);
    expect(challenge.headers.get('www-authenticate')).toContain(
      `resource_metadata="${app.url}/.well-known/oauth-protected-resource/mcp"`,
    );
  });

  it('forwards verified identity headers upstream and drops spoofed ones and the client token', async () => {
    const token = await as.sign({ sub: 'user-7', email: 'joe@example.com', aud: resource });
    const client = new Client({ name: 'example-test', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(resource), {
        requestInit: {
          headers: { authorization: `Bearer ${token}`, 'x-forwarded-user': 'admin@example.com' },
        },
      }),
    );
    const result = await client.callTool({ name: 'whoami', arguments: {} });
    const seen = JSON.parse((result.content as [{ text: string }])[0].text);
    expect(seen).toEqual({ user: 'joe@example.com', email: 'joe@example.com', authorization: null });
    await client.close();
  });

  it('refuses tokens for another audience', async () => {
    const token = await as.sign({
      sub: 'user-7',
      email: 'joe@example.com',
      aud: 'https://other.example.com/mcp',
    });
    const client = new Client({ name: 'example-test', version: '1.0.0' });
    await expect(
      client.connect(
        new StreamableHTTPClientTransport(new URL(resource), {
          requestInit: { headers: { authorization: `Bearer ${token}` } },
        }),
      ),
    ).rejects.toThrow();
  });

  it('rejects incomplete configuration with the variable name', () => {
    expect(() => readConfig({ PUBLIC_URL: 'https://x.test' })).toThrow(/AUTHORIZATION_SERVER/);
    expect(() =>
      readConfig({
        PUBLIC_URL: 'https://x.test',
        TOKEN_VERIFICATION: 'cloudflare-access',
        UPSTREAM_MCP: 'http://u/mcp',
      }),
    ).toThrow(/CF_ACCESS_TEAM/);
  });
});
