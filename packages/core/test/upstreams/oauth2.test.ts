import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthorizationServer, MemoryStorage } from '../../src/index.js';
import { githubUpstream, oauth2Upstream } from '../../src/upstreams/index.js';
import { type LocalServer, readBody, startServer } from '../resource-server/helpers.js';
import { approveConsent, authorizeUrl, redeem, registerClient, s256, TestBrowser } from './flow-helpers.js';

const ISSUER = 'http://127.0.0.1:8790';

/** A plain OAuth 2 provider (GitHub-like): authorize, token with PKCE check, user API. */
async function startProvider() {
  const codes = new Map<string, { challenge: string; redirectUri: string }>();
  const stats = { tokenRequests: 0, lastTokenAuth: '' };
  const server: LocalServer = await startServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/authorize' || url.pathname === '/login/oauth/authorize') {
      const code = `code-${codes.size}`;
      codes.set(code, {
        challenge: url.searchParams.get('code_challenge') ?? '',
        redirectUri: url.searchParams.get('redirect_uri') ?? '',
      });
      const back = new URL(url.searchParams.get('redirect_uri') ?? '');
      back.searchParams.set('code', code);
      back.searchParams.set('state', url.searchParams.get('state') ?? '');
      res.writeHead(302, { location: back.toString() });
      res.end();
      return;
    }
    if (url.pathname === '/token' || url.pathname === '/login/oauth/access_token') {
      stats.tokenRequests++;
      stats.lastTokenAuth = req.headers.authorization ?? '';
      const form = new URLSearchParams(await readBody(req));
      const entry = codes.get(form.get('code') ?? '');
      res.setHeader('content-type', 'application/json');
      const verifierOk = entry && (await s256(form.get('code_verifier') ?? '')) === entry.challenge;
      if (!entry || !verifierOk || entry.redirectUri !== form.get('redirect_uri')) {
        res.statusCode = 400;
        res.end(JSON.stringify({ error: 'invalid_grant' }));
        return;
      }
      codes.delete(form.get('code') ?? '');
      res.end(
        JSON.stringify({ access_token: 'provider-access-token', token_type: 'bearer', scope: 'read:user' }),
      );
      return;
    }
    if (
      url.pathname === '/api/v3/user/emails' &&
      req.headers.authorization === 'Bearer provider-access-token'
    ) {
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify([
          { email: 'octo@unverified.test', primary: false, verified: false },
          { email: 'octo@corp.test', primary: true, verified: true },
        ]),
      );
      return;
    }
    if (
      url.pathname.startsWith('/api/v3/user/memberships/orgs/') &&
      req.headers.authorization === 'Bearer provider-access-token'
    ) {
      // The provider's user is an active member of corp-org only.
      const org = decodeURIComponent(url.pathname.slice('/api/v3/user/memberships/orgs/'.length));
      res.setHeader('content-type', 'application/json');
      if (org.toLowerCase() !== 'corp-org') res.statusCode = 404;
      res.end(
        JSON.stringify(org.toLowerCase() === 'corp-org' ? { state: 'active' } : { message: 'Not Found' }),
      );
      return;
    }
    if (url.pathname === '/api/user' || url.pathname === '/api/v3/user') {
      if (req.headers.authorization !== 'Bearer provider-access-token') {
        res.statusCode = 401;
        res.end();
        return;
      }
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ id: 4242, login: 'octo', email: 'octo@corp.test', verified: true }));
      return;
    }
    res.statusCode = 404;
    res.end();
  });
  return { ...server, stats };
}

describe('oauth2Upstream against a plain OAuth 2 provider', () => {
  let provider: Awaited<ReturnType<typeof startProvider>>;
  beforeAll(async () => {
    provider = await startProvider();
  });
  afterAll(() => provider.close());

  const setup = () => {
    const as = createAuthorizationServer({
      issuer: ISSUER,
      storage: new MemoryStorage(),
      upstream: oauth2Upstream({
        authorizationEndpoint: `${provider.url}/authorize`,
        tokenEndpoint: `${provider.url}/token`,
        clientId: 'gh-client',
        clientSecret: 'gh-secret',
        scopes: ['read:user'],
        allowedEmails: ['octo@corp.test'],
        userInfo: async (token, fetch) => {
          const me = (await (
            await fetch(`${provider.url}/api/user`, { headers: { authorization: `Bearer ${token}` } })
          ).json()) as { id: number; login: string; email: string; verified: boolean };
          return { userId: String(me.id), email: me.email, emailVerified: me.verified, name: me.login };
        },
      }),
      secret: 'oauth2-tests-secret-0123456789abcdefgh',
      resources: [{ path: '/mcp' }],
    });
    return { as, browser: new TestBrowser(as, ISSUER) };
  };

  it('signs in with PKCE and state, maps the user and keeps the provider token', async () => {
    const s = setup();
    const clientId = await registerClient(s.as, ISSUER);
    const { url: callback } = await s.browser.follow(
      await authorizeUrl(ISSUER, clientId),
      (u) => u.pathname === '/callback',
    );
    const done = await approveConsent(s.browser, await s.browser.fetch(callback.toString()));
    expect(done.status).toBe(302);
    // RFC 6749 §2.3.1: id and secret are form-encoded, then base64.
    const [id, secret] = atob(provider.stats.lastTokenAuth.replace(/^Basic /, ''))
      .split(':')
      .map(decodeURIComponent);
    expect([id, secret]).toEqual(['gh-client', 'gh-secret']);
    const code = new URL(done.headers.get('location') ?? '').searchParams.get('code') ?? '';
    const tokens = await redeem(s.as, ISSUER, clientId, code);
    const auth = await s.as.authenticate(
      new Request(`${ISSUER}/mcp`, { headers: { authorization: `Bearer ${tokens.access_token}` } }),
    );
    expect(auth.ok).toBe(true);
    if (!auth.ok) return;
    expect(auth.info).toMatchObject({ userId: '4242', email: 'octo@corp.test', name: 'octo' });
    expect(auth.info.upstreamToken?.accessToken).toBe('provider-access-token');
  });

  it('refuses a callback with a foreign iss without redeeming its code', async () => {
    const s = setup();
    const clientId = await registerClient(s.as, ISSUER);
    const { url: callback } = await s.browser.follow(
      await authorizeUrl(ISSUER, clientId),
      (u) => u.pathname === '/callback',
    );
    const before = provider.stats.tokenRequests;
    const mixedUp = new URL(callback);
    mixedUp.searchParams.set('iss', 'https://evil.example');
    expect((await s.browser.fetch(mixedUp.toString())).status).toBe(400);
    expect(provider.stats.tokenRequests).toBe(before);
    const first = await s.browser.fetch(callback.toString());
    expect(first.status).toBe(200);
    expect(provider.stats.tokenRequests).toBe(before + 1);
  });

  it('githubUpstream maps the numeric id, primary verified email and login, and honours allowedUsers', async () => {
    const make = (allowedUsers?: string[], allowedOrgs?: string[]) => {
      const as = createAuthorizationServer({
        issuer: ISSUER,
        storage: new MemoryStorage(),
        upstream: githubUpstream({
          clientId: 'gh-client',
          clientSecret: 'gh-secret',
          webUrl: provider.url,
          apiUrl: `${provider.url}/api/v3`,
          ...(allowedUsers ? { allowedUsers } : {}),
          ...(allowedOrgs ? { allowedOrgs } : {}),
        }),
        secret: 'github-tests-secret-0123456789abcdefgh',
        resources: [{ path: '/mcp' }],
      });
      return { as, browser: new TestBrowser(as, ISSUER) };
    };
    const s = make(['OCTO']);
    const clientId = await registerClient(s.as, ISSUER);
    const { url: callback } = await s.browser.follow(
      await authorizeUrl(ISSUER, clientId),
      (u) => u.pathname === '/callback',
    );
    const done = await approveConsent(s.browser, await s.browser.fetch(callback.toString()));
    const code = new URL(done.headers.get('location') ?? '').searchParams.get('code') ?? '';
    const tokens = await redeem(s.as, ISSUER, clientId, code);
    const auth = await s.as.authenticate(
      new Request(`${ISSUER}/mcp`, { headers: { authorization: `Bearer ${tokens.access_token}` } }),
    );
    expect(auth.ok && auth.info).toMatchObject({
      userId: '4242',
      email: 'octo@corp.test',
      props: { githubLogin: 'octo' },
    });

    const other = make(['someone-else']);
    const otherClient = await registerClient(other.as, ISSUER);
    const { url: otherCallback } = await other.browser.follow(
      await authorizeUrl(ISSUER, otherClient),
      (u) => u.pathname === '/callback',
    );
    const refused = await other.browser.fetch(otherCallback.toString());
    expect(new URL(refused.headers.get('location') ?? '').searchParams.get('error')).toBe('access_denied');

    // Organizations: an active member of an allowed org signs in, a non-member is refused.
    const signIn = async (orgs: string[]) => {
      const s = make(undefined, orgs);
      const id = await registerClient(s.as, ISSUER);
      const { url: cb } = await s.browser.follow(
        await authorizeUrl(ISSUER, id),
        (u) => u.pathname === '/callback',
      );
      const answer = await s.browser.fetch(cb.toString());
      return answer.status === 302
        ? new URL(answer.headers.get('location') ?? '').searchParams.get('error')
        : 'consent';
    };
    expect(await signIn(['Corp-Org'])).toBe('consent');
    expect(await signIn(['other-org'])).toBe('access_denied');
  });

  it('githubUpstream refuses to be built without saying who may sign in', () => {
    expect(() => githubUpstream({ clientId: 'gh-client', clientSecret: 'gh-secret' })).toThrow(
      /allowedUsers, allowedOrgs, allowedEmails, allowedDomains, or allowAnyone: true/,
    );
    expect(() => githubUpstream({ clientId: 'c', clientSecret: 's', allowAnyone: true })).not.toThrow();
  });
});
