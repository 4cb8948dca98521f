import { describe, expect, it } from 'vitest';
import { ISSUER, makeServer, registerClient } from './helpers.js';

describe('RFC 7591 dynamic client registration', () => {
  it('registers a public client without a secret', async () => {
    const { server, storage, events } = makeServer();
    const { response, body } = await registerClient(server.fetch);
    expect(response.status).toBe(201);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(body.client_id).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect(body.client_secret).toBeUndefined();
    expect(body.token_endpoint_auth_method).toBe('none');
    expect(body.registration_access_token).toMatch(/^pcrg_/);
    expect(events).toContainEqual({
      type: 'client_registered',
      clientId: body.client_id,
      clientName: 'Test Client',
    });
    const stored = await storage.get('client', body.client_id!);
    expect(stored?.value).not.toContain(body.registration_access_token);
  });

  it('registers confidential clients with a secret hashed at rest', async () => {
    const { server, storage } = makeServer();
    for (const method of ['client_secret_basic', 'client_secret_post']) {
      const { response, body } = await registerClient(server.fetch, { token_endpoint_auth_method: method });
      expect(response.status).toBe(201);
      expect(body.client_secret).toMatch(/^pcs_/);
      expect(body.client_secret_expires_at).toBe(0);
      const stored = await storage.get('client', body.client_id!);
      expect(stored?.value).not.toContain(body.client_secret);
      expect(stored?.value).toContain('secretHash');
    }
  });

  it('defaults to client_secret_basic and authorization_code as RFC 7591 §2 says', async () => {
    const { server } = makeServer();
    const { body } = await registerClient(server.fetch, {
      token_endpoint_auth_method: undefined,
      grant_types: undefined,
    });
    expect(body.token_endpoint_auth_method).toBe('client_secret_basic');
    expect(body.grant_types).toEqual(['authorization_code']);
  });

  it.each([
    ['javascript:alert(1)', 'forbidden scheme'],
    ['data:text/html,hi', 'forbidden scheme'],
    ['https://client.example.com/cb#frag', 'fragment'],
    ['https://evil.com@client.example.com/cb', 'user information'],
    ['https://user:pass@client.example.com/cb', 'user information'],
    ['http://client.example.com/cb', 'loopback'],
    ['http://127.0.0.1.evil.com/cb', 'loopback'],
    ['/relative/callback', 'absolute'],
    ['https://*.example.com/cb', 'wildcards'],
    ['https://client.example.com/c b', 'whitespace'],
    [`https://client.example.com/${'a'.repeat(2100)}`, 'longer'],
    ['file:///etc/passwd', 'forbidden scheme'],
  ])('refuses the redirect URI %s', async (uri, reason) => {
    const { server, events } = makeServer();
    const { response, body } = await registerClient(server.fetch, { redirect_uris: [uri] });
    expect(response.status).toBe(400);
    expect(body.error).toBe('invalid_redirect_uri');
    expect(body.error_description).toContain(reason);
    expect(events.filter((e) => e.type === 'client_registered')).toHaveLength(0);
  });

  it.each([
    'http://127.0.0.1:8080/callback',
    'http://[::1]/callback',
    'http://localhost:6274/oauth/callback',
    'https://claude.ai/api/mcp/auth_callback',
    'com.example.app:/oauth2redirect',
    'cursor://anysphere.cursor-retrieval/oauth/user-x/callback',
  ])('accepts the redirect URI %s', async (uri) => {
    const { server } = makeServer();
    const { response } = await registerClient(server.fetch, { redirect_uris: [uri] });
    expect(response.status).toBe(201);
  });

  it.each([
    [{ redirect_uris: undefined }, 'invalid_redirect_uri'],
    [{ redirect_uris: [] }, 'invalid_client_metadata'],
    [
      { redirect_uris: Array.from({ length: 11 }, (_, i) => `https://c.example.com/${i}`) },
      'invalid_redirect_uri',
    ],
    [{ token_endpoint_auth_method: 'private_key_jwt' }, 'invalid_client_metadata'],
    [{ grant_types: ['client_credentials'] }, 'invalid_client_metadata'],
    [{ grant_types: ['refresh_token'] }, 'invalid_client_metadata'],
    [{ response_types: ['token'] }, 'invalid_client_metadata'],
    [{ client_name: 'x'.repeat(201) }, 'invalid_client_metadata'],
    [{ client_uri: 'javascript:alert(1)' }, 'invalid_client_metadata'],
    [{ scope: 'admin' }, 'invalid_client_metadata'],
    [{ jwks_uri: 'https://c.example.com/jwks' }, 'invalid_client_metadata'],
  ])('refuses bad metadata %j', async (metadata, error) => {
    const { server } = makeServer();
    const { response, body } = await registerClient(server.fetch, metadata);
    expect(response.status).toBe(400);
    expect(body.error).toBe(error);
    expect(body.error_description).toBeTruthy();
  });

  it('refuses non-JSON, non-object and oversized bodies', async () => {
    const { server } = makeServer();
    const post = (body: string, type = 'application/json') =>
      server.fetch(
        new Request(`${ISSUER}/register`, { method: 'POST', headers: { 'content-type': type }, body }),
      );
    expect((await (await post('{not json')).json()).error).toBe('invalid_client_metadata');
    expect((await (await post('[]')).json()).error).toBe('invalid_client_metadata');
    expect((await (await post('redirect_uris=x', 'application/x-www-form-urlencoded')).json()).error).toBe(
      'invalid_client_metadata',
    );
    const big = await post(
      JSON.stringify({ redirect_uris: ['https://c.example.com/cb'], pad: 'x'.repeat(70_000) }),
    );
    expect(big.status).toBe(413);
    expect((await big.json()).error).toBe('invalid_request');
  });

  it('rate-limits registrations per client IP', async () => {
    const { server } = makeServer({ registration: { maxPerHour: 2 }, clientIp: () => '203.0.113.7' });
    expect((await registerClient(server.fetch)).response.status).toBe(201);
    expect((await registerClient(server.fetch)).response.status).toBe(201);
    const third = await registerClient(server.fetch);
    expect(third.response.status).toBe(429);
    expect(third.response.headers.get('retry-after')).toMatch(/^\d+$/);
  });

  it('returns 404 when registration is disabled', async () => {
    const { server } = makeServer({ registration: { enabled: false } });
    expect((await registerClient(server.fetch)).response.status).toBe(404);
  });
});

describe('RFC 7592 client management', () => {
  it('reads, updates and deletes a client with its registration access token', async () => {
    const { server } = makeServer();
    const { body } = await registerClient(server.fetch);
    const uri = body.registration_client_uri!;
    expect(uri).toBe(`${ISSUER}/register/${body.client_id}`);
    const auth = { authorization: `Bearer ${body.registration_access_token}` };
    const read = await server.fetch(new Request(uri, { headers: auth }));
    expect(read.status).toBe(200);
    expect((await read.json()).client_name).toBe('Test Client');
    const put = await server.fetch(
      new Request(uri, {
        method: 'PUT',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({
          client_id: body.client_id,
          redirect_uris: ['https://client.example.com/new'],
          token_endpoint_auth_method: 'none',
          client_name: 'Renamed',
        }),
      }),
    );
    expect(put.status).toBe(200);
    expect((await put.json()).redirect_uris).toEqual(['https://client.example.com/new']);
    expect((await server.fetch(new Request(uri, { method: 'DELETE', headers: auth }))).status).toBe(204);
    expect((await server.fetch(new Request(uri, { headers: auth }))).status).toBe(401);
  });

  it('refuses a wrong or missing registration token with 401', async () => {
    const { server } = makeServer();
    const { body } = await registerClient(server.fetch);
    const uri = body.registration_client_uri!;
    const wrong = await server.fetch(new Request(uri, { headers: { authorization: 'Bearer pcrg_wrong' } }));
    expect(wrong.status).toBe(401);
    expect((await wrong.json()).error).toBe('invalid_token');
    expect((await server.fetch(new Request(uri))).status).toBe(401);
    expect((await server.fetch(new Request(uri, { method: 'DELETE' }))).status).toBe(401);
  });
});

describe('RFC 7592 §2.3 deleting a client', () => {
  it('invalidates its access tokens at once, also when they are cached', async () => {
    const { issueTokens, tokenRequest } = await import('./helpers.js');
    const { server } = makeServer({ tokenCache: { ttlSeconds: 5 } });
    const { body } = await registerClient(server.fetch);
    const tokens = await issueTokens(server.fetch, body.client_id!);
    const valid = async () =>
      (
        await server.authenticate(
          new Request(`${ISSUER}/mcp`, { headers: { authorization: `Bearer ${tokens.access_token}` } }),
        )
      ).ok;
    expect(await valid()).toBe(true);
    const auth = { authorization: `Bearer ${body.registration_access_token}` };
    expect(
      (await server.fetch(new Request(body.registration_client_uri!, { method: 'DELETE', headers: auth })))
        .status,
    ).toBe(204);
    expect(await valid()).toBe(false);
    const refresh = await tokenRequest(server.fetch, {
      grant_type: 'refresh_token',
      refresh_token: tokens.refresh_token,
      client_id: body.client_id!,
    });
    expect(refresh.status).toBe(401);
  });
});
