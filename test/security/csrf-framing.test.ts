/**
 * CSRF on the PIN and consent forms (missing, forged, from another browser, replayed), the flow cookie's
 * attributes, and anti-framing / no-leak headers on every page a user can see.
 */
import { describe, expect } from 'vitest';
import {
  authorizeUrl,
  Browser,
  expectPage,
  expectPageHeaders,
  instantUpstream,
  openPinPage,
  PIN,
  parseForm,
  runCases,
  type SecurityCase,
  setup,
  submit,
} from '../support/security.js';

/** Opens the core's consent page (identity known at once) in a fresh browser. */
async function consentFlow() {
  const ctx = await setup({}, { upstream: instantUpstream() });
  const browser = new Browser(ctx.server.fetch);
  const page = await browser.fetch(await authorizeUrl(ctx.clientId));
  expect(page.status).toBe(200);
  const html = await page.text();
  expect(html).toContain('Approve');
  return { ...ctx, browser, ...parseForm(html) };
}

/** Opens the PIN page in a fresh browser. */
async function pinFlow() {
  const ctx = await setup();
  const browser = new Browser(ctx.server.fetch);
  const form = await openPinPage(browser, await authorizeUrl(ctx.clientId));
  return { ...ctx, browser, ...form };
}

const granted = (events: { type: string }[]) => events.filter((e) => e.type === 'authorization_granted');

const csrf: SecurityCase[] = [
  {
    source: 'RFC 9700 §4.7',
    name: 'PIN form posted with every field right but without the flow cookie',
    run: async () => {
      const { server, action, fields, events } = await pinFlow();
      const cookieless = new Browser(server.fetch);
      await expectPage(await submit(cookieless, action, { ...fields, pin: PIN, decision: 'approve' }), 403);
      expect(granted(events)).toHaveLength(0);
    },
  },
  {
    source: 'RFC 9700 §4.7',
    name: 'PIN form with the CSRF token of another pending request of the same browser',
    run: async () => {
      const { browser, clientId, action, fields, events } = await pinFlow();
      const other = await openPinPage(browser, await authorizeUrl(clientId, { state: 'second' }));
      const mixed = { ...fields, csrf: other.fields.csrf!, pin: PIN, decision: 'approve' };
      await expectPage(await submit(browser, action, mixed), 403);
      expect(granted(events)).toHaveLength(0);
    },
  },
  {
    source: 'RFC 9700 §4.7',
    name: 'forged deny cannot cancel the user’s request: it stays approvable',
    run: async () => {
      const { browser, action, fields } = await pinFlow();
      await expectPage(
        await submit(browser, action, { ...fields, csrf: 'x'.repeat(43), decision: 'deny' }),
        403,
      );
      const approved = await submit(browser, action, { ...fields, pin: PIN, decision: 'approve' });
      expect(approved.status).toBe(302);
      expect(new URL(approved.headers.get('location')!).searchParams.get('code')).toBeTruthy();
    },
  },
  {
    source: 'RFC 6749 §10.5',
    name: 'double submit of an approved PIN form mints exactly one code',
    run: async () => {
      const { browser, action, fields, events } = await pinFlow();
      const body = { ...fields, pin: PIN, decision: 'approve' };
      const [a, b] = await Promise.all([submit(browser, action, body), submit(browser, action, body)]);
      const statuses = [a.status, b.status].sort();
      expect(statuses[0]).toBe(302);
      expect(granted(events).length).toBeLessThanOrEqual(1);
      const again = await submit(browser, action, body);
      await expectPage(again, 400);
      expect(granted(events)).toHaveLength(1);
    },
  },
  {
    source: 'RFC 9110 §9.2.1',
    name: 'GET on the PIN form endpoint changes nothing (405)',
    run: async () => {
      const { browser, action, fields } = await pinFlow();
      const url = `${action}?${new URLSearchParams({ ...fields, pin: PIN, decision: 'approve' })}`;
      const response = await browser.fetch(url);
      expect(response.status).toBe(405);
      expect(response.headers.get('location')).toBeNull();
    },
  },
  {
    source: 'RFC 9700 §4.7',
    name: 'consent approved with a forged CSRF token',
    run: async () => {
      const { browser, action, fields, events } = await consentFlow();
      await expectPage(
        await submit(browser, action, { ...fields, csrf: 'A'.repeat(43), decision: 'approve' }),
        403,
      );
      expect(granted(events)).toHaveLength(0);
    },
  },
  {
    source: 'RFC 9700 §4.7',
    name: 'consent approved from another browser that copied the form fields',
    run: async () => {
      const { server, action, fields, events } = await consentFlow();
      const attacker = new Browser(server.fetch);
      await attacker.fetch(await authorizeUrl((await setup()).clientId)); // gets a cookie of its own
      await expectPage(await submit(attacker, action, { ...fields, decision: 'approve' }), 403);
      expect(granted(events)).toHaveLength(0);
    },
  },
  {
    source: 'RFC 9700 §4.7',
    name: 'consent approved without any cookie',
    run: async () => {
      const { server, action, fields, events } = await consentFlow();
      await expectPage(
        await submit(new Browser(server.fetch), action, { ...fields, decision: 'approve' }),
        403,
      );
      expect(granted(events)).toHaveLength(0);
    },
  },
  {
    source: 'RFC 6749 §10.5',
    name: 'consent approval replayed after it succeeded',
    run: async () => {
      const { browser, action, fields, events } = await consentFlow();
      expect((await submit(browser, action, { ...fields, decision: 'approve' })).status).toBe(302);
      await expectPage(await submit(browser, action, { ...fields, decision: 'approve' }), 400);
      expect(granted(events)).toHaveLength(1);
    },
  },
  {
    source: 'RFC 6265bis §4.1.3.2',
    name: 'the flow cookie is __Host- prefixed, Secure, HttpOnly, SameSite=Lax, host-only',
    run: async () => {
      const { server, clientId } = await setup();
      const page = await new Browser(server.fetch).fetch(await authorizeUrl(clientId));
      const [cookie] = page.headers.getSetCookie();
      expect(cookie).toMatch(/^__Host-portcullis-flow=[A-Za-z0-9_-]{43};/);
      const attributes = cookie!.split(';').map((a) => a.trim().toLowerCase());
      expect(attributes).toEqual(expect.arrayContaining(['path=/', 'httponly', 'samesite=lax', 'secure']));
      expect(attributes.some((a) => a.startsWith('domain='))).toBe(false);
    },
  },
  {
    source: 'RFC 9700 §4.7',
    name: 'a malformed injected flow cookie is replaced, not adopted',
    run: async () => {
      const { server, clientId } = await setup();
      const browser = new Browser(server.fetch);
      browser.cookies.set('__Host-portcullis-flow', 'attacker;chosen');
      const page = await browser.fetch(await authorizeUrl(clientId));
      expect(page.headers.getSetCookie()[0]).toMatch(/^__Host-portcullis-flow=[A-Za-z0-9_-]{43};/);
    },
  },
];

/** A page a user can land on, with how to reach it. */
function framing(name: string, open: () => Promise<Response>, status: number): SecurityCase {
  return {
    source: 'RFC 9700 §4.16',
    name: `${name} refuses framing and leaks nothing via Referer or caches`,
    run: async () => {
      const response = await open();
      expect(response.status).toBe(status);
      expect(response.headers.get('content-type')).toContain('text/html');
      expectPageHeaders(response);
    },
  };
}

const framingCases: SecurityCase[] = [
  framing(
    'the consent page',
    async () => {
      const { server, clientId } = await setup({}, { upstream: instantUpstream() });
      return new Browser(server.fetch).fetch(await authorizeUrl(clientId));
    },
    200,
  ),
  framing(
    'the error page for an unknown client',
    async () => {
      const { server } = await setup();
      return new Browser(server.fetch).fetch(await authorizeUrl('unknown-client'));
    },
    400,
  ),
  framing(
    'the wrong-PIN page',
    async () => {
      const { browser, action, fields } = await pinFlow();
      return submit(browser, action, { ...fields, pin: 'not-the-pin', decision: 'approve' });
    },
    401,
  ),
  framing(
    'the CSRF-failure page',
    async () => {
      const { browser, action, fields } = await pinFlow();
      return submit(browser, action, { ...fields, csrf: 'forged', pin: PIN, decision: 'approve' });
    },
    403,
  ),
  framing(
    'the consent CSRF-failure page',
    async () => {
      const { server, action, fields } = await consentFlow();
      return submit(new Browser(server.fetch), action, { ...fields, decision: 'approve' });
    },
    403,
  ),
  framing(
    'the error page for a storage outage',
    async () => {
      const { server, clientId, storage } = await setup();
      storage.get = () => Promise.reject(new Error('down'));
      return new Browser(server.fetch).fetch(await authorizeUrl(clientId));
    },
    503,
  ),
  {
    source: 'RFC 9700 §4.3',
    name: 'the redirect carrying the code is not cached and sends no Referer-leaking page',
    run: async () => {
      const { browser, action, fields } = await pinFlow();
      const response = await submit(browser, action, { ...fields, pin: PIN, decision: 'approve' });
      expect(response.status).toBe(302);
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(response.body === null || (await response.text()) === '').toBe(true);
    },
  },
];

describe('security: CSRF on the PIN and consent forms', () => runCases(csrf));
describe('security: clickjacking and page headers', () => runCases(framingCases));
