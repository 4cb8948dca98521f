import { describe, expect, it } from 'vitest';
import { ISSUER, issueTokens, makeServer, registerClient } from './helpers.js';

async function withToken(overrides = {}, params: Record<string, string> = {}) {
  const ctx = makeServer(overrides);
  const { body: client } = await registerClient(ctx.server.fetch);
  const tokens = await issueTokens(ctx.server.fetch, client.client_id!, params);
  const call = (authorization: string | undefined, path = '/mcp', options = {}) =>
    ctx.server.authenticate(
      new Request(`${ISSUER}${path}`, {
        method: 'POST',
        headers: authorization === undefined ? {} : { authorization },
      }),
      options,
    );
  return { ...ctx, client, tokens, call };
}

const challengeOf = (result: Awaited<ReturnType<Awaited<ReturnType<typeof withToken>>['call']>>) => {
  if (result.ok) throw new Error('expected a refusal');
  return { status: result.response.status, header: result.response.headers.get('www-authenticate') ?? '' };
};

describe('authenticate (resource side, RFC 6750)', () => {
  it('returns the token info for a valid bearer token', async () => {
    const { call, tokens, client } = await withToken();
    const result = await call(`Bearer ${tokens.access_token}`);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.info).toEqual({
      token: tokens.access_token,
      clientId: client.client_id,
      userId: 'owner',
      scopes: ['mcp'],
      resource: `${ISSUER}/mcp`,
      props: {},
      expiresAt: Math.floor(Date.UTC(2030, 0, 1) / 1000) + 3600,
    });
  });

  // What the in-process caches hand out is shared by every request: a handler cannot change it for the next.
  it.each([
    ['without the token cache', {}],
    ['with the token cache', { tokenCache: { ttlSeconds: 2 } }],
  ])('hands out token info that a handler cannot change for later requests (%s)', async (_label, options) => {
    const { call, tokens } = await withToken(options);
    const first = await call(`Bearer ${tokens.access_token}`);
    if (!first.ok) throw new Error('expected the token to verify');
    const props = first.info.props as Record<string, unknown>;
    expect(() => {
      props.admin = true;
    }).toThrow(TypeError);
    if (Object.isFrozen(first.info.scopes)) {
      expect(() => (first.info.scopes as string[]).push('admin')).toThrow(TypeError);
    } else (first.info.scopes as string[]).push('admin'); // a fresh copy: changing it is harmless
    const second = await call(`Bearer ${tokens.access_token}`);
    if (!second.ok) throw new Error('expected the token to verify');
    expect(second.info.scopes).toEqual(['mcp']);
    expect(second.info.props).toEqual({});
  });

  it('accepts a case-insensitive scheme', async () => {
    const { call, tokens } = await withToken();
    expect((await call(`bearer ${tokens.access_token}`)).ok).toBe(true);
  });

  it('401 without credentials carries resource_metadata and scope but no error code (RFC 6750 §3.1)', async () => {
    const { call } = await withToken();
    const { status, header } = challengeOf(await call(undefined));
    expect(status).toBe(401);
    expect(header).toBe(
      `Bearer resource_metadata="${ISSUER}/.well-known/oauth-protected-resource/mcp", scope="mcp"`,
    );
  });

  it.each([
    ['Basic dXNlcjpwYXNz', 400, 'invalid_request'],
    ['Bearer', 400, 'invalid_request'],
    ['Bearer a b', 400, 'invalid_request'],
    ['Bearer tok"en', 400, 'invalid_request'],
    ['Token abc', 400, 'invalid_request'],
    ['Bearer pcat_unknown', 401, 'invalid_token'],
  ])('refuses the Authorization header %j', async (header, status, error) => {
    const { call } = await withToken();
    const result = challengeOf(await call(header));
    expect(result.status).toBe(status);
    expect(result.header).toContain(`error="${error}"`);
    expect(result.header).toContain('resource_metadata=');
  });

  it('refuses tokens in the query string (OAuth 2.1 §5.1.1)', async () => {
    const { server, tokens } = await withToken();
    const result = await server.authenticate(
      new Request(`${ISSUER}/mcp?access_token=${tokens.access_token}`),
    );
    expect(challengeOf(result).status).toBe(400);
    // The same parameter name percent-encoded, beside a valid header.
    const encoded = await server.authenticate(
      new Request(`${ISSUER}/mcp?acc%65ss_token=${tokens.access_token}`, {
        headers: { authorization: `Bearer ${tokens.access_token}` },
      }),
    );
    expect(challengeOf(encoded).status).toBe(400);
    const unrelated = await server.authenticate(
      new Request(`${ISSUER}/mcp?q=%20access`, {
        headers: { authorization: `Bearer ${tokens.access_token}` },
      }),
    );
    expect(unrelated.ok).toBe(true);
  });

  it('refuses an expired token', async () => {
    const { call, tokens, clock } = await withToken();
    clock.advance(3600_000);
    expect(challengeOf(await call(`Bearer ${tokens.access_token}`)).header).toContain(
      'error="invalid_token"',
    );
  });

  it('refuses a token for another resource (audience, RFC 8707)', async () => {
    const { call, tokens } = await withToken({ resources: [{ path: '/mcp' }, { path: '/admin' }] });
    const result = challengeOf(await call(`Bearer ${tokens.access_token}`, '/admin'));
    expect(result.status).toBe(401);
    expect(result.header).toContain('oauth-protected-resource/admin');
    expect((await call(`Bearer ${tokens.access_token}`, '/mcp/sub/path')).ok).toBe(true);
  });

  it('403 insufficient_scope names the required scope (step-up)', async () => {
    const { call, tokens } = await withToken({ scopes: { supported: ['mcp', 'admin'], default: ['mcp'] } });
    const result = challengeOf(
      await call(`Bearer ${tokens.access_token}`, '/mcp', { requiredScopes: ['admin'] }),
    );
    expect(result.status).toBe(403);
    expect(result.header).toContain('error="insufficient_scope"');
    expect(result.header).toContain('scope="admin"');
  });

  it('refuses a token whose grant was revoked, and after secret rotation keeps old grants readable', async () => {
    const { server, call, tokens, client, storage, clock } = await withToken();
    expect((await call(`Bearer ${tokens.access_token}`)).ok).toBe(true);
    const { createAuthorizationServer } = await import('@portcullis/core');
    const { pinUpstream } = await import('@portcullis/core/upstreams');
    const rotated = createAuthorizationServer({
      issuer: ISSUER,
      storage,
      upstream: pinUpstream({ pin: '123456' }),
      secret: ['a-brand-new-secret-of-32-characters!!', 'test-secret-test-secret-test-secret-0123'],
      now: clock.now,
    });
    const auth = await rotated.authenticate(
      new Request(`${ISSUER}/mcp`, { headers: { authorization: `Bearer ${tokens.access_token}` } }),
    );
    expect(auth.ok).toBe(true);
    const revoke = await server.fetch(
      new Request(`${ISSUER}/revoke`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token: tokens.refresh_token, client_id: client.client_id! }),
      }),
    );
    expect(revoke.status).toBe(200);
    expect(challengeOf(await call(`Bearer ${tokens.access_token}`)).header).toContain('invalid_token');
  });

  it('401 names the baseline scopes of the resource, never offline_access (SEP-2207)', async () => {
    const { call, tokens } = await withToken(
      {
        scopes: { supported: ['read', 'write', 'offline_access'], default: ['read'] },
        resources: [
          {
            path: '/mcp',
            scopes: ['read', 'write', 'offline_access'],
            advertisedScopes: ['read', 'offline_access'],
          },
        ],
      },
      { scope: 'read offline_access' },
    );
    const { header } = challengeOf(await call(undefined));
    expect(header).toBe(
      `Bearer resource_metadata="${ISSUER}/.well-known/oauth-protected-resource/mcp", scope="read"`,
    );
    const stepUp = challengeOf(
      await call(`Bearer ${tokens.access_token}`, '/mcp', { requiredScopes: ['write'] }),
    );
    expect(stepUp.status).toBe(403);
    expect(stepUp.header).toContain('scope="write"');
  });

  it('builds a 401 challenge for handlers that refuse early', async () => {
    const { server } = await withToken();
    const response = server.unauthorized(new Request(`${ISSUER}/mcp`));
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toContain('resource_metadata=');
  });
});
