import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createResourceServer, introspectionVerifier, jwtVerifier } from '../../src/resource-server/index.js';
import { type LocalIssuer, type LocalServer, readBody, startIssuer, startServer } from './helpers.js';

const RESOURCE = 'https://mcp.example.test/mcp';

describe('createResourceServer with jwtVerifier', () => {
  let issuer: LocalIssuer;
  beforeAll(async () => {
    issuer = await startIssuer();
  });
  afterAll(() => issuer.close());

  const server = () =>
    createResourceServer({
      resource: RESOURCE,
      authorizationServers: [issuer.url],
      verify: jwtVerifier({ jwksUrl: issuer.jwksUrl, issuer: issuer.url }),
      scopesSupported: ['mcp', 'admin'],
      requiredScopes: ['mcp'],
    });
  const call = (token?: string, url = RESOURCE) =>
    new Request(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  const claims = {
    iss: '',
    sub: 'user-1',
    client_id: 'client-1',
    aud: RESOURCE,
    scope: 'mcp',
    email: 'a@b.test',
  };

  it('serves RFC 9728 metadata at the path-inserted and root well-known URLs', async () => {
    const rs = server();
    for (const path of [
      '/.well-known/oauth-protected-resource/mcp',
      '/.well-known/oauth-protected-resource',
    ]) {
      const res = await rs.protectedResourceMetadata(new Request(`https://mcp.example.test${path}`));
      expect(res?.status).toBe(200);
      expect(res?.headers.get('access-control-allow-origin')).toBe('*');
      expect(await res?.json()).toEqual({
        resource: RESOURCE,
        authorization_servers: [issuer.url],
        bearer_methods_supported: ['header'],
        scopes_supported: ['mcp', 'admin'],
      });
    }
    expect(await rs.protectedResourceMetadata(new Request('https://mcp.example.test/mcp'))).toBeNull();
  });

  it('never advertises offline_access, even when configured (SEP-2207)', async () => {
    const rs = createResourceServer({
      resource: RESOURCE,
      authorizationServers: [issuer.url],
      verify: jwtVerifier({ jwksUrl: issuer.jwksUrl, issuer: issuer.url }),
      scopesSupported: ['mcp', 'offline_access'],
    });
    const res = await rs.protectedResourceMetadata(
      new Request('https://mcp.example.test/.well-known/oauth-protected-resource/mcp'),
    );
    expect(res?.status).toBe(200);
    expect((await res!.json()).scopes_supported).toEqual(['mcp']);
  });

  it('answers a request without a token with 401, the resource_metadata challenge and the scopes to ask for', async () => {
    const result = await server().authenticate(call());
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.response.status).toBe(401);
    // MCP 2025-11-25: the challenge also names the scopes to ask for.
    expect(result.response.headers.get('www-authenticate')).toBe(
      'Bearer resource_metadata="https://mcp.example.test/.well-known/oauth-protected-resource/mcp", scope="mcp"',
    );
  });

  it('accepts a valid RFC 9068 token and maps its claims', async () => {
    const token = await issuer.sign({ ...claims, iss: issuer.url, name: 'Ada' });
    const result = await server().authenticate(call(token));
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.info).toMatchObject({
      token,
      clientId: 'client-1',
      userId: 'user-1',
      email: 'a@b.test',
      name: 'Ada',
      scopes: ['mcp'],
      resource: RESOURCE,
    });
    expect(result.info.expiresAt).toBeGreaterThan(Date.now() / 1000);
  });

  it('refuses a token issued for another audience', async () => {
    const token = await issuer.sign({ ...claims, iss: issuer.url, aud: 'https://other.example.test/mcp' });
    const result = await server().authenticate(call(token));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.response.status).toBe(401);
    expect(result.response.headers.get('www-authenticate')).toContain('error="invalid_token"');
    expect(await result.response.json()).toMatchObject({
      error: 'invalid_token',
      error_description: 'The access token was issued for another resource.',
    });
  });

  it('refuses an expired token', async () => {
    const past = Math.floor(Date.now() / 1000) - 120;
    const token = await issuer.sign({ ...claims, iss: issuer.url, iat: past - 60, exp: past });
    const result = await server().authenticate(call(token));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(await result.response.json()).toMatchObject({
      error_description: 'The access token has expired.',
    });
  });

  it('refuses a token from another issuer, a non-access-token typ, and a tampered signature', async () => {
    const otherIss = await issuer.sign({ ...claims, iss: 'https://evil.test' });
    const idToken = await issuer.sign({ ...claims, iss: issuer.url }, { typ: 'JWT' });
    const good = await issuer.sign({ ...claims, iss: issuer.url });
    const [h, p, s] = good.split('.');
    const tampered = `${h}.${p}.${s?.startsWith('A') ? `B${s.slice(1)}` : `A${s?.slice(1)}`}`;
    const rs = server();
    for (const token of [otherIss, idToken, tampered]) {
      const result = await rs.authenticate(call(token));
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.response.status).toBe(401);
    }
  });

  it('answers missing scopes with 403 insufficient_scope naming the scope', async () => {
    const token = await issuer.sign({ ...claims, iss: issuer.url, scope: 'mcp' });
    const result = await server().authenticate(call(token), { requiredScopes: ['mcp', 'admin'] });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.response.status).toBe(403);
    const challenge = result.response.headers.get('www-authenticate') ?? '';
    expect(challenge).toContain('error="insufficient_scope"');
    expect(challenge).toContain('scope="mcp admin"');
  });

  it('refuses tokens in the query string and malformed Authorization headers', async () => {
    const rs = server();
    const query = await rs.authenticate(new Request(`${RESOURCE}?access_token=abc`));
    expect(query.ok).toBe(false);
    if (!query.ok) expect(query.response.status).toBe(400);
    const basic = await rs.authenticate(
      new Request(RESOURCE, { headers: { authorization: 'Basic Zm9vOmJhcg==' } }),
    );
    expect(basic.ok).toBe(false);
    if (!basic.ok) expect(basic.response.status).toBe(400);
  });

  it('reports an unreachable JWKS as 503, not as an invalid token', async () => {
    const rs = createResourceServer({
      resource: RESOURCE,
      authorizationServers: [issuer.url],
      verify: jwtVerifier({ jwksUrl: 'http://127.0.0.1:1/jwks', issuer: issuer.url }),
    });
    const token = await issuer.sign({ ...claims, iss: issuer.url });
    const result = await rs.authenticate(call(token));
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.response.status).toBe(503);
  });
});

describe('createResourceServer with introspectionVerifier', () => {
  let as: LocalServer;
  let calls = 0;
  let lastAuthorization: string | undefined;
  const now = () => Math.floor(Date.now() / 1000);
  const answers: Record<string, Record<string, unknown>> = {};

  beforeAll(async () => {
    as = await startServer(async (req, res) => {
      calls++;
      lastAuthorization = req.headers.authorization;
      const form = new URLSearchParams(await readBody(req));
      res.setHeader('content-type', 'application/json');
      if (req.headers.authorization !== `Basic ${btoa('rs-client:s3cret%2Fx')}`) {
        res.statusCode = 401;
        res.end('{"error":"invalid_client"}');
        return;
      }
      res.end(JSON.stringify(answers[form.get('token') ?? ''] ?? { active: false }));
    });
    answers.good = {
      active: true,
      sub: 'u1',
      client_id: 'c1',
      scope: 'mcp read',
      aud: RESOURCE,
      exp: now() + 600,
      iss: 'https://as.test',
    };
    answers.otherAud = {
      active: true,
      sub: 'u1',
      client_id: 'c1',
      scope: 'mcp',
      aud: 'https://x.test/mcp',
      exp: now() + 600,
    };
    answers.expired = {
      active: true,
      sub: 'u1',
      client_id: 'c1',
      scope: 'mcp',
      aud: RESOURCE,
      exp: now() - 5,
    };
    answers.noAud = { active: true, sub: 'u1', client_id: 'c1', scope: 'mcp', exp: now() + 600 };
  });
  afterAll(() => as.close());

  const make = (extra: Partial<Parameters<typeof introspectionVerifier>[0]> = {}) =>
    createResourceServer({
      resource: RESOURCE,
      authorizationServers: ['https://as.test'],
      verify: introspectionVerifier({
        endpoint: `${as.url}/introspect`,
        clientId: 'rs-client',
        clientSecret: 's3cret/x',
        issuer: 'https://as.test',
        cacheTtl: 60,
        ...extra,
      }),
    });
  const call = (token: string) => new Request(RESOURCE, { headers: { authorization: `Bearer ${token}` } });

  it('accepts an active token and caches the answer by token hash', async () => {
    const rs = make();
    const before = calls;
    const first = await rs.authenticate(call('good'));
    const second = await rs.authenticate(call('good'));
    expect(first.ok && second.ok).toBe(true);
    if (first.ok) expect(first.info).toMatchObject({ userId: 'u1', clientId: 'c1', scopes: ['mcp', 'read'] });
    expect(calls - before).toBe(1);
    expect(lastAuthorization).toBe(`Basic ${btoa('rs-client:s3cret%2Fx')}`);
  });

  it('does not cache when cacheTtl is 0', async () => {
    const rs = make({ cacheTtl: 0 });
    const before = calls;
    await rs.authenticate(call('good'));
    await rs.authenticate(call('good'));
    expect(calls - before).toBe(2);
  });

  it('keeps the cache bounded, dropping the oldest answers', async () => {
    const rs = make({ cacheMaxEntries: 1 });
    const before = calls;
    await rs.authenticate(call('good'));
    await rs.authenticate(call('noAud'));
    await rs.authenticate(call('good'));
    expect(calls - before).toBe(3);
  });

  it('refuses inactive, other-audience, expired and audience-less tokens', async () => {
    const rs = make();
    for (const token of ['unknown', 'otherAud', 'expired', 'noAud']) {
      const result = await rs.authenticate(call(token));
      expect(result.ok, token).toBe(false);
      if (!result.ok) expect(result.response.status).toBe(401);
    }
    const lenient = await make({ requireAudience: false }).authenticate(call('noAud'));
    expect(lenient.ok).toBe(true);
  });

  it('answers 503 when the introspection endpoint refuses the resource server', async () => {
    const rs = make({ clientSecret: 'wrong' });
    const result = await rs.authenticate(call('good'));
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.response.status).toBe(503);
  });
});
