import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthorizationServer, MemoryStorage, type PortcullisEvent } from '../../src/index.js';
import { googleUpstream, oidcUpstream } from '../../src/upstreams/index.js';
import {
  approveConsent,
  authorizeUrl,
  CLIENT_REDIRECT,
  redeem,
  registerClient,
  TestBrowser,
} from './flow-helpers.js';
import { startOp, type TestOp } from './oidc-provider.js';

const ISSUER = 'http://127.0.0.1:8787';
const SECRET = 'upstream-tests-secret-0123456789abcdef';

describe('oidcUpstream against a real OpenID provider (oidc-provider)', () => {
  let op: TestOp;
  beforeAll(async () => {
    op = await startOp(`${ISSUER}/callback`);
  });
  afterAll(() => op.close());

  function setup(extra: Partial<Parameters<typeof oidcUpstream>[0]> = {}) {
    const events: PortcullisEvent[] = [];
    const as = createAuthorizationServer({
      issuer: ISSUER,
      storage: new MemoryStorage(),
      upstream: oidcUpstream({
        issuer: op.issuer,
        clientId: 'portcullis',
        clientSecret: 'op-client-secret',
        ...(extra.allowedEmails || extra.allowedDomains || extra.allowedClaims ? {} : { allowAnyone: true }),
        ...extra,
      }),
      secret: SECRET,
      resources: [{ path: '/mcp' }],
      onEvent: (event) => void events.push(event),
    });
    return { as, events, browser: new TestBrowser(as, ISSUER) };
  }

  /** Runs the browser to the AS callback; `tamper` may change the callback URL before it is opened. */
  async function loginToCallback(
    setupResult: ReturnType<typeof setup>,
    tamperAuthorize?: (url: URL) => void,
  ) {
    const { as, browser } = setupResult;
    const clientId = await registerClient(as, ISSUER);
    const start = await browser.fetch(await authorizeUrl(ISSUER, clientId));
    expect(start.status).toBe(302);
    const idpUrl = new URL(start.headers.get('location') ?? '');
    expect(idpUrl.origin).toBe(op.issuer);
    expect(idpUrl.searchParams.get('code_challenge_method')).toBe('S256');
    expect(idpUrl.searchParams.get('nonce')).toBeTruthy();
    expect(idpUrl.searchParams.get('redirect_uri')).toBe(`${ISSUER}/callback`);
    tamperAuthorize?.(idpUrl);
    const { url: callback } = await browser.follow(idpUrl.toString(), (u) => u.origin === ISSUER);
    return { clientId, callback };
  }

  it('signs a user in end to end: discovery, PKCE, state, nonce, iss, signed ID token, token capture', async () => {
    op.login = 'alice';
    const s = setup({ allowedDomains: ['corp.test'] });
    const { clientId, callback } = await loginToCallback(s);
    expect(callback.pathname).toBe('/callback');
    expect(callback.searchParams.get('iss')).toBe(op.issuer);
    const consent = await s.browser.fetch(callback.toString());
    const done = await approveConsent(s.browser, consent);
    expect(done.status).toBe(302);
    const back = new URL(done.headers.get('location') ?? '');
    expect(`${back.origin}${back.pathname}`).toBe(CLIENT_REDIRECT);
    expect(back.searchParams.get('state')).toBe('client-state');
    const tokens = await redeem(s.as, ISSUER, clientId, back.searchParams.get('code') ?? '');
    expect(tokens.access_token).toBeTruthy();
    const auth = await s.as.authenticate(
      new Request(`${ISSUER}/mcp`, { headers: { authorization: `Bearer ${tokens.access_token}` } }),
    );
    expect(auth.ok).toBe(true);
    if (!auth.ok) return;
    expect(auth.info.userId).toBe('alice');
    expect(auth.info.email).toBe('alice@corp.test');
    expect(auth.info.name).toBe('Alice Example');
    expect(auth.info.upstreamToken?.accessToken).toBeTruthy();
    expect(auth.info.upstreamToken?.tokenType?.toLowerCase()).toBe('bearer');
  });

  it('can use the verified email as the user id', async () => {
    op.login = 'alice';
    const s = setup({ userId: 'email' });
    const { clientId, callback } = await loginToCallback(s);
    const done = await approveConsent(s.browser, await s.browser.fetch(callback.toString()));
    const code = new URL(done.headers.get('location') ?? '').searchParams.get('code') ?? '';
    const tokens = await redeem(s.as, ISSUER, clientId, code);
    const auth = await s.as.authenticate(
      new Request(`${ISSUER}/mcp`, { headers: { authorization: `Bearer ${tokens.access_token}` } }),
    );
    expect(auth.ok && auth.info.userId).toBe('alice@corp.test');
  });

  it('refuses a callback whose iss is not the provider (RFC 9207 mix-up defence)', async () => {
    op.login = 'alice';
    const s = setup();
    const { callback } = await loginToCallback(s);
    callback.searchParams.set('iss', 'http://127.0.0.1:1/evil');
    const response = await s.browser.fetch(callback.toString());
    expect(response.status).toBe(400);
    expect(await response.text()).toContain('not issued by the expected identity provider');
    expect(s.events).toContainEqual(expect.objectContaining({ type: 'login_failed', upstream: 'oidc' }));
  });

  it('refuses an ID token carrying another nonce', async () => {
    op.login = 'alice';
    const s = setup();
    const { callback } = await loginToCallback(s, (url) =>
      url.searchParams.set('nonce', 'attacker-chosen-nonce'),
    );
    const response = await s.browser.fetch(callback.toString());
    expect(response.status).toBe(502);
    expect(await response.text()).toContain('did not confirm the sign-in');
    expect(s.events).toContainEqual({
      type: 'login_failed',
      upstream: 'oidc',
      reason: 'token response rejected: OAUTH_JWT_CLAIM_COMPARISON_FAILED',
    });
  });

  it('refuses a callback with a forged state', async () => {
    op.login = 'alice';
    const s = setup();
    const { callback } = await loginToCallback(s);
    const [pendingId] = (callback.searchParams.get('state') ?? '').split('.');
    callback.searchParams.set('state', `${pendingId}.forged-random-part`);
    const response = await s.browser.fetch(callback.toString());
    expect(response.status).toBe(400);
  });

  it('denies users outside the allowed domains and unverified emails, redirecting access_denied', async () => {
    for (const login of ['eve', 'unverified']) {
      op.login = login;
      const s = setup({ allowedDomains: ['corp.test'] });
      const { callback } = await loginToCallback(s);
      const response = await s.browser.fetch(callback.toString());
      expect(response.status).toBe(302);
      const back = new URL(response.headers.get('location') ?? '');
      expect(back.searchParams.get('error')).toBe('access_denied');
      expect(back.searchParams.get('state')).toBe('client-state');
    }
  });

  it('admits by claim: every allowedClaims entry must match (string or one of several)', async () => {
    for (const [login, expected] of [
      ['alice', 200],
      ['eve', 302],
    ] as const) {
      op.login = login;
      const s = setup({ allowedClaims: { name: ['Alice Example', 'Someone Else'] } });
      const { callback } = await loginToCallback(s);
      const response = await s.browser.fetch(callback.toString());
      expect(response.status).toBe(expected);
      if (expected === 302) {
        expect(new URL(response.headers.get('location') ?? '').searchParams.get('error')).toBe(
          'access_denied',
        );
      }
    }
  });

  it('refuses to be built without saying who may sign in (safe by default)', () => {
    const base = { issuer: op.issuer, clientId: 'portcullis', clientSecret: 'op-client-secret' };
    expect(() => oidcUpstream(base)).toThrow(
      /say who may sign in: set allowedEmails, allowedDomains, allowedClaims, or allowAnyone: true/,
    );
    expect(() => oidcUpstream({ ...base, allowedEmails: [] })).toThrow(/say who may sign in/);
    expect(() => oidcUpstream({ ...base, allowAnyone: true })).not.toThrow();
    expect(() => googleUpstream({ clientId: 'c', clientSecret: 's' })).toThrow(/googleUpstream: say who/);
  });
});
