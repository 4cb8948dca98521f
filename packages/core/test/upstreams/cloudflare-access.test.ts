import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthorizationServer, MemoryStorage, type PortcullisEvent } from '../../src/index.js';
import { cloudflareAccessUpstream } from '../../src/upstreams/index.js';
import { type LocalIssuer, startIssuer } from '../resource-server/helpers.js';
import { approveConsent, authorizeUrl, redeem, registerClient, TestBrowser } from './flow-helpers.js';

const ISSUER = 'http://127.0.0.1:8788';
const TEAM = 'https://testteam.cloudflareaccess.com';
const AUD = 'a1b2c3d4e5f6-application-aud-tag';

describe('cloudflareAccessUpstream', () => {
  let keys: LocalIssuer;
  beforeAll(async () => {
    keys = await startIssuer('/cdn-cgi/access/certs', 'RS256');
  });
  afterAll(() => keys.close());

  function setup(extra: Partial<Parameters<typeof cloudflareAccessUpstream>[0]> = {}) {
    const events: PortcullisEvent[] = [];
    const as = createAuthorizationServer({
      issuer: ISSUER,
      storage: new MemoryStorage(),
      upstream: cloudflareAccessUpstream({
        teamDomain: 'testteam',
        audience: AUD,
        jwksUrl: keys.jwksUrl,
        ...extra,
      }),
      secret: 'cf-access-tests-secret-0123456789abcdef',
      resources: [{ path: '/mcp' }],
      onEvent: (event) => void events.push(event),
    });
    return { as, events, browser: new TestBrowser(as, ISSUER) };
  }

  const assertion = (claims: Record<string, unknown> = {}) =>
    keys.sign(
      { iss: TEAM, aud: [AUD], sub: 'cf-user-1', email: 'alice@corp.test', type: 'app', ...claims },
      { typ: 'JWT' },
    );

  it('takes the identity from the verified assertion, ignoring the bare email header', async () => {
    const s = setup();
    const clientId = await registerClient(s.as, ISSUER);
    const page = await s.browser.fetch(await authorizeUrl(ISSUER, clientId), {
      headers: {
        'cf-access-jwt-assertion': await assertion(),
        'cf-access-authenticated-user-email': 'ceo@corp.test',
      },
    });
    expect(page.status).toBe(200);
    const done = await approveConsent(s.browser, page);
    expect(done.status).toBe(302);
    const code = new URL(done.headers.get('location') ?? '').searchParams.get('code') ?? '';
    const tokens = await redeem(s.as, ISSUER, clientId, code);
    const auth = await s.as.authenticate(
      new Request(`${ISSUER}/mcp`, { headers: { authorization: `Bearer ${tokens.access_token}` } }),
    );
    expect(auth.ok).toBe(true);
    if (auth.ok) expect(auth.info).toMatchObject({ userId: 'cf-user-1', email: 'alice@corp.test' });
  });

  it('refuses a forged email header without a valid assertion', async () => {
    const s = setup();
    const clientId = await registerClient(s.as, ISSUER);
    const url = await authorizeUrl(ISSUER, clientId);
    const none = await s.browser.fetch(url, {
      headers: { 'cf-access-authenticated-user-email': 'ceo@corp.test' },
    });
    expect(none.status).toBe(403);
    const garbage = await s.browser.fetch(url, {
      headers: {
        'cf-access-jwt-assertion': 'not.a.jwt',
        'cf-access-authenticated-user-email': 'ceo@corp.test',
      },
    });
    expect(garbage.status).toBe(403);
    expect(s.events.filter((e) => e.type === 'login_failed')).toHaveLength(2);
  });

  it('refuses an assertion for another application (aud), another team (iss) or expired', async () => {
    const s = setup();
    const clientId = await registerClient(s.as, ISSUER);
    const url = await authorizeUrl(ISSUER, clientId);
    const past = Math.floor(Date.now() / 1000) - 600;
    for (const bad of [
      await assertion({ aud: ['another-application'] }),
      await assertion({ iss: 'https://otherteam.cloudflareaccess.com' }),
      await assertion({ iat: past - 60, exp: past }),
    ]) {
      const response = await s.browser.fetch(url, { headers: { 'cf-access-jwt-assertion': bad } });
      expect(response.status).toBe(403);
      expect(await response.text()).toContain('not valid for this application');
    }
    expect(s.events).toContainEqual(
      expect.objectContaining({
        type: 'login_failed',
        reason: 'cloudflare-access: assertion issued for another Access application',
      }),
    );
  });

  it('applies the email allow-list to the verified email', async () => {
    const s = setup({ allowedDomains: ['corp.test'] });
    const clientId = await registerClient(s.as, ISSUER);
    const response = await s.browser.fetch(await authorizeUrl(ISSUER, clientId), {
      headers: { 'cf-access-jwt-assertion': await assertion({ email: 'eve@elsewhere.test' }) },
    });
    expect(response.status).toBe(302);
    expect(new URL(response.headers.get('location') ?? '').searchParams.get('error')).toBe('access_denied');
  });
});
