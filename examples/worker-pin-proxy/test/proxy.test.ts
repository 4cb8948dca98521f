import { fileURLToPath } from 'node:url';
import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthTokens,
} from '@modelcontextprotocol/sdk/shared/auth.js';
import { Miniflare } from 'miniflare';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, bundleWorker, parseForm } from '../../../packages/adapter-workers/test/workerd.js';
import { startUpstream, type Upstream } from './upstream.js';

const PIN = 'K7Q2M9XA';
const UPSTREAM_TOKEN = 'ghp_static_upstream_pat_0123456789';
const SECRET = 'example-worker-test-secret-0123456789abcdefghij';
const REDIRECT = 'http://127.0.0.1:9/callback';

let upstream: Upstream;
let mf: Miniflare;
let origin: string;
let script: string;
const fetchWorker = (path: string, init?: RequestInit) =>
  fetch(new URL(path, origin), { ...init, redirect: 'manual' });

beforeAll(async () => {
  upstream = await startUpstream(UPSTREAM_TOKEN);
  script = await bundleWorker(fileURLToPath(new URL('../src/index.ts', import.meta.url)));
  mf = new Miniflare({
    modules: true,
    script,
    compatibilityDate: '2025-07-01',
    host: '127.0.0.1',
    port: 0,
    kvNamespaces: ['OAUTH_KV'],
    durableObjects: { PORTCULLIS: { className: 'PortcullisCoordinator', useSQLite: true } },
    bindings: {
      UPSTREAM_MCP: upstream.url,
      UPSTREAM_TOKEN,
      AUTH_PIN: PIN,
      PORTCULLIS_SECRET: SECRET,
      SERVICE_NAME: 'Test MCP',
    },
  });
  origin = (await mf.ready).origin;
});
afterAll(async () => {
  await mf?.dispose();
  await upstream?.close();
});

/** An MCP client's OAuth state; the "user" fills the PIN form when the SDK redirects to /authorize. */
class PinClientProvider implements OAuthClientProvider {
  client?: OAuthClientInformationMixed;
  saved?: OAuthTokens;
  verifier = '';
  code?: string;
  pageStatus?: number;
  constructor(private readonly pin: string) {}
  get redirectUrl() {
    return REDIRECT;
  }
  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: 'SDK test client',
      redirect_uris: [REDIRECT],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }
  clientInformation() {
    return this.client;
  }
  saveClientInformation(info: OAuthClientInformationMixed) {
    this.client = info;
  }
  tokens() {
    return this.saved;
  }
  saveTokens(tokens: OAuthTokens) {
    this.saved = tokens;
  }
  saveCodeVerifier(verifier: string) {
    this.verifier = verifier;
  }
  codeVerifier() {
    return this.verifier;
  }
  async redirectToAuthorization(url: URL) {
    const browser = new Browser((u, init) => fetch(u, init));
    const page = await browser.fetch(url.toString());
    const { action, fields } = parseForm(await page.text());
    const answer = await browser.fetch(new URL(action, url).toString(), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ...fields, pin: this.pin, decision: 'approve' }),
    });
    this.pageStatus = answer.status;
    const location = answer.headers.get('location');
    this.code = location ? (new URL(location).searchParams.get('code') ?? undefined) : undefined;
  }
}

/** Connects the SDK client through the whole OAuth flow (discovery, DCR, PKCE, PIN, token). */
async function connect(provider: PinClientProvider, at = origin): Promise<Client> {
  const url = new URL('/mcp', at);
  const first = new StreamableHTTPClientTransport(url, { authProvider: provider });
  const client = new Client({ name: 'sdk-test', version: '1.0.0' });
  await expect(client.connect(first)).rejects.toBeInstanceOf(UnauthorizedError);
  if (!provider.code) throw new Error(`no authorization code (PIN page answered ${provider.pageStatus})`);
  await first.finishAuth(provider.code);
  const connected = new Client({ name: 'sdk-test', version: '1.0.0' });
  await connected.connect(new StreamableHTTPClientTransport(url, { authProvider: provider }));
  return connected;
}

describe('worker-pin-proxy in workerd', () => {
  it('lets the official MCP SDK client in through OAuth + PIN and proxies to the PAT upstream', async () => {
    const provider = new PinClientProvider(PIN);
    const client = await connect(provider);
    const tools = await client.listTools();
    expect(tools.tools.map((t) => t.name)).toEqual(['list_repos']);
    const result = await client.callTool({ name: 'list_repos', arguments: {} });
    expect(result.content).toEqual([{ type: 'text', text: 'portcullis, secret-project' }]);
    await client.close();

    const access = provider.saved?.access_token;
    expect(access).toBeTruthy();
    expect(provider.saved?.refresh_token).toBeTruthy();
    // The upstream saw the proxy's own PAT on every request, never the client's token.
    expect(upstream.seen.length).toBeGreaterThanOrEqual(3);
    for (const request of upstream.seen) {
      expect(request.authorization).toBe(`Bearer ${UPSTREAM_TOKEN}`);
      expect(JSON.stringify(request.headers)).not.toContain(access);
    }
  });

  it('refuses /mcp without a token and points at the protected-resource metadata', async () => {
    const before = upstream.seen.length;
    const response = await fetchWorker('/mcp', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toContain(
      `resource_metadata="${origin}/.well-known/oauth-protected-resource/mcp"`,
    );
    const forged = await fetchWorker('/mcp', {
      method: 'POST',
      headers: { authorization: `Bearer ${UPSTREAM_TOKEN}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(forged.status).toBe(401);
    expect(upstream.seen.length).toBe(before);
  });

  it('refuses a wrong PIN and cancels the request after too many attempts', async () => {
    const checked: string[] = [];
    class WrongPinProvider extends PinClientProvider {
      override async redirectToAuthorization(url: URL) {
        const browser = new Browser((u, init) => fetch(u, init));
        const page = await browser.fetch(url.toString());
        const { action, fields } = parseForm(await page.text());
        const target = new URL(action, url).toString();
        const submit = (pin: string) =>
          browser.fetch(target, {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: new URLSearchParams({ ...fields, pin, decision: 'approve' }),
          });
        // Five wrong PINs are refused, each time with the form shown again.
        for (let i = 0; i < 5; i++) {
          const wrong = await submit(`WRONG${i}XYZ`);
          expect(wrong.status).toBe(401);
          expect(await wrong.text()).toContain('Wrong PIN');
          checked.push(`wrong-${i}`);
        }
        // Over the limit, even the right PIN no longer yields a code: the request is denied.
        const blocked = await submit(PIN);
        const location = blocked.headers.get('location');
        expect(location).toBeTruthy();
        const redirect = new URL(location ?? '');
        expect(redirect.searchParams.get('code')).toBeNull();
        expect(redirect.searchParams.get('error')).toBe('access_denied');
        checked.push('blocked');
      }
    }
    const provider = new WrongPinProvider(PIN);
    const transport = new StreamableHTTPClientTransport(new URL('/mcp', origin), { authProvider: provider });
    const client = new Client({ name: 'sdk-test', version: '1.0.0' });
    await expect(client.connect(transport)).rejects.toBeInstanceOf(UnauthorizedError);
    expect(checked).toEqual(['wrong-0', 'wrong-1', 'wrong-2', 'wrong-3', 'wrong-4', 'blocked']);
    expect(provider.saved).toBeUndefined();
  });

  it('revokes: after RFC 7009 revocation of the refresh token the access token stops working', async () => {
    const provider = new PinClientProvider(PIN);
    const client = await connect(provider);
    await client.close();
    const tokens = provider.saved!;
    const clientId = provider.client!.client_id;
    const revoked = await fetchWorker('/revoke', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        token: tokens.refresh_token!,
        token_type_hint: 'refresh_token',
        client_id: clientId,
      }),
    });
    expect(revoked.status).toBe(200);
    const refused = await fetchWorker('/mcp', {
      method: 'POST',
      headers: {
        authorization: `Bearer ${tokens.access_token}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(refused.status).toBe(401);
  });

  it('runs without KV, everything in the Durable Object', async () => {
    const doOnly = new Miniflare({
      modules: true,
      script,
      compatibilityDate: '2025-07-01',
      host: '127.0.0.1',
      port: 0,
      durableObjects: { PORTCULLIS: { className: 'PortcullisCoordinator', useSQLite: true } },
      bindings: { UPSTREAM_MCP: upstream.url, UPSTREAM_TOKEN, AUTH_PIN: PIN, PORTCULLIS_SECRET: SECRET },
    });
    try {
      const client = await connect(new PinClientProvider(PIN), (await doOnly.ready).origin);
      expect((await client.listTools()).tools.map((t) => t.name)).toEqual(['list_repos']);
      await client.close();
    } finally {
      await doOnly.dispose();
    }
  });

  it('names missing settings in a 500 without revealing any value', async () => {
    const broken = new Miniflare({
      modules: true,
      script,
      compatibilityDate: '2025-07-01',
      durableObjects: { PORTCULLIS: { className: 'PortcullisCoordinator', useSQLite: true } },
      bindings: { UPSTREAM_MCP: upstream.url, AUTH_PIN: PIN, PORTCULLIS_SECRET: SECRET },
    });
    try {
      const response = await broken.dispatchFetch('http://localhost/.well-known/oauth-authorization-server');
      expect(response.status).toBe(500);
      const body = await response.text();
      expect(JSON.parse(body)).toMatchObject({ error: 'server_error' });
      expect(body).not.toContain(PIN);
      expect(body).not.toContain(SECRET);
    } finally {
      await broken.dispose();
    }
  });

  it('honours the lifetimes configured in vars', async () => {
    const provider = new PinClientProvider(PIN);
    const client = await connect(provider);
    await client.close();
    expect(provider.saved?.expires_in).toBe(3600);
  });
});
