import type { IdentityUpstream } from '@portcullis/core';
import { describe, expect, it } from 'vitest';
import {
  approveWithPin,
  authorizeUrl,
  Browser,
  ISSUER,
  makeServer,
  PIN,
  parseForm,
  registerClient,
} from './helpers.js';

async function setup(overrides = {}) {
  const ctx = makeServer(overrides);
  const { body } = await registerClient(ctx.server.fetch);
  return { ...ctx, clientId: body.client_id! };
}

const submit = (browser: Browser, action: string, fields: Record<string, string>) =>
  browser.fetch(action, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields),
  });

describe('PIN consent upstream', () => {
  it('refuses a wrong PIN with the page again, then accepts the right one', async () => {
    const { server, clientId, events } = await setup();
    const browser = new Browser(server.fetch);
    const page = await browser.fetch(await authorizeUrl(clientId));
    const { action, fields } = parseForm(await page.text());
    const wrong = await submit(browser, action, { ...fields, pin: 'wrong-pin', decision: 'approve' });
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).toContain('Wrong PIN');
    expect(events).toContainEqual({ type: 'login_failed', upstream: 'pin', reason: 'wrong PIN' });
    const right = await submit(browser, action, { ...fields, pin: PIN, decision: 'approve' });
    expect(right.status).toBe(302);
    expect(new URL(right.headers.get('location')!).searchParams.get('code')).toBeTruthy();
  });

  it('cancels the request after 5 wrong PINs, even if the 6th is right', async () => {
    const { server, clientId } = await setup();
    const browser = new Browser(server.fetch);
    const { action, fields } = parseForm(await (await browser.fetch(await authorizeUrl(clientId))).text());
    for (let i = 0; i < 5; i++)
      expect(
        (await submit(browser, action, { ...fields, pin: `bad-${i}xx`, decision: 'approve' })).status,
      ).toBe(401);
    const locked = await submit(browser, action, { ...fields, pin: PIN, decision: 'approve' });
    expect(locked.status).toBe(302);
    expect(new URL(locked.headers.get('location')!).searchParams.get('error')).toBe('access_denied');
  });

  it('limits PIN attempts per client IP across requests, without locking out other addresses', async () => {
    let ip = '198.51.100.1';
    const { server, clientId } = await setup({ clientIp: () => ip });
    const browser = new Browser(server.fetch);
    const attempt = async (pin: string) => {
      const { action, fields } = parseForm(await (await browser.fetch(await authorizeUrl(clientId))).text());
      return submit(browser, action, { ...fields, pin, decision: 'approve' });
    };
    for (let i = 0; i < 20; i++) expect((await attempt('guess-000')).status).toBe(401);
    const limited = await attempt(PIN);
    expect(new URL(limited.headers.get('location')!).searchParams.get('error')).toBe('access_denied');
    ip = '203.0.113.9';
    expect(new URL((await attempt(PIN)).headers.get('location')!).searchParams.get('code')).toBeTruthy();
  });

  it('limits PIN attempts globally when no client IP is known', async () => {
    const { pinUpstream } = await import('@portcullis/core/upstreams');
    const { server, clientId } = await setup({
      upstream: pinUpstream({ pin: PIN, maxAttemptsPerWindow: 3 }),
    });
    const browser = new Browser(server.fetch);
    let last: Response | undefined;
    for (let i = 0; i < 4; i++) {
      const { action, fields } = parseForm(await (await browser.fetch(await authorizeUrl(clientId))).text());
      last = await submit(browser, action, {
        ...fields,
        pin: i < 3 ? 'guess-000' : PIN,
        decision: 'approve',
      });
    }
    expect(new URL(last!.headers.get('location')!).searchParams.get('error')).toBe('access_denied');
  });

  it('refuses a forged CSRF token and a form posted from another browser', async () => {
    const { server, clientId } = await setup();
    const browser = new Browser(server.fetch);
    const { action, fields } = parseForm(await (await browser.fetch(await authorizeUrl(clientId))).text());
    expect((await submit(browser, action, { ...fields, csrf: 'forged', pin: PIN })).status).toBe(403);
    const attacker = new Browser(server.fetch);
    expect((await submit(attacker, action, { ...fields, pin: PIN })).status).toBe(403);
  });

  it('Deny redirects access_denied with state and iss', async () => {
    const { server, clientId } = await setup();
    const response = await approveWithPin(
      new Browser(server.fetch),
      await authorizeUrl(clientId),
      '',
      'deny',
    );
    const location = new URL(response.headers.get('location')!);
    expect(location.searchParams.get('error')).toBe('access_denied');
    expect(location.searchParams.get('state')).toBe('xyz-state');
    expect(location.searchParams.get('iss')).toBe(ISSUER);
  });

  it('refuses short PINs at configuration', async () => {
    const { pinUpstream } = await import('@portcullis/core/upstreams');
    expect(() => pinUpstream({ pin: '123' })).toThrow(/at least 6/);
  });
});

/** An upstream that knows the user from a header and never shows consent itself. */
const headerUpstream: IdentityUpstream = {
  name: 'test-header',
  routes: [],
  async begin(pending, request) {
    return {
      type: 'identity',
      pendingId: pending.id,
      identity: { userId: request.headers.get('x-test-user') ?? 'alice', props: { team: 'blue' } },
    };
  },
  async handle() {
    throw new Error('no routes');
  },
};

describe('remembered consent (confused-deputy protection)', () => {
  const scopes = { supported: ['mcp', 'admin'], default: ['mcp'] };

  it('asks once per user and client, and again when scopes grow', async () => {
    const { server, clientId, events } = await setup({ upstream: headerUpstream, scopes });
    const browser = new Browser(server.fetch);
    const first = await browser.fetch(await authorizeUrl(clientId));
    expect(first.status).toBe(200);
    const html = await first.text();
    expect(html).toContain('wants to access');
    const { action, fields } = parseForm(html);
    expect(action).toBe(`${ISSUER}/authorize/consent`);
    const approved = await submit(browser, action, { ...fields, decision: 'approve' });
    expect(new URL(approved.headers.get('location')!).searchParams.get('code')).toBeTruthy();

    const second = await browser.fetch(await authorizeUrl(clientId));
    expect(second.status).toBe(302);
    expect(events.filter((e) => e.type === 'authorization_granted')).toHaveLength(2);

    const wider = await browser.fetch(await authorizeUrl(clientId, { scope: 'mcp admin' }));
    expect(wider.status).toBe(200);
    const other = await new Browser(server.fetch).fetch(await authorizeUrl(clientId), {
      headers: { 'x-test-user': 'bob' },
    });
    expect(other.status).toBe(200);
  });

  it('refuses a consent post without the CSRF token and records a deny', async () => {
    const { server, clientId } = await setup({ upstream: headerUpstream, scopes });
    const browser = new Browser(server.fetch);
    const { action, fields } = parseForm(await (await browser.fetch(await authorizeUrl(clientId))).text());
    expect((await submit(browser, action, { pending: fields.pending!, decision: 'approve' })).status).toBe(
      403,
    );
    const denied = await submit(browser, action, { ...fields, decision: 'deny' });
    expect(new URL(denied.headers.get('location')!).searchParams.get('error')).toBe('access_denied');
    // The pending request is gone after a decision.
    expect((await submit(browser, action, { ...fields, decision: 'approve' })).status).toBe(400);
  });

  it('props attached by the upstream reach authenticate, encrypted at rest', async () => {
    const { server, clientId, storage, events } = await setup({
      upstream: headerUpstream,
      rememberConsent: false,
    });
    const browser = new Browser(server.fetch);
    const { action, fields } = parseForm(await (await browser.fetch(await authorizeUrl(clientId))).text());
    const code = new URL(
      (await submit(browser, action, { ...fields, decision: 'approve' })).headers.get('location')!,
    ).searchParams.get('code')!;
    const { VERIFIER, tokenRequest } = await import('./helpers.js');
    const tokens = await (
      await tokenRequest(server.fetch, {
        grant_type: 'authorization_code',
        code,
        redirect_uri: 'https://client.example.com/callback',
        code_verifier: VERIFIER,
        client_id: clientId,
      })
    ).json();
    const auth = await server.authenticate(
      new Request(`${ISSUER}/mcp`, { headers: { authorization: `Bearer ${tokens.access_token}` } }),
    );
    expect(auth.ok && auth.info.props).toEqual({ team: 'blue' });
    expect(auth.ok && auth.info.userId).toBe('alice');
    // The grant record holds the props sealed, not in clear text.
    const issued = events.find((e) => e.type === 'token_issued');
    const grant = await storage.get('grant', issued?.type === 'token_issued' ? issued.grantId : '');
    expect(grant?.value).toContain('"sealed":"v1.');
    expect(grant?.value).not.toContain('blue');
  });
});

describe('browser binding of upstream callbacks', () => {
  /** An upstream whose callback names the user, like an OIDC callback would after the IdP login. */
  const callbackUpstream: IdentityUpstream = {
    name: 'test-callback',
    routes: [{ method: 'GET', path: '/callback' }],
    async begin(pending, _request, ctx) {
      return new Response(null, {
        status: 302,
        headers: { location: ctx.url(`/callback?pending=${pending.id}`) },
      });
    },
    async handle(request) {
      const pendingId = new URL(request.url).searchParams.get('pending') ?? '';
      return { type: 'identity', pendingId, identity: { userId: 'carol', consented: true } };
    },
  };

  it('finishes only in the browser that started the flow, even when the other browser has its own flow cookie', async () => {
    const { server, clientId } = await setup({ upstream: callbackUpstream });
    const victim = new Browser(server.fetch);
    const attacker = new Browser(server.fetch);
    await attacker.fetch(await authorizeUrl(clientId));
    expect(attacker.cookies.size).toBe(1);
    const started = await victim.fetch(await authorizeUrl(clientId));
    const callback = started.headers.get('location')!;
    const stolen = await attacker.fetch(callback);
    expect(stolen.status).toBe(400);
    expect(await stolen.text()).toContain('browser that started it');
    const finished = await victim.fetch(callback);
    expect(new URL(finished.headers.get('location')!).searchParams.get('code')).toBeTruthy();
  });

  it('does not start a flow on HEAD /authorize', async () => {
    const { server, clientId } = await setup();
    const response = await server.fetch(new Request(await authorizeUrl(clientId), { method: 'HEAD' }));
    expect(response.status).toBe(405);
    expect(response.headers.get('set-cookie')).toBeNull();
  });
});
