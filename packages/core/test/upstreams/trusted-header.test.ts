import { describe, expect, it } from 'vitest';
import { createAuthorizationServer, MemoryStorage } from '../../src/index.js';
import { trustedHeaderUpstream } from '../../src/upstreams/index.js';
import { approveConsent, authorizeUrl, redeem, registerClient, TestBrowser } from './flow-helpers.js';

const ISSUER = 'http://127.0.0.1:8789';
const PROXY_SECRET = 'proxy-shared-secret-0123456789abcdefghij';

function setup(
  upstream = trustedHeaderUpstream({
    userHeader: 'X-Forwarded-User',
    emailHeader: 'X-Forwarded-Email',
    sharedSecret: { header: 'X-Proxy-Secret', value: PROXY_SECRET },
  }),
) {
  const as = createAuthorizationServer({
    issuer: ISSUER,
    storage: new MemoryStorage(),
    upstream,
    secret: 'trusted-header-tests-secret-0123456789ab',
    resources: [{ path: '/mcp' }],
  });
  return { as, browser: new TestBrowser(as, ISSUER) };
}

describe('trustedHeaderUpstream', () => {
  it('accepts identity headers only with the shared secret', async () => {
    const s = setup();
    const clientId = await registerClient(s.as, ISSUER);
    const url = await authorizeUrl(ISSUER, clientId);
    const identity = { 'x-forwarded-user': 'alice', 'x-forwarded-email': 'alice@corp.test' };
    for (const secret of [undefined, 'wrong', `${PROXY_SECRET}x`]) {
      const refused = await s.browser.fetch(url, {
        headers: { ...identity, ...(secret ? { 'x-proxy-secret': secret } : {}) },
      });
      expect(refused.status).toBe(403);
    }
    const page = await s.browser.fetch(url, { headers: { ...identity, 'x-proxy-secret': PROXY_SECRET } });
    expect(page.status).toBe(200);
    const done = await approveConsent(s.browser, page);
    const code = new URL(done.headers.get('location') ?? '').searchParams.get('code') ?? '';
    const tokens = await redeem(s.as, ISSUER, clientId, code);
    const auth = await s.as.authenticate(
      new Request(`${ISSUER}/mcp`, { headers: { authorization: `Bearer ${tokens.access_token}` } }),
    );
    expect(auth.ok && auth.info.email).toBe('alice@corp.test');
    expect(auth.ok && auth.info.userId).toBe('alice');
  });

  it('supports a custom verifier and refuses requests it rejects', async () => {
    const s = setup(
      trustedHeaderUpstream({
        userHeader: 'Remote-User',
        verify: async (r) => r.headers.get('x-signature') === 'ok',
      }),
    );
    const clientId = await registerClient(s.as, ISSUER);
    const url = await authorizeUrl(ISSUER, clientId);
    expect((await s.browser.fetch(url, { headers: { 'remote-user': 'bob' } })).status).toBe(403);
    expect(
      (await s.browser.fetch(url, { headers: { 'remote-user': 'bob', 'x-signature': 'ok' } })).status,
    ).toBe(200);
  });

  it('refuses unsafe configurations', () => {
    expect(() => trustedHeaderUpstream({ userHeader: 'X-User' })).toThrow(/exactly one/);
    expect(() =>
      trustedHeaderUpstream({ userHeader: 'X-User', sharedSecret: { header: 'X-S', value: 'short' } }),
    ).toThrow(/32 characters/);
  });
});
