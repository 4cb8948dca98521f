import { describe, expect, it } from 'vitest';
import { approveWithPin, authorizeUrl, Browser, ISSUER, makeServer, registerClient } from './helpers.js';

async function setup(metadata: Record<string, unknown> = {}) {
  const ctx = makeServer();
  const { body } = await registerClient(ctx.server.fetch, metadata);
  return { ...ctx, clientId: body.client_id! };
}

const open = async (server: { fetch: (r: Request) => Promise<Response> }, url: string) =>
  new Browser(server.fetch).fetch(url);

const redirectError = (response: Response) => {
  expect(response.status).toBe(302);
  const location = new URL(response.headers.get('location')!);
  expect(location.origin + location.pathname).toBe('https://client.example.com/callback');
  expect(location.searchParams.get('iss')).toBe(ISSUER);
  return Object.fromEntries(location.searchParams);
};

describe('authorization endpoint: errors shown as a page, never redirected', () => {
  it.each([
    ['missing client_id', { client_id: undefined }, 'client_id'],
    ['unknown client_id', { client_id: 'nope' }, 'not registered'],
    ['unregistered redirect_uri', { redirect_uri: 'https://attacker.example/cb' }, 'does not match'],
    [
      'redirect_uri with extra path',
      { redirect_uri: 'https://client.example.com/callback/extra' },
      'does not match',
    ],
    [
      'redirect_uri with extra query',
      { redirect_uri: 'https://client.example.com/callback?x=1' },
      'does not match',
    ],
  ])('%s', async (_name, params, text) => {
    const { server, clientId } = await setup();
    const response = await open(
      server,
      await authorizeUrl(
        'client_id' in params && params.client_id === undefined ? '' : clientId,
        params as Record<string, string | undefined>,
      ),
    );
    expect(response.status).toBe(400);
    expect(response.headers.get('location')).toBeNull();
    expect(response.headers.get('content-type')).toContain('text/html');
    expect(await response.text()).toContain(text);
  });

  it('refuses repeated parameters without redirecting', async () => {
    const { server, clientId } = await setup();
    const url = `${await authorizeUrl(clientId)}&state=second`;
    const response = await open(server, url);
    expect(response.status).toBe(400);
    expect(await response.text()).toContain('repeated');
  });

  it('requires redirect_uri when several are registered, allows omitting it when one is', async () => {
    const many = await setup({
      redirect_uris: ['https://client.example.com/callback', 'https://client.example.com/other'],
    });
    expect(
      (await open(many.server, await authorizeUrl(many.clientId, { redirect_uri: undefined }))).status,
    ).toBe(400);
    const one = await setup();
    expect(
      (await open(one.server, await authorizeUrl(one.clientId, { redirect_uri: undefined }))).status,
    ).toBe(200);
  });
});

describe('authorization endpoint: errors redirected with state and iss (RFC 9207)', () => {
  it.each([
    ['missing PKCE challenge', { code_challenge: undefined }, 'invalid_request'],
    ['plain PKCE method', { code_challenge_method: 'plain' }, 'invalid_request'],
    ['missing PKCE method (defaults to plain)', { code_challenge_method: undefined }, 'invalid_request'],
    ['malformed challenge', { code_challenge: 'short' }, 'invalid_request'],
    ['implicit grant', { response_type: 'token' }, 'unsupported_response_type'],
    ['missing response_type', { response_type: undefined }, 'invalid_request'],
    ['foreign resource', { resource: 'https://other.example.com/mcp' }, 'invalid_target'],
    ['long state', { state: 'x'.repeat(3000) }, 'invalid_request'],
  ])('%s', async (_name, params, error) => {
    const { server, clientId } = await setup();
    const query = redirectError(await open(server, await authorizeUrl(clientId, params)));
    expect(query.error).toBe(error);
    expect(query.error_description).toBeTruthy();
    if (!('state' in params)) expect(query.state).toBe('xyz-state');
  });

  it('refuses two resource parameters', async () => {
    const { server, clientId } = await setup();
    const url = `${await authorizeUrl(clientId)}&resource=${encodeURIComponent(`${ISSUER}/mcp`)}&resource=${encodeURIComponent(`${ISSUER}/x`)}`;
    expect(redirectError(await open(server, url)).error).toBe('invalid_target');
  });

  it('refuses an unknown scope (strict scopes)', async () => {
    const ctx = makeServer({ scopes: { strict: true } });
    const { body } = await registerClient(ctx.server.fetch);
    const query = redirectError(
      await open(ctx.server, await authorizeUrl(body.client_id!, { scope: 'mcp admin' })),
    );
    expect(query.error).toBe('invalid_scope');
    expect(query.error_description).toBeTruthy();
    expect(query.state).toBe('xyz-state');
  });

  it('refuses scopes outside the client registration (strict scopes)', async () => {
    const ctx = makeServer({ scopes: { supported: ['mcp', 'admin'], default: ['mcp'], strict: true } });
    const { body } = await registerClient(ctx.server.fetch, { scope: 'mcp' });
    const query = redirectError(
      await open(ctx.server, await authorizeUrl(body.client_id!, { scope: 'admin' })),
    );
    expect(query.error).toBe('invalid_scope');
  });
});

describe('authorization endpoint: success', () => {
  it('shows the PIN page with client, scopes and clickjacking protection', async () => {
    const { server, clientId } = await setup({ client_name: '<b>Evil</b> Client' });
    const response = await open(server, await authorizeUrl(clientId, { scope: 'mcp' }));
    expect(response.status).toBe(200);
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    expect(response.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('set-cookie')).toMatch(
      /^__Host-portcullis-flow=[\w-]{43}; Path=\/; HttpOnly; SameSite=Lax; Max-Age=600; Secure$/,
    );
    const html = await response.text();
    expect(html).toContain('&lt;b&gt;Evil&lt;/b&gt; Client');
    expect(html).not.toContain('<b>Evil</b>');
    expect(html).toContain('<code>mcp</code>');
    expect(html).toContain('https://client.example.com');
  });

  it('accepts loopback redirects on another port (RFC 8252 §7.3) and returns code, state and iss', async () => {
    const { server, clientId } = await setup({ redirect_uris: ['http://127.0.0.1/callback'] });
    const redirect = 'http://127.0.0.1:53682/callback';
    const response = await approveWithPin(
      new Browser(server.fetch),
      await authorizeUrl(clientId, { redirect_uri: redirect }),
    );
    expect(response.status).toBe(302);
    const location = new URL(response.headers.get('location')!);
    expect(`${location.origin}${location.pathname}`).toBe(redirect);
    expect(location.searchParams.get('code')).toMatch(/^pcac_/);
    expect(location.searchParams.get('state')).toBe('xyz-state');
    expect(location.searchParams.get('iss')).toBe(ISSUER);
  });

  it('does not allow port variance for non-loopback or localhost-name tricks', async () => {
    const { server, clientId } = await setup({
      redirect_uris: ['https://client.example.com/callback', 'http://127.0.0.1/cb'],
    });
    for (const uri of [
      'https://client.example.com:8443/callback',
      'http://127.0.0.1:80@evil.com/cb',
      'http://localhost:5000/cb',
    ]) {
      expect((await open(server, await authorizeUrl(clientId, { redirect_uri: uri }))).status, uri).toBe(400);
    }
  });

  it('accepts a resource with or without trailing slash and clients that omit it', async () => {
    const { server, clientId } = await setup();
    for (const resource of [`${ISSUER}/mcp`, `${ISSUER}/mcp/`, undefined]) {
      expect((await open(server, await authorizeUrl(clientId, { resource }))).status).toBe(200);
    }
  });
});
