import { MemoryStorage } from '@portcullis/core';
import { jwtAccessTokens, signingKeys } from '@portcullis/core/extensions';
import { pinUpstream } from '@portcullis/core/upstreams';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import * as oauth from 'oauth4webapi';
import { describe, expect, it } from 'vitest';
import { ISSUER, makeServer, manualClock, PIN, SECRET } from '../helpers.js';
import { codeFlow } from './flow.js';

const MCP = `${ISSUER}/mcp`;
const OTHER = `${ISSUER}/other`;
const resources = [{ path: '/mcp' }, { path: '/other' }];

function jwtServer(options: Parameters<typeof jwtAccessTokens>[0] = {}) {
  return makeServer({ resources, extensions: [jwtAccessTokens(options)] });
}

const call = (server: ReturnType<typeof makeServer>['server'], token: string, url = MCP) =>
  server.authenticate(new Request(url, { headers: { authorization: `Bearer ${token}` } }));

async function jwks(server: ReturnType<typeof makeServer>['server']) {
  const response = await server.fetch(new Request(`${ISSUER}/.well-known/jwks.json`));
  expect(response.status).toBe(200);
  return { response, body: (await response.json()) as { keys: Record<string, unknown>[] } };
}

describe('jwtAccessTokens (RFC 9068)', () => {
  it('issues at+jwt tokens with every claim RFC 9068 §2 requires, verifiable with the published JWKS', async () => {
    const { server, clock } = jwtServer({ lifetimeSeconds: 600 });
    const fetcher = (request: Request) => server.fetch(request);
    const { tokens, client } = await codeFlow({ issuer: ISSUER, fetcher, resource: MCP });
    expect(tokens.token_type).toBe('bearer');
    expect(tokens.expires_in).toBe(600);
    const header = decodeProtectedHeader(tokens.access_token);
    expect(header).toMatchObject({ typ: 'at+jwt', alg: 'ES256' });
    const { body, response } = await jwks(server);
    expect(response.headers.get('cache-control')).toMatch(/^public, max-age=\d+$/);
    expect(body.keys.map((k) => k.kid)).toEqual([header.kid]);
    expect(body.keys[0]).not.toHaveProperty('d');
    const { payload } = await jwtVerify(tokens.access_token, createLocalJWKSet(body as never), {
      issuer: ISSUER,
      audience: MCP,
      typ: 'at+jwt',
      currentDate: new Date(clock.now()),
    });
    expect(payload).toMatchObject({ sub: 'owner', client_id: client.client_id, scope: 'mcp', aud: MCP });
    expect(payload.exp! - payload.iat!).toBe(600);
    expect(typeof payload.jti).toBe('string');

    const metadata = await (
      await server.fetch(new Request(`${ISSUER}/.well-known/oauth-authorization-server`))
    ).json();
    expect(metadata.jwks_uri).toBe(`${ISSUER}/.well-known/jwks.json`);
    // The server's own resource side accepts it.
    const auth = await call(server, tokens.access_token);
    expect(auth.ok && auth.info).toMatchObject({
      userId: 'owner',
      clientId: client.client_id,
      resource: MCP,
    });
    expect((await call(server, tokens.access_token, OTHER)).ok).toBe(false);
  });

  it('signs with EdDSA when asked', async () => {
    const { server } = jwtServer({ alg: 'EdDSA' });
    const { tokens } = await codeFlow({ issuer: ISSUER, fetcher: (r) => server.fetch(r), resource: MCP });
    expect(decodeProtectedHeader(tokens.access_token).alg).toBe('EdDSA');
    expect((await jwks(server)).body.keys[0]).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA' });
  });

  it('keeps opaque tokens for the resources not named', async () => {
    const { server } = jwtServer({ resources: [OTHER] });
    const fetcher = (request: Request) => server.fetch(request);
    const opaque = await codeFlow({ issuer: ISSUER, fetcher, resource: MCP });
    expect(opaque.tokens.access_token).toMatch(/^pcat_/);
    expect((await call(server, opaque.tokens.access_token)).ok).toBe(true);
    const jwt = await codeFlow({ issuer: ISSUER, fetcher, resource: OTHER });
    expect(decodeProtectedHeader(jwt.tokens.access_token).typ).toBe('at+jwt');
    expect((await call(server, jwt.tokens.access_token, OTHER)).ok).toBe(true);
  });

  it('refuses a revoked JWT on its own resources and in introspection; its jti is no opaque token', async () => {
    const { server, clock } = jwtServer();
    const fetcher = (request: Request) => server.fetch(request);
    const flow = await codeFlow({
      issuer: ISSUER,
      fetcher,
      resource: MCP,
      metadata: { token_endpoint_auth_method: 'client_secret_post' },
    });
    const { tokens, client } = flow;
    const keys = createLocalJWKSet((await jwks(server)).body as never);
    const { payload } = await jwtVerify(tokens.access_token, keys, { currentDate: new Date(clock.now()) });
    // The jti is what the record is kept under, but it never works as a token by itself.
    expect((await call(server, String(payload.jti))).ok).toBe(false);
    // A JWT with a real jti but a forged signature does not verify.
    const [h, p] = tokens.access_token.split('.');
    expect((await call(server, `${h}.${p}.${'A'.repeat(86)}`)).ok).toBe(false);

    const form = (token: string) =>
      new URLSearchParams({ token, client_id: client.client_id, client_secret: flow.secret! });
    const post = (path: string, token: string) =>
      fetcher(
        new Request(`${ISSUER}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: form(token),
        }),
      );
    expect(await (await post('/introspect', tokens.access_token)).json()).toMatchObject({
      active: true,
      token_type: 'Bearer',
      client_id: client.client_id,
      sub: 'owner',
      aud: MCP,
      exp: payload.exp,
    });
    expect((await post('/revoke', tokens.access_token)).status).toBe(200);
    expect(await (await post('/introspect', tokens.access_token)).json()).toEqual({ active: false });
    const after = await call(server, tokens.access_token);
    expect(after.ok).toBe(false);
    expect(after.ok ? '' : after.response.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
    // The signature still verifies for a third party until exp: revocation is invisible to it.
    await expect(
      jwtVerify(tokens.access_token, keys, { currentDate: new Date(clock.now()) }),
    ).resolves.toBeTruthy();

    // A refresh still works and gives a fresh JWT.
    const refreshed = await oauth.processRefreshTokenResponse(
      flow.as,
      client,
      await oauth.refreshTokenGrantRequest(
        flow.as,
        client,
        flow.clientAuth,
        tokens.refresh_token!,
        flow.options,
      ),
    );
    expect(decodeProtectedHeader(refreshed.access_token).typ).toBe('at+jwt');
    expect((await call(server, refreshed.access_token)).ok).toBe(true);
  });

  it('shares the keys between instances on one storage', async () => {
    const clock = manualClock();
    const storage = new MemoryStorage({ now: clock.now });
    const extension = jwtAccessTokens();
    const make = () =>
      makeServer({
        storage,
        now: clock.now,
        resources,
        extensions: [extension],
        upstream: pinUpstream({ pin: PIN }),
        secret: SECRET,
      }).server;
    const [a, b] = [make(), make()];
    const { tokens } = await codeFlow({ issuer: ISSUER, fetcher: (r) => a.fetch(r), resource: MCP });
    // Instance b verifies a's token: the key set lives in the shared storage.
    expect((await call(b, tokens.access_token)).ok).toBe(true);
    expect((await jwks(a)).body).toEqual((await jwks(b)).body);
  });

  it('signs with keys it is given (shared with identity assertions), refusing keys with too short a lifetime', async () => {
    const clock = manualClock();
    const storage = new MemoryStorage({ now: clock.now });
    const keys = signingKeys({ storage, secret: SECRET, now: clock.now, maxTokenLifetimeSeconds: 3600 });
    const { server } = makeServer({
      storage,
      now: clock.now,
      extensions: [jwtAccessTokens({ signingKeys: keys })],
    });
    const { tokens } = await codeFlow({ issuer: ISSUER, fetcher: (r) => server.fetch(r), resource: MCP });
    expect((await keys.jwks()).keys.map((k) => k.kid)).toEqual([
      decodeProtectedHeader(tokens.access_token).kid,
    ]);
    const short = signingKeys({ storage, secret: SECRET, maxTokenLifetimeSeconds: 60 });
    expect(() => makeServer({ extensions: [jwtAccessTokens({ signingKeys: short })] })).toThrow(
      /maxTokenLifetimeSeconds/,
    );
    expect(() => makeServer({ extensions: [jwtAccessTokens({ resources: [`${ISSUER}/typo`] })] })).toThrow(
      /not a configured resource/,
    );
  });
});
