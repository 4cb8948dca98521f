import { describe, expect, it } from 'vitest';
import { registrationSource } from '../src/endpoints/register-limits.js';
import { REAL_REGISTRATIONS } from './fixtures/real-clients.js';
import { ISSUER, issueTokens, makeServer, registerClient } from './helpers.js';

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
    [
      { token_endpoint_auth_method: 'private_key_jwt', jwks_uri: 'http://c.example.com/jwks' },
      'invalid_client_metadata',
    ],
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

  it('refuses unknown scopes in strict mode', async () => {
    const { server } = makeServer({ scopes: { strict: true } });
    const { response, body } = await registerClient(server.fetch, { scope: 'admin' });
    expect(response.status).toBe(400);
    expect(body.error).toBe('invalid_client_metadata');
    expect(body.error_description).toBeTruthy();
  });

  it('rate-limits registrations per client IP', async () => {
    const { server } = makeServer({ registration: { maxPerHour: 2 }, clientIp: () => '203.0.113.7' });
    // Distinct clients: identical public re-registrations are answered without a new record.
    expect((await registerClient(server.fetch, { client_name: 'One' })).response.status).toBe(201);
    expect((await registerClient(server.fetch, { client_name: 'Two' })).response.status).toBe(201);
    const third = await registerClient(server.fetch, { client_name: 'Three' });
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

/** POSTs a registration body exactly as given (no defaults merged in). */
async function registerRaw(fetcher: (r: Request) => Promise<Response>, body: Record<string, unknown>) {
  const response = await fetcher(
    new Request(`${ISSUER}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }),
  );
  return { response, body: (await response.json()) as Record<string, unknown> };
}

const CODE_AND_REFRESH = ['authorization_code', 'refresh_token'];

describe('RFC 7591 §3.2.1 tolerant registration: real clients get what this server supports', () => {
  const expected: Record<string, Record<string, unknown>> = {
    // device_code is narrowed away; the other server's scope read:data leaves the default.
    'VS Code 2025-09': { token_endpoint_auth_method: 'none', application_type: 'native', scope: undefined },
    'VS Code': { token_endpoint_auth_method: 'none', application_type: 'native', scope: 'mcp' },
    'Claude.ai': { token_endpoint_auth_method: 'client_secret_post', application_type: 'web', scope: 'mcp' },
    ChatGPT: { token_endpoint_auth_method: 'none', application_type: 'web', scope: undefined },
    Cursor: { token_endpoint_auth_method: 'none', application_type: 'web', scope: undefined },
    'mcp-remote': { token_endpoint_auth_method: 'none', application_type: 'native', scope: 'mcp' },
  };

  it.each(REAL_REGISTRATIONS.map((r) => [r.client, r] as const))(
    '%s registers and completes a flow',
    async (name, { body }) => {
      const { server } = makeServer();
      const { response, body: info } = await registerRaw(server.fetch, body);
      expect(response.status).toBe(201);
      expect(info).toMatchObject({
        redirect_uris: body.redirect_uris,
        grant_types: CODE_AND_REFRESH,
        response_types: ['code'],
      });
      const { scope, ...rest } = expected[name]!;
      expect(info).toMatchObject(rest);
      expect(info.scope).toBe(scope);
      const redirect = (body.redirect_uris as string[])[0]!;
      const secret: Record<string, string> = info.client_secret
        ? { client_secret: String(info.client_secret) }
        : {};
      const tokens = await issueTokens(
        server.fetch,
        String(info.client_id),
        { redirect_uri: redirect, scope: undefined },
        secret,
      );
      expect(tokens.scope).toBe('mcp');
      expect(tokens.refresh_token).toMatch(/^pcrt_/);
    },
  );

  it('narrows grant types, response types and scopes, and says so in the response and RFC 7592 GET/PUT', async () => {
    const { server } = makeServer({ scopes: { supported: ['mcp', 'read'], default: ['mcp'] } });
    const asked = {
      redirect_uris: ['https://client.example.com/callback'],
      token_endpoint_auth_method: 'none',
      grant_types: [
        'authorization_code',
        'refresh_token',
        'urn:ietf:params:oauth:grant-type:device_code',
        'urn:ietf:params:oauth:grant-type:jwt-bearer',
      ],
      response_types: ['code', 'id_token'],
      scope: 'read admin offline_access',
      frobnicate: { unknown: true },
    };
    const { response, body } = await registerRaw(server.fetch, asked);
    expect(response.status).toBe(201);
    const registered = { grant_types: CODE_AND_REFRESH, response_types: ['code'], scope: 'read' };
    expect(body).toMatchObject(registered);
    expect(body).not.toHaveProperty('frobnicate');
    const auth = { authorization: `Bearer ${body.registration_access_token}` };
    const uri = String(body.registration_client_uri);
    expect(await (await server.fetch(new Request(uri, { headers: auth }))).json()).toMatchObject(registered);
    const put = await server.fetch(
      new Request(uri, {
        method: 'PUT',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({
          ...asked,
          client_id: body.client_id,
          grant_types: ['authorization_code', 'implicit'],
        }),
      }),
    );
    expect(put.status).toBe(200);
    expect(await put.json()).toMatchObject({ grant_types: ['authorization_code'], response_types: ['code'] });
  });

  it.each([
    [{ grant_types: ['urn:ietf:params:oauth:grant-type:device_code'] }, 'No usable grant type'],
    [{ grant_types: ['refresh_token', 'client_credentials'] }, 'No usable grant type'],
    [{ grant_types: [] }, 'No usable grant type'],
    [{ response_types: ['id_token', 'token'] }, 'No usable response type'],
    [{ token_endpoint_auth_method: 'tls_client_auth' }, 'not supported'],
    [{ token_endpoint_auth_method: 'private_key_jwt' }, 'jwks or jwks_uri'],
    [
      {
        token_endpoint_auth_method: 'private_key_jwt',
        jwks_uri: 'https://client.example.com/jwks',
        jwks: { keys: [{ kty: 'EC' }] },
      },
      'not both',
    ],
    [{ token_endpoint_auth_method: 'private_key_jwt', jwks_uri: 'https://10.0.0.7/jwks' }, 'public host'],
    [
      { token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] } },
      'public keys only',
    ],
    [{ token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [] } }, 'JWK Set'],
  ])('refuses what cannot be used: %j', async (metadata, reason) => {
    const { server, events } = makeServer();
    const { response, body } = await registerClient(server.fetch, metadata);
    expect(response.status).toBe(400);
    expect(body.error).toBe('invalid_client_metadata');
    expect(body.error_description).toContain(reason);
    expect(events.some((e) => e.type === 'client_registered')).toBe(false);
  });

  it('records private_key_jwt with its keys, without a secret, and lists none when the client allows it', async () => {
    const { server, storage } = makeServer();
    const jwks = { keys: [{ kty: 'EC', crv: 'P-256', x: 'x', y: 'y', kid: 'k1' }] };
    const only = await registerClient(server.fetch, {
      token_endpoint_auth_method: 'private_key_jwt',
      token_endpoint_auth_signing_alg: 'ES256',
      jwks,
    });
    expect(only.response.status).toBe(201);
    expect(only.body).toMatchObject({
      token_endpoint_auth_method: 'private_key_jwt',
      token_endpoint_auth_signing_alg: 'ES256',
      jwks,
    });
    expect(only.body.client_secret).toBeUndefined();
    expect(only.body.client_secret_expires_at).toBeUndefined();
    const stored = JSON.parse((await storage.get('client', only.body.client_id!))!.value);
    expect(stored).toMatchObject({ authMethod: 'private_key_jwt', jwks });
    expect(stored.secretHash).toBeUndefined();

    const both = await registerClient(server.fetch, {
      token_endpoint_auth_method: 'private_key_jwt',
      token_endpoint_auth_methods_supported: ['none', 'private_key_jwt', 'client_secret_basic'],
      token_endpoint_auth_signing_alg: 'HS256',
      jwks_uri: 'https://client.example.com/jwks.json',
    });
    expect(both.body).toMatchObject({
      token_endpoint_auth_method: 'private_key_jwt',
      token_endpoint_auth_methods_supported: ['private_key_jwt', 'none'],
      jwks_uri: 'https://client.example.com/jwks.json',
    });
    // A symmetric algorithm is not an assertion algorithm: it is ignored, not registered.
    expect(both.body.token_endpoint_auth_signing_alg).toBeUndefined();
  });

  it('ignores keys and alternatives of a client that does not use them; a secret client stays confidential', async () => {
    const { server } = makeServer();
    const none = await registerClient(server.fetch, { jwks_uri: 'https://client.example.com/jwks' });
    expect(none.response.status).toBe(201);
    expect(none.body.jwks_uri).toBeUndefined();
    const secret = await registerClient(server.fetch, {
      token_endpoint_auth_method: 'client_secret_post',
      token_endpoint_auth_methods_supported: ['none', 'client_secret_post'],
    });
    expect(secret.body.token_endpoint_auth_method).toBe('client_secret_post');
    expect(secret.body.token_endpoint_auth_methods_supported).toBeUndefined();
    expect(secret.body.client_secret).toMatch(/^pcs_/);
  });

  it.each([
    [
      'native, as declared (VS Code with an https redirect too)',
      'native',
      ['https://vscode.dev/redirect', 'http://127.0.0.1:33418/'],
      'native',
    ],
    [
      'web with a private-use scheme (older Cursor), kept',
      'web',
      ['cursor://anysphere.cursor-mcp/oauth/callback'],
      'web',
    ],
    ['absent, loopback only', undefined, ['http://localhost:3334/oauth/callback'], 'native'],
    ['absent, a private-use scheme', undefined, ['com.example.app:/oauth2redirect'], 'native'],
    ['absent, https', undefined, ['https://claude.ai/api/mcp/auth_callback'], 'web'],
    ['unknown value, loopback', 'browser', ['http://127.0.0.1/cb'], 'native'],
  ])('application_type %s', async (_name, declared, redirects, registered) => {
    const { server } = makeServer();
    const { response, body } = await registerClient(server.fetch, {
      application_type: declared,
      redirect_uris: redirects,
    });
    expect(response.status).toBe(201);
    expect(body.application_type).toBe(registered);
  });
});

describe('identical re-registrations (a client that registers at every login)', () => {
  const zed = (port: number) => ({
    client_name: 'Zed',
    redirect_uris: [`http://127.0.0.1:${port}/callback`],
  });

  it('answer the second and later ones with one shared client that nobody can manage', async () => {
    const { server, events } = makeServer();
    const first = await registerClient(server.fetch, zed(50001));
    expect(first.body.registration_access_token).toMatch(/^pcrg_/);
    const second = await registerClient(server.fetch, zed(50002));
    const third = await registerClient(server.fetch, zed(50003));
    expect(second.response.status).toBe(201);
    expect(second.body.client_id).not.toBe(first.body.client_id);
    // The first registrant's RFC 7592 token never covers a client others get.
    expect(second.body.registration_access_token).toBeUndefined();
    expect(second.body.registration_client_uri).toBeUndefined();
    expect(third.response.status).toBe(201);
    expect(third.body.client_id).toBe(second.body.client_id);
    expect(third.body.registration_access_token).toBeUndefined();
    expect(events.filter((e) => e.type === 'client_registered')).toHaveLength(2);
    // Loopback ports may vary per request (RFC 8252 §7.3): the shared client serves the third's port.
    const tokens = await issueTokens(server.fetch, third.body.client_id!, {
      redirect_uri: 'http://127.0.0.1:50003/callback',
    });
    expect(tokens.access_token).toMatch(/^pcat_/);
    const manage = `${ISSUER}/register/${second.body.client_id}`;
    const byFirstToken = await server.fetch(
      new Request(manage, { headers: { authorization: `Bearer ${first.body.registration_access_token}` } }),
    );
    expect(byFirstToken.status).toBe(401);
  });

  it('do not count against the rate limit', async () => {
    const { server } = makeServer({ registration: { maxPerHour: 2 }, clientIp: () => '203.0.113.9' });
    for (let i = 0; i < 6; i++)
      expect((await registerClient(server.fetch, zed(50000 + i))).response.status).toBe(201);
    expect((await registerClient(server.fetch, { client_name: 'Other' })).response.status).toBe(429);
  });

  it.each([
    ['another name', { client_name: 'Zed Preview' }],
    ['another redirect path', { redirect_uris: ['http://127.0.0.1:50001/other'] }],
    ['another host', { redirect_uris: ['http://localhost:50001/callback'] }],
    ['more grant types', { grant_types: ['authorization_code'] }],
    ['a software version', { software_version: '2.0' }],
  ])('are not identical with %s', async (_name, change) => {
    const { server } = makeServer();
    await registerClient(server.fetch, zed(50001));
    const shared = await registerClient(server.fetch, zed(50001));
    const other = await registerClient(server.fetch, { ...zed(50001), ...change });
    expect(other.body.client_id).not.toBe(shared.body.client_id);
    expect(other.body.registration_access_token).toMatch(/^pcrg_/);
  });

  it('never apply to confidential clients: each registration gets its own client and secret', async () => {
    const { server } = makeServer();
    const claude = REAL_REGISTRATIONS.find((r) => r.client === 'Claude.ai')!.body;
    const ids = new Set<unknown>();
    const secrets = new Set<unknown>();
    for (let i = 0; i < 3; i++) {
      const { body } = await registerRaw(server.fetch, claude);
      ids.add(body.client_id);
      secrets.add(body.client_secret);
      expect(body.registration_access_token).toMatch(/^pcrg_/);
    }
    expect(ids.size).toBe(3);
    expect(secrets.size).toBe(3);
  });
});

describe('registration rate limits', () => {
  const limited = (ip: () => string, rateLimit = { perMinute: 3, perHour: 5 }) =>
    makeServer({ registration: { rateLimit }, clientIp: ip });
  let n = 0;
  const distinct = () => ({ client_name: `Client ${n++}` });

  it('allow a burst per minute, then answer 429 until the window passes', async () => {
    const { server, clock } = limited(() => '198.51.100.4');
    for (let i = 0; i < 3; i++)
      expect((await registerClient(server.fetch, distinct())).response.status).toBe(201);
    const refused = await registerClient(server.fetch, distinct());
    expect(refused.response.status).toBe(429);
    expect(refused.body.error).toBe('invalid_request');
    expect(Number(refused.response.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    clock.advance(60_000);
    expect((await registerClient(server.fetch, distinct())).response.status).toBe(201);
    expect((await registerClient(server.fetch, distinct())).response.status).toBe(201);
    // The hourly window is full now (5), whatever the minute says.
    clock.advance(60_000);
    const hourly = await registerClient(server.fetch, distinct());
    expect(hourly.response.status).toBe(429);
    expect(Number(hourly.response.headers.get('retry-after'))).toBeGreaterThan(60);
  });

  it('scale the burst with the legacy maxPerHour', async () => {
    const { server } = makeServer({ registration: { maxPerHour: 1000 }, clientIp: () => '198.51.100.5' });
    for (let i = 0; i < 40; i++)
      expect((await registerClient(server.fetch, distinct())).response.status).toBe(201);
  });

  it('count an IPv6 /64 as one source, and IPv4 addresses one by one', async () => {
    let ip = '2001:db8:1:2::1';
    const { server } = limited(() => ip, { perMinute: 2, perHour: 10 });
    expect((await registerClient(server.fetch, distinct())).response.status).toBe(201);
    ip = '2001:db8:1:2:ffff:ffff:ffff:fffe';
    expect((await registerClient(server.fetch, distinct())).response.status).toBe(201);
    ip = '2001:0db8:0001:0002:abcd::9';
    expect((await registerClient(server.fetch, distinct())).response.status).toBe(429);
    ip = '2001:db8:1:3::1';
    expect((await registerClient(server.fetch, distinct())).response.status).toBe(201);
    for (const v4 of ['160.79.104.10', '160.79.104.11', '160.79.104.12']) {
      ip = v4;
      expect((await registerClient(server.fetch, distinct())).response.status).toBe(201);
      expect((await registerClient(server.fetch, distinct())).response.status).toBe(201);
    }
  });

  it.each([
    ['203.0.113.7', '203.0.113.7'],
    [' 203.0.113.7 ', '203.0.113.7'],
    ['::ffff:203.0.113.7', '203.0.113.7'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['[2001:DB8:0:0:1::1]', '2001:db8:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    ['2001:db8:1:2:3:4:1.2.3.4', '2001:db8:1:2::/64'],
    ['not an address', 'not an address'],
  ])('counts %j against %j', (ip, source) => {
    expect(registrationSource(ip)).toBe(source);
  });
});
