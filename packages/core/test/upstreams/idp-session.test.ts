/**
 * Upstream IdP sessions that last, against a real OpenID provider (oidc-provider): the IdP refresh token
 * is captured sealed, the IdP access token is refreshed when it expires (once across instances) and on
 * the client's own refresh, the proxy sends the current one, and revoking the grant revokes it at the IdP
 * (RFC 7009). The upstream MCP server checks every token it receives at the IdP's UserInfo endpoint.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createAuthorizationServer,
  type IdentityUpstream,
  MemoryStorage,
  type PortcullisEvent,
  type RecordKind,
} from '../../src/index.js';
import { mcpProxy, upstreamIdpToken } from '../../src/mcp/index.js';
import { oauth2Upstream, oidcUpstream } from '../../src/upstreams/index.js';
import { manualClock } from '../helpers.js';
import { type LocalServer, startServer } from '../resource-server/helpers.js';
import { approveConsent, authorizeUrl, redeem, registerClient, TestBrowser } from './flow-helpers.js';
import { startOp, type TestOp } from './oidc-provider.js';

const ISSUER = 'http://127.0.0.1:8787';
const SECRET = 'idp-session-tests-secret-0123456789abcdef';
/** The test provider's access tokens live 600 s. */
const PAST_IDP_EXPIRY_MS = 601_000;

describe('upstream IdP sessions (oidc-provider)', () => {
  let op: TestOp;
  let upstream: LocalServer;
  /** Every IdP access token the upstream MCP server received, and whether the IdP accepted it. */
  const received: { token: string; valid: boolean }[] = [];

  beforeAll(async () => {
    op = await startOp(`${ISSUER}/callback`);
    upstream = await startServer(async (req, res) => {
      const authorization = req.headers.authorization ?? '';
      const userinfo = await fetch(`${op.issuer}/me`, { headers: { authorization } });
      received.push({ token: authorization.replace(/^Bearer /, ''), valid: userinfo.ok });
      res.writeHead(userinfo.ok ? 200 : 401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ jsonrpc: '2.0', id: 1, result: userinfo.ok ? await userinfo.json() : {} }));
    });
  });
  afterAll(async () => {
    await upstream.close();
    await op.close();
  });

  /** Two authorization server instances sharing one storage and clock, each with its proxy. */
  function setup(kind: 'oidc' | 'oauth2' | 'oidc-without-token-support' = 'oidc') {
    const clock = manualClock(Date.now());
    const storage = new RecordingStorage({ now: clock.now });
    const events: PortcullisEvent[] = [];
    /** What the test sees on the wire to the IdP: refresh tokens it issued, revocations asked. */
    const wire = { refreshTokens: [] as string[], revocations: 0 };
    const observe: typeof fetch = async (input, init) => {
      const url = String(input instanceof Request ? input.url : input);
      const response = await fetch(input, init);
      if (url.endsWith('/token/revocation')) wire.revocations++;
      if (url.endsWith('/token') && response.ok) {
        const body = (await response.clone().json()) as { refresh_token?: string };
        if (body.refresh_token) wire.refreshTokens.push(body.refresh_token);
      }
      return response;
    };
    const settings = {
      clientId: 'portcullis',
      clientSecret: 'op-client-secret',
      authorizationParams: { prompt: 'consent' },
      fetch: observe,
    };
    const oidc = () =>
      oidcUpstream({
        ...settings,
        issuer: op.issuer,
        scopes: ['email', 'profile', 'offline_access'],
        allowAnyone: true,
      });
    // The same provider driven as a plain OAuth 2 one: explicit endpoints, the user from UserInfo.
    const oauth2 = () =>
      oauth2Upstream({
        ...settings,
        issuer: op.issuer,
        authorizationEndpoint: `${op.issuer}/auth`,
        tokenEndpoint: `${op.issuer}/token`,
        revocationEndpoint: `${op.issuer}/token/revocation`,
        scopes: ['openid', 'email', 'offline_access'],
        userInfo: async (token, fetch) => {
          const me = await fetch(`${op.issuer}/me`, { headers: { authorization: `Bearer ${token}` } });
          const claims = (await me.json()) as { sub: string; email?: string; email_verified?: boolean };
          return me.ok
            ? { userId: claims.sub, email: claims.email, emailVerified: claims.email_verified }
            : null;
        },
      });
    const instance = () => {
      const as = createAuthorizationServer({
        issuer: ISSUER,
        storage,
        now: clock.now,
        secret: SECRET,
        upstream: kind === 'oauth2' ? oauth2() : kind === 'oidc' ? oidc() : withoutTokenSupport(oidc()),
        onEvent: (event) => void events.push(event),
      });
      const proxy = mcpProxy({
        upstream: upstream.url,
        authenticator: as,
        credentials: upstreamIdpToken({ source: as }),
      });
      return { as, proxy };
    };
    return { clock, events, wire, storage, one: instance(), two: instance() };
  }

  type Setup = ReturnType<typeof setup>;

  async function signIn(s: Setup) {
    op.login = 'alice';
    const { as } = s.one;
    const browser = new TestBrowser(as, ISSUER);
    const clientId = await registerClient(as, ISSUER);
    const start = await browser.fetch(await authorizeUrl(ISSUER, clientId));
    const { url: callback } = await browser.follow(
      start.headers.get('location') ?? '',
      (u) => u.origin === ISSUER,
    );
    const done = await approveConsent(browser, await browser.fetch(callback.toString()));
    const code = new URL(done.headers.get('location') ?? '').searchParams.get('code') ?? '';
    const tokens = (await redeem(as, ISSUER, clientId, code)) as {
      access_token: string;
      refresh_token: string;
    };
    expect(tokens.access_token).toBeTruthy();
    return { clientId, ...tokens };
  }

  const call = (proxy: (request: Request) => Promise<Response>, accessToken: string) =>
    proxy(
      new Request(`${ISSUER}/mcp`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${accessToken}`,
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
        },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
      }),
    );

  /** Uses an IdP refresh token directly at the IdP; its OAuth error, or `ok`. */
  const idpRefresh = async (refreshToken: string) => {
    const response = await fetch(`${op.issuer}/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${btoa('portcullis:op-client-secret')}`,
      },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }),
    });
    return response.ok ? 'ok' : ((await response.json()) as { error: string }).error;
  };

  /** A form POST to one of an instance's endpoints (`/token`, `/revoke`). */
  const postForm = (as: Setup['one']['as'], path: string, form: Record<string, string>) =>
    as.fetch(
      new Request(`${ISSUER}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(form),
      }),
    );

  const lastReceived = () => received[received.length - 1];
  const refreshes = () => op.grants.filter((g) => g === 'refresh_token').length;

  it('captures the IdP refresh token, refreshes the expired access token once, and the proxy sends the new one', async () => {
    const s = setup();
    const user = await signIn(s);
    expect(s.wire.refreshTokens).toHaveLength(1);
    expect((await call(s.one.proxy, user.access_token)).status).toBe(200);
    const atLogin = lastReceived();
    expect(atLogin?.valid).toBe(true);

    const before = refreshes();
    s.clock.advance(PAST_IDP_EXPIRY_MS);
    expect((await call(s.one.proxy, user.access_token)).status).toBe(200);
    const refreshed = lastReceived();
    expect(refreshed?.valid).toBe(true);
    expect(refreshed?.token).not.toBe(atLogin?.token);
    expect(refreshes()).toBe(before + 1);

    // The other instance sees the refreshed token in the storage: no second call to the IdP.
    expect((await call(s.two.proxy, user.access_token)).status).toBe(200);
    expect(lastReceived()?.token).toBe(refreshed?.token);
    expect((await call(s.one.proxy, user.access_token)).status).toBe(200);
    expect(refreshes()).toBe(before + 1);
  });

  it('lets 12 concurrent requests on two instances share one refresh at the IdP', async () => {
    const s = setup();
    const user = await signIn(s);
    s.clock.advance(PAST_IDP_EXPIRY_MS);
    const before = refreshes();
    const start = received.length;
    const responses = await Promise.all(
      Array.from({ length: 12 }, (_, i) => call(i % 2 ? s.two.proxy : s.one.proxy, user.access_token)),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(12).fill(200));
    expect(refreshes()).toBe(before + 1);
    const sent = received.slice(start);
    expect(new Set(sent.map((r) => r.token)).size).toBe(1);
    expect(sent.every((r) => r.valid)).toBe(true);
  });

  it("refreshes the IdP token on the client's own refresh, and the proxy then uses it", async () => {
    const s = setup();
    const user = await signIn(s);
    expect((await call(s.one.proxy, user.access_token)).status).toBe(200);
    const atLogin = lastReceived()?.token;
    s.clock.advance(120_000);
    const before = refreshes();
    const response = await postForm(s.two.as, '/token', {
      grant_type: 'refresh_token',
      refresh_token: user.refresh_token,
      client_id: user.clientId,
    });
    expect(response.status).toBe(200);
    const next = (await response.json()) as { access_token: string };
    expect(refreshes()).toBe(before + 1);
    expect((await call(s.one.proxy, next.access_token)).status).toBe(200);
    expect(lastReceived()?.token).not.toBe(atLogin);
    expect(lastReceived()?.valid).toBe(true);
  });

  it('revokes the IdP refresh token at the IdP when the grant is revoked (RFC 7009)', async () => {
    const s = setup();
    const user = await signIn(s);
    const idpRefreshToken = s.wire.refreshTokens[0] ?? '';
    const revoked = await postForm(s.one.as, '/revoke', {
      token: user.refresh_token,
      client_id: user.clientId,
    });
    expect(revoked.status).toBe(200);
    expect(s.wire.revocations).toBe(1);
    // The IdP itself now refuses the refresh token it issued.
    expect(await idpRefresh(idpRefreshToken)).toBe('invalid_grant');
  });

  it('ends the grant when the IdP refuses the refresh token for good, so the client signs in again', async () => {
    const s = setup();
    const user = await signIn(s);
    // The session ends at the IdP (the user signs out there, or an admin revokes it).
    const revokedAtIdp = await fetch(`${op.issuer}/token/revocation`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${btoa('portcullis:op-client-secret')}`,
      },
      body: new URLSearchParams({ token: s.wire.refreshTokens[0] ?? '', token_type_hint: 'refresh_token' }),
    });
    expect(revokedAtIdp.status).toBe(200);
    s.clock.advance(PAST_IDP_EXPIRY_MS);
    const refused = await call(s.one.proxy, user.access_token);
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toContain('has ended');
    expect(s.events).toContainEqual({
      type: 'grant_revoked',
      grantId: expect.any(String),
      reason: 'upstream session ended',
    });
    const auth = await s.two.as.authenticate(
      new Request(`${ISSUER}/mcp`, { headers: { authorization: `Bearer ${user.access_token}` } }),
    );
    expect(auth.ok).toBe(false);
  });

  it('does the same for oauth2Upstream: refresh when expired, revocation at the IdP', async () => {
    const s = setup('oauth2');
    const user = await signIn(s);
    expect((await call(s.one.proxy, user.access_token)).status).toBe(200);
    const atLogin = lastReceived()?.token;
    const before = refreshes();
    s.clock.advance(PAST_IDP_EXPIRY_MS);
    expect((await call(s.two.proxy, user.access_token)).status).toBe(200);
    expect(lastReceived()?.token).not.toBe(atLogin);
    expect(lastReceived()?.valid).toBe(true);
    expect(refreshes()).toBe(before + 1);
    const revoked = await postForm(s.one.as, '/revoke', {
      token: user.refresh_token,
      client_id: user.clientId,
    });
    expect(revoked.status).toBe(200);
    expect(s.wire.revocations).toBe(1);
    // The newest (rotated) refresh token is the one revoked.
    expect(s.wire.refreshTokens).toHaveLength(2);
    expect(await idpRefresh(s.wire.refreshTokens[1] ?? '')).toBe('invalid_grant');
  });

  it('without upstreamTokens support, gives the login token until it expires and never calls the IdP again', async () => {
    const s = setup('oidc-without-token-support');
    const user = await signIn(s);
    expect((await call(s.one.proxy, user.access_token)).status).toBe(200);
    expect(lastReceived()?.valid).toBe(true);
    const before = refreshes();
    s.clock.advance(120_000);
    // The client's own refresh works and leaves the IdP token as it is.
    const response = await postForm(s.two.as, '/token', {
      grant_type: 'refresh_token',
      refresh_token: user.refresh_token,
      client_id: user.clientId,
    });
    expect(response.status).toBe(200);
    const next = (await response.json()) as { access_token: string; refresh_token: string };
    s.clock.advance(PAST_IDP_EXPIRY_MS);
    const refused = await call(s.one.proxy, next.access_token);
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toContain('has expired; authorize again');
    expect(refreshes()).toBe(before);
    const revoked = await postForm(s.one.as, '/revoke', {
      token: next.refresh_token,
      client_id: user.clientId,
    });
    expect(revoked.status).toBe(200);
    expect(s.wire.revocations).toBe(0);
    expect(s.events).toContainEqual({
      type: 'grant_revoked',
      grantId: expect.any(String),
      reason: 'refresh token revoked',
    });
  });

  it('keeps the IdP refresh token sealed: it is never sent upstream nor written in clear', async () => {
    const s = setup();
    const user = await signIn(s);
    const info = await s.one.as.authenticate(
      new Request(`${ISSUER}/mcp`, { headers: { authorization: `Bearer ${user.access_token}` } }),
    );
    expect(info.ok).toBe(true);
    if (!info.ok) return;
    expect(info.info.upstreamToken?.accessToken).toBeTruthy();
    expect(info.info.upstreamToken?.refreshToken).toBeUndefined();
    s.clock.advance(PAST_IDP_EXPIRY_MS);
    const current = await s.one.as.upstreamToken(info.info);
    expect(current.ok && current.token.accessToken).toBeTruthy();
    expect(current.ok && current.token.refreshToken).toBe(undefined);
    // The login one and the rotated one: both sealed at rest, in no event.
    expect(s.wire.refreshTokens).toHaveLength(2);
    const seen = [...s.storage.written, ...s.events.map((e) => JSON.stringify(e))].join('\n');
    for (const refreshToken of s.wire.refreshTokens) expect(seen).not.toContain(refreshToken);
  });
});

/** The upstream without its support for refreshing and revoking the IdP tokens it captures. */
function withoutTokenSupport({ upstreamTokens: _, ...upstream }: IdentityUpstream): IdentityUpstream {
  return upstream;
}

/** MemoryStorage that keeps every value written, to look for secrets in clear. */
class RecordingStorage extends MemoryStorage {
  readonly written: string[] = [];
  override async put(kind: RecordKind, key: string, value: string, expiresAt: number | null): Promise<void> {
    this.written.push(`${kind} ${key} ${value}`);
    return super.put(kind, key, value, expiresAt);
  }
}
