import { describe, expect, it } from 'vitest';
import { ISSUER, makeServer, obtainCode, registerClient, tokenRequest, VERIFIER } from './helpers.js';

const REDIRECT = 'https://client.example.com/callback';

async function setup(metadata: Record<string, unknown> = {}, overrides = {}) {
  const ctx = makeServer(overrides);
  const { body } = await registerClient(ctx.server.fetch, metadata);
  return { ...ctx, client: body };
}

const codeForm = (clientId: string, code: string, extra: Record<string, string> = {}) => ({
  grant_type: 'authorization_code',
  code,
  redirect_uri: REDIRECT,
  code_verifier: VERIFIER,
  client_id: clientId,
  ...extra,
});

const expectError = async (response: Response, error: string, status = 400) => {
  expect(response.status).toBe(status);
  expect(response.headers.get('cache-control')).toBe('no-store');
  const body = await response.json();
  expect(body.error).toBe(error);
  expect(typeof body.error_description).toBe('string');
  return body;
};

describe('token endpoint: authorization_code', () => {
  it('issues opaque tokens with no-store, binding the resource as audience', async () => {
    const { server, client, storage } = await setup();
    const { code } = await obtainCode(server.fetch, client.client_id!);
    const response = await tokenRequest(
      server.fetch,
      codeForm(client.client_id!, code, { resource: `${ISSUER}/mcp` }),
    );
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const body = await response.json();
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 3600, scope: 'mcp' });
    expect(body.access_token).toMatch(/^pcat_[\w-]{43}$/);
    expect(body.refresh_token).toMatch(/^pcrt_[\w-]{43}$/);
    // Hashed at rest: the raw token is not a key.
    expect(await storage.get('access', body.access_token)).toBeNull();
    const auth = await server.authenticate(
      new Request(`${ISSUER}/mcp`, { headers: { authorization: `Bearer ${body.access_token}` } }),
    );
    expect(auth.ok && auth.info.resource).toBe(`${ISSUER}/mcp`);
  });

  it('omits the refresh token for clients that did not register the refresh_token grant', async () => {
    const { server, client } = await setup({ grant_types: ['authorization_code'] });
    const { code } = await obtainCode(server.fetch, client.client_id!);
    const body = await (await tokenRequest(server.fetch, codeForm(client.client_id!, code))).json();
    expect(body.access_token).toBeTruthy();
    expect(body.refresh_token).toBeUndefined();
  });

  it('a replayed code fails and revokes the tokens it issued (RFC 6749 §4.1.2)', async () => {
    const { server, client, events, clock } = await setup();
    const { code } = await obtainCode(server.fetch, client.client_id!);
    const first = await (await tokenRequest(server.fetch, codeForm(client.client_id!, code))).json();
    clock.advance(20_001); // Past the reuse interval: a repeat within it gets the same tokens (packages/core/test/token-reuse.test.ts).
    await expectError(await tokenRequest(server.fetch, codeForm(client.client_id!, code)), 'invalid_grant');
    const auth = await server.authenticate(
      new Request(`${ISSUER}/mcp`, { headers: { authorization: `Bearer ${first.access_token}` } }),
    );
    expect(auth.ok).toBe(false);
    expect(events.some((e) => e.type === 'replay_detected' && e.what === 'authorization_code')).toBe(true);
    await expectError(
      await tokenRequest(server.fetch, {
        grant_type: 'refresh_token',
        refresh_token: first.refresh_token,
        client_id: client.client_id!,
      }),
      'invalid_grant',
    );
  });

  it('without a reuse interval, 50 parallel redemptions of one code: at most one token, the replays revoke it', async () => {
    const { server, client, events } = await setup({}, { reuseIntervalSeconds: 0 });
    const { code } = await obtainCode(server.fetch, client.client_id!);
    const responses = await Promise.all(
      Array.from({ length: 50 }, () => tokenRequest(server.fetch, codeForm(client.client_id!, code))),
    );
    const ok = responses.filter((r) => r.status === 200);
    expect(ok.length).toBeLessThanOrEqual(1);
    expect(responses.filter((r) => r.status === 400)).toHaveLength(50 - ok.length);
    expect(events.filter((e) => e.type === 'replay_detected')).toHaveLength(49);
    for (const response of ok) {
      const { access_token, refresh_token } = await response.json();
      const auth = await server.authenticate(
        new Request(`${ISSUER}/mcp`, { headers: { authorization: `Bearer ${access_token}` } }),
      );
      expect(auth.ok).toBe(false);
      await expectError(
        await tokenRequest(server.fetch, {
          grant_type: 'refresh_token',
          refresh_token,
          client_id: client.client_id!,
        }),
        'invalid_grant',
      );
    }
  });

  it('caps token lifetimes at the absolute grant lifetime', async () => {
    const { server, client, clock } = await setup({}, { lifetimes: { grant: 5000, accessToken: 3600 } });
    const { code } = await obtainCode(server.fetch, client.client_id!);
    const first = await (await tokenRequest(server.fetch, codeForm(client.client_id!, code))).json();
    expect(first.expires_in).toBe(3600);
    clock.advance(3000_000);
    const refresh = (token: string) =>
      tokenRequest(server.fetch, {
        grant_type: 'refresh_token',
        refresh_token: token,
        client_id: client.client_id!,
      });
    const second = await (await refresh(first.refresh_token)).json();
    expect(second.expires_in).toBe(2000);
    clock.advance(2000_000);
    await expectError(await refresh(second.refresh_token), 'invalid_grant');
  });

  it.each([
    ['wrong verifier', { code_verifier: 'b'.repeat(50) }, 'invalid_grant'],
    ['missing verifier (PKCE downgrade)', { code_verifier: undefined }, 'invalid_request'],
    ['malformed verifier', { code_verifier: 'short' }, 'invalid_request'],
    ['wrong redirect_uri', { redirect_uri: 'https://client.example.com/other' }, 'invalid_grant'],
    ['missing redirect_uri', { redirect_uri: undefined }, 'invalid_request'],
    ['unknown code', { code: 'pcac_unknown' }, 'invalid_grant'],
    ['missing code', { code: undefined }, 'invalid_request'],
    ['other resource', { resource: 'https://other.example.com/mcp' }, 'invalid_target'],
  ])('refuses %s', async (_name, changes, error) => {
    const { server, client } = await setup();
    const { code } = await obtainCode(server.fetch, client.client_id!);
    const form: Record<string, string | undefined> = { ...codeForm(client.client_id!, code), ...changes };
    const clean = Object.fromEntries(Object.entries(form).filter(([, v]) => v !== undefined)) as Record<
      string,
      string
    >;
    await expectError(await tokenRequest(server.fetch, clean), error);
  });

  it('refuses an expired code', async () => {
    const { server, client, clock } = await setup();
    const { code } = await obtainCode(server.fetch, client.client_id!);
    clock.advance(301_000);
    await expectError(await tokenRequest(server.fetch, codeForm(client.client_id!, code)), 'invalid_grant');
  });

  it('refuses a code presented by another client', async () => {
    const { server, client } = await setup();
    const other = (await registerClient(server.fetch)).body;
    const { code } = await obtainCode(server.fetch, client.client_id!);
    await expectError(await tokenRequest(server.fetch, codeForm(other.client_id!, code)), 'invalid_grant');
  });
});

describe('token endpoint: client authentication', () => {
  it('accepts client_secret_basic with form-encoded credentials and refuses the wrong secret', async () => {
    const { server, client } = await setup({ token_endpoint_auth_method: 'client_secret_basic' });
    const { code } = await obtainCode(server.fetch, client.client_id!);
    const basic = (secret: string) =>
      `Basic ${btoa(`${encodeURIComponent(client.client_id!)}:${encodeURIComponent(secret)}`)}`;
    const { client_id: _, ...form } = codeForm(client.client_id!, code);
    const bad = await tokenRequest(server.fetch, form, { authorization: basic('wrong') });
    await expectError(bad, 'invalid_client', 401);
    expect(bad.headers.get('www-authenticate')).toContain('Basic');
    const { code: code2 } = await obtainCode(server.fetch, client.client_id!);
    const ok = await tokenRequest(
      server.fetch,
      { ...form, code: code2 },
      { authorization: basic(client.client_secret!) },
    );
    expect(ok.status).toBe(200);
  });

  it('accepts client_secret_post, refuses a method other than the registered one or two methods at once', async () => {
    const { server, client } = await setup({ token_endpoint_auth_method: 'client_secret_post' });
    const { code } = await obtainCode(server.fetch, client.client_id!);
    await expectError(
      await tokenRequest(server.fetch, codeForm(client.client_id!, code)),
      'invalid_client',
      401,
    );
    const both = await tokenRequest(
      server.fetch,
      codeForm(client.client_id!, code, { client_secret: client.client_secret! }),
      { authorization: `Basic ${btoa(`${client.client_id}:${client.client_secret}`)}` },
    );
    await expectError(both, 'invalid_request');
    const { code: code2 } = await obtainCode(server.fetch, client.client_id!);
    expect(
      (
        await tokenRequest(
          server.fetch,
          codeForm(client.client_id!, code2, { client_secret: client.client_secret! }),
        )
      ).status,
    ).toBe(200);
  });

  it.each([
    ['no client', { grant_type: 'authorization_code', code: 'x' }, 'invalid_client', 401],
    [
      'unknown client',
      { grant_type: 'authorization_code', code: 'x', client_id: 'nope' },
      'invalid_client',
      401,
    ],
    ['unsupported grant', { grant_type: 'password', client_id: 'x' }, 'unsupported_grant_type', 400],
    ['client credentials grant', { grant_type: 'client_credentials' }, 'unsupported_grant_type', 400],
    ['missing grant type', { code: 'x' }, 'invalid_request', 400],
  ])('refuses %s', async (_name, form, error, status) => {
    const { server } = await setup();
    await expectError(await tokenRequest(server.fetch, form), error, status);
  });

  it('refuses malformed Basic headers, JSON bodies, repeated parameters and GET', async () => {
    const { server, client } = await setup();
    await expectError(
      await tokenRequest(server.fetch, { grant_type: 'refresh_token' }, { authorization: 'Basic !!!' }),
      'invalid_client',
      401,
    );
    const json = await server.fetch(
      new Request(`${ISSUER}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      }),
    );
    await expectError(json, 'invalid_request');
    const repeated = await server.fetch(
      new Request(`${ISSUER}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `grant_type=refresh_token&client_id=${client.client_id}&client_id=${client.client_id}`,
      }),
    );
    await expectError(repeated, 'invalid_request');
    await expectError(await server.fetch(new Request(`${ISSUER}/token`)), 'method_not_allowed', 405);
  });
});

describe('token endpoint: refresh_token', () => {
  async function tokens(strict = false, overrides = {}) {
    const ctx = await setup(
      {},
      { scopes: { supported: ['mcp', 'read'], default: ['mcp'], strict }, ...overrides },
    );
    const { code } = await obtainCode(ctx.server.fetch, ctx.client.client_id!, { scope: 'mcp read' });
    const body = await (await tokenRequest(ctx.server.fetch, codeForm(ctx.client.client_id!, code))).json();
    const refresh = (token: string, extra: Record<string, string> = {}) =>
      tokenRequest(ctx.server.fetch, {
        grant_type: 'refresh_token',
        refresh_token: token,
        client_id: ctx.client.client_id!,
        ...extra,
      });
    return { ...ctx, body, refresh };
  }

  it('rotates the refresh token and may narrow but never widen the scope (strict scopes)', async () => {
    const { body, refresh } = await tokens(true);
    const narrowed = await refresh(body.refresh_token, { scope: 'read' });
    expect(narrowed.status).toBe(200);
    const next = await narrowed.json();
    expect(next.scope).toBe('read');
    expect(next.refresh_token).not.toBe(body.refresh_token);
    await expectError(await refresh(next.refresh_token, { scope: 'mcp read admin' }), 'invalid_scope');
  });

  it('a stranger presenting the refresh token does not burn it', async () => {
    const { server, body, refresh } = await tokens();
    const stranger = (await registerClient(server.fetch)).body;
    await expectError(
      await tokenRequest(server.fetch, {
        grant_type: 'refresh_token',
        refresh_token: body.refresh_token,
        client_id: stranger.client_id!,
      }),
      'invalid_grant',
    );
    expect((await refresh(body.refresh_token)).status).toBe(200);
  });

  it('refuses expired refresh tokens and a foreign resource', async () => {
    const { body, refresh, clock } = await tokens();
    await expectError(
      await refresh(body.refresh_token, { resource: 'https://other.example.com/mcp' }),
      'invalid_target',
    );
    clock.advance(31 * 86_400_000);
    await expectError(await refresh(body.refresh_token), 'invalid_grant');
  });

  it('without a reuse interval, parallel refreshes with one token: exactly one wins, the reuse revokes', async () => {
    const { body, refresh } = await tokens(false, { reuseIntervalSeconds: 0 });
    const responses = await Promise.all(Array.from({ length: 10 }, () => refresh(body.refresh_token)));
    const ok = responses.filter((r) => r.status === 200);
    expect(ok).toHaveLength(1);
    const winner = await ok[0]!.json();
    await expectError(await refresh(winner.refresh_token), 'invalid_grant');
  });
});
