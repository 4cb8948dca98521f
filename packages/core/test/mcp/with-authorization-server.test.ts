import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthTokens,
} from '@modelcontextprotocol/sdk/shared/auth.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuthorizationServer, createAuthorizationServer, MemoryStorage } from '../../src/index.js';
import { identityHeaders, mcpProxy, protectMcpServer } from '../../src/mcp/index.js';
import { pinUpstream } from '../../src/upstreams/index.js';
import type { LocalServer } from '../resource-server/helpers.js';
import { serveFetch } from './node-bridge.js';

const PIN = 'correct-horse-42';
const REDIRECT = 'http://127.0.0.1:65001/callback';

/** An OAuth client provider for the SDK whose "browser" fills in the PIN page. */
class PinBrowserProvider implements OAuthClientProvider {
  #client: OAuthClientInformationMixed | undefined;
  #tokens: OAuthTokens | undefined;
  #verifier = '';
  code: string | undefined;

  get redirectUrl() {
    return REDIRECT;
  }
  get clientMetadata(): OAuthClientMetadata {
    return {
      redirect_uris: [REDIRECT],
      client_name: 'SDK test client',
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
    };
  }
  clientInformation() {
    return this.#client;
  }
  saveClientInformation(info: OAuthClientInformationMixed) {
    this.#client = info;
  }
  tokens() {
    return this.#tokens;
  }
  saveTokens(tokens: OAuthTokens) {
    this.#tokens = tokens;
  }
  saveCodeVerifier(verifier: string) {
    this.#verifier = verifier;
  }
  codeVerifier() {
    return this.#verifier;
  }
  async redirectToAuthorization(url: URL) {
    const cookies: string[] = [];
    const page = await fetch(url, { redirect: 'manual' });
    for (const c of page.headers.getSetCookie()) cookies.push(c.split(';')[0] ?? '');
    const html = await page.text();
    const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1] ?? '';
    const fields = Object.fromEntries(
      [...html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [m[1], m[2]]),
    );
    const done = await fetch(action.replace(/&amp;/g, '&'), {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookies.join('; ') },
      body: new URLSearchParams({ ...fields, pin: PIN, decision: 'approve' }),
    });
    this.code = new URL(done.headers.get('location') ?? '').searchParams.get('code') ?? undefined;
  }
}

describe('MCP helpers with the Portcullis authorization server as authenticator', () => {
  let local: LocalServer;
  let upstream: LocalServer;
  let as: AuthorizationServer;
  const upstreamSaw: Headers[] = [];

  beforeAll(async () => {
    upstream = await serveFetch(async (request) => {
      upstreamSaw.push(new Headers(request.headers));
      const server = new McpServer({ name: 'upstream', version: '1' });
      server.registerTool('ping', {}, async () => ({ content: [{ type: 'text', text: 'pong' }] }));
      const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined });
      await server.connect(transport);
      return transport.handleRequest(request);
    });
    let handler: ((r: Request) => Promise<Response>) | undefined;
    local = await serveFetch((request) => handler!(request));
    as = createAuthorizationServer({
      issuer: local.url,
      storage: new MemoryStorage(),
      upstream: pinUpstream({ pin: PIN, userId: 'owner', email: 'owner@example.test' }),
      secret: 'mcp-with-as-tests-secret-0123456789abcd',
      resources: [{ path: '/mcp' }, { path: '/proxy' }],
    });
    const embedded = protectMcpServer({
      authenticator: as,
      server: () => {
        const server = new McpServer({ name: 'embedded', version: '1' });
        server.registerTool('whoami', {}, async (extra) => ({
          content: [{ type: 'text', text: JSON.stringify(extra.authInfo) }],
        }));
        return server;
      },
    });
    const proxy = mcpProxy({
      upstream: `${upstream.url}/mcp`,
      authenticator: as,
      credentials: identityHeaders(),
    });
    handler = async (request) => {
      if (as.handles(request)) return as.fetch(request);
      const { pathname } = new URL(request.url);
      if (pathname === '/mcp') return embedded(request);
      if (pathname === '/proxy') return proxy(request);
      return new Response('not found', { status: 404 });
    };
  });
  afterAll(async () => {
    await Promise.all([local.close(), upstream.close()]);
  });

  async function connectWithOAuth(path: string) {
    const provider = new PinBrowserProvider();
    const first = new Client({ name: 'sdk', version: '1' });
    const url = new URL(`${local.url}${path}`);
    const transport = new StreamableHTTPClientTransport(url, { authProvider: provider });
    await expect(first.connect(transport)).rejects.toThrow(/Unauthorized/i);
    expect(provider.code).toBeTruthy();
    await transport.finishAuth(provider.code ?? '');
    const client = new Client({ name: 'sdk', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(url, { authProvider: provider }));
    return { client, provider };
  }

  it('runs discovery, DCR, PKCE and the PIN page with the SDK OAuth provider, then tools see authInfo', async () => {
    const { client, provider } = await connectWithOAuth('/mcp');
    const result = await client.callTool({ name: 'whoami', arguments: {} });
    const authInfo = JSON.parse((result.content as [{ text: string }])[0].text);
    expect(authInfo).toMatchObject({
      token: provider.tokens()?.access_token,
      clientId: (provider.clientInformation() as { client_id: string }).client_id,
      resource: `${local.url}/mcp`,
      extra: { userId: 'owner', email: 'owner@example.test', resource: `${local.url}/mcp` },
    });
    await client.close();
  });

  it('proxies with identity headers for a token the AS issued', async () => {
    const { client } = await connectWithOAuth('/proxy');
    upstreamSaw.length = 0;
    const result = await client.callTool({ name: 'ping', arguments: {} });
    expect((result.content as [{ text: string }])[0].text).toBe('pong');
    expect(upstreamSaw.at(-1)?.get('x-forwarded-user')).toBe('owner');
    expect(upstreamSaw.at(-1)?.get('x-forwarded-email')).toBe('owner@example.test');
    expect(upstreamSaw.at(-1)?.get('authorization')).toBeNull();
    await client.close();
  });
});
