/**
 * Redirect URI attacks at registration and at the authorization endpoint, and open redirects on error
 * paths. Every refused authorization request about the client or its redirect URI must be a page, never
 * a redirect (RFC 6749 §4.1.2.1, RFC 9700 §4.11.2).
 */
import { describe, expect } from 'vitest';
import {
  authorizeUrl,
  Browser,
  expectPage,
  expectRedirectError,
  instantUpstream,
  LOOPBACK,
  makeServer,
  openPinPage,
  PIN,
  parseForm,
  REDIRECT,
  registerClient,
  runCases,
  type SecurityCase,
  setup,
  submit,
} from '../support/security.js';

/** Registration refuses the URI with `invalid_redirect_uri` and registers nothing. */
function refusedAtRegistration(
  source: string,
  name: string,
  uris: unknown,
  reason: string,
  error = 'invalid_redirect_uri',
): SecurityCase {
  return {
    source,
    name,
    run: async () => {
      const { server, events } = makeServer();
      const { response, body } = await registerClient(server.fetch, { redirect_uris: uris });
      expect(response.status).toBe(400);
      expect(body.error).toBe(error);
      expect(body.error_description).toContain(reason);
      expect(events.some((e) => e.type === 'client_registered')).toBe(false);
    },
  };
}

const registration: SecurityCase[] = [
  refusedAtRegistration(
    'RFC 9700 §4.1.1',
    'userinfo with an upper-case scheme (HTTPS://evil@host)',
    ['HTTPS://evil.example@client.example.com/cb'],
    'user information',
  ),
  refusedAtRegistration(
    'RFC 9700 §4.1.1',
    'loopback userinfo that really points elsewhere (http://127.0.0.1@evil)',
    ['http://127.0.0.1@evil.example/cb'],
    'user information',
  ),
  refusedAtRegistration(
    'RFC 3986 §3.2.2',
    'percent-encoded @ inside the host',
    ['https://client.example.com%40evil.example/cb'],
    'absolute URI',
  ),
  refusedAtRegistration(
    'RFC 9700 §4.1.1',
    'backslash parser confusion (host\\@evil)',
    ['https://client.example.com\\@evil.example/cb'],
    'backslashes',
  ),
  refusedAtRegistration(
    'RFC 7591 §5',
    'mixed-case javascript: scheme',
    ['JaVaScRiPt:alert(document.cookie)'],
    'forbidden scheme',
  ),
  refusedAtRegistration('RFC 7591 §5', 'vbscript: scheme', ['vbscript:msgbox(1)'], 'forbidden scheme'),
  refusedAtRegistration(
    'RFC 7591 §5',
    'blob: URL of the client origin',
    ['blob:https://client.example.com/0b1c'],
    'forbidden scheme',
  ),
  refusedAtRegistration('RFC 7591 §5', 'websocket scheme', ['ws://127.0.0.1/cb'], 'forbidden scheme'),
  refusedAtRegistration(
    'RFC 8252 §8.3',
    'http on a host that merely starts with localhost',
    ['http://localhost.evil.example/cb'],
    'loopback',
  ),
  refusedAtRegistration(
    'RFC 8252 §8.3',
    'http on an IPv4-mapped IPv6 address',
    ['http://[::ffff:127.0.0.1]/cb'],
    'loopback',
  ),
  refusedAtRegistration(
    'RFC 3986 §2',
    'tab inside the URI',
    ['https://client.example.com/\tcb'],
    'control characters',
  ),
  refusedAtRegistration(
    'RFC 9110 §5.5',
    'CRLF header injection inside the URI',
    ['https://client.example.com/cb\r\nSet-Cookie: pwned=1'],
    'control characters',
  ),
  refusedAtRegistration(
    'RFC 7591 §2',
    'one bad URI hidden among good ones refuses the whole registration',
    ['https://client.example.com/cb', 'https://client.example.com/cb2', 'javascript:alert(1)'],
    'forbidden scheme',
  ),
  refusedAtRegistration(
    'RFC 7591 §2',
    'a redirect URI that is not a string',
    [{ href: 'https://client.example.com/cb' }],
    'string',
  ),
  refusedAtRegistration(
    'RFC 7591 §2',
    'redirect_uris as a bare string instead of an array',
    'https://client.example.com/cb',
    'redirect_uris',
    'invalid_client_metadata',
  ),
  {
    source: 'RFC 7592 §2.2',
    name: 'an update cannot swap in a javascript: redirect URI',
    run: async () => {
      const { server, client, clientId } = await setup();
      const put = await server.fetch(
        new Request(client.registration_client_uri!, {
          method: 'PUT',
          headers: {
            'content-type': 'application/json',
            authorization: `Bearer ${client.registration_access_token}`,
          },
          body: JSON.stringify({
            client_id: clientId,
            redirect_uris: ['javascript:alert(1)'],
            token_endpoint_auth_method: 'none',
          }),
        }),
      );
      expect(put.status).toBe(400);
      expect((await put.json()).error).toBe('invalid_redirect_uri');
      const read = await server.fetch(
        new Request(client.registration_client_uri!, {
          headers: { authorization: `Bearer ${client.registration_access_token}` },
        }),
      );
      expect((await read.json()).redirect_uris).toEqual([REDIRECT]);
    },
  },
];

/** The authorization request with `redirect_uri` is refused as a page naming the mismatch. */
function refusedAtAuthorize(
  source: string,
  name: string,
  redirectUri: string,
  registered: string = REDIRECT,
): SecurityCase {
  return {
    source,
    name,
    run: async () => {
      const { server, clientId, events } = await setup({ redirect_uris: [registered] });
      const url = await authorizeUrl(clientId, { redirect_uri: redirectUri });
      const response = await new Browser(server.fetch).fetch(url);
      await expectPage(response, 400, 'does not match');
      // Nothing was started: no flow cookie, no grant.
      expect(response.headers.get('set-cookie')).toBeNull();
      expect(events.some((e) => e.type === 'authorization_granted')).toBe(false);
    },
  };
}

const authorize: SecurityCase[] = [
  refusedAtAuthorize(
    'RFC 9700 §4.1.3',
    'IDN homograph of the registered host (Cyrillic і)',
    'https://cl\u0456ent.example.com/callback',
  ),
  refusedAtAuthorize(
    'RFC 9700 §4.1.3',
    'punycode form of a homograph host',
    'https://xn--clent-o2e.example.com/callback',
  ),
  refusedAtAuthorize(
    'RFC 9700 §4.1.1',
    'registered host used as a subdomain of the attacker',
    'https://client.example.com.evil.example/callback',
  ),
  refusedAtAuthorize('RFC 6749 §3.1.2.3', 'upper-case host', 'https://CLIENT.EXAMPLE.COM/callback'),
  refusedAtAuthorize('RFC 6749 §3.1.2.3', 'trailing dot on the host', 'https://client.example.com./callback'),
  refusedAtAuthorize('RFC 6749 §3.1.2.3', 'explicit default port', 'https://client.example.com:443/callback'),
  refusedAtAuthorize(
    'RFC 9700 §4.1.3',
    'dot segments that normalise to the registered path',
    'https://client.example.com/x/../callback',
  ),
  refusedAtAuthorize(
    'RFC 9700 §4.1.1',
    'path traversal out of the registered path',
    'https://client.example.com/callback/../../evil',
  ),
  refusedAtAuthorize(
    'RFC 9700 §4.1.3',
    'percent-encoded unreserved character in the path',
    'https://client.example.com/%63allback',
  ),
  refusedAtAuthorize(
    'RFC 9700 §4.1.1',
    'encoded slashes smuggling a traversal',
    'https://client.example.com/callback%2F..%2Fevil',
  ),
  refusedAtAuthorize('RFC 6749 §3.1.2', 'fragment appended', 'https://client.example.com/callback#x'),
  refusedAtAuthorize(
    'RFC 9700 §4.1.1',
    'registered host turned into userinfo',
    'https://client.example.com@evil.example/callback',
  ),
  refusedAtAuthorize('RFC 9700 §4.1.3', 'https downgraded to http', 'http://client.example.com/callback'),
  refusedAtAuthorize(
    'RFC 8252 §7.3',
    'loopback: another port is allowed, another path is not',
    'http://127.0.0.1:9999/cb/../other',
    LOOPBACK,
  ),
  refusedAtAuthorize(
    'RFC 8252 §8.3',
    'loopback: localhost instead of the registered 127.0.0.1',
    'http://localhost:9999/cb',
    LOOPBACK,
  ),
  refusedAtAuthorize(
    'RFC 9700 §4.1.1',
    'loopback: port variance combined with userinfo to another host',
    'http://127.0.0.1:9999@evil.example/cb',
    LOOPBACK,
  ),
  refusedAtAuthorize('RFC 8252 §7.3', 'loopback: short IPv4 form 127.1', 'http://127.1:9999/cb', LOOPBACK),
  refusedAtAuthorize(
    'RFC 8252 §7.3',
    'loopback: query added on another port',
    'http://127.0.0.1:9999/cb?next=https://evil.example',
    LOOPBACK,
  ),
];

/** An authorization request with a bad redirect URI plus another error: the page wins, no redirect. */
function pageBeforeRedirect(name: string, params: Record<string, string | undefined>): SecurityCase {
  return {
    source: 'RFC 9700 §4.11.2',
    name,
    run: async () => {
      const { server, clientId } = await setup();
      const url = await authorizeUrl(clientId, { redirect_uri: 'https://evil.example/cb', ...params });
      await expectPage(await new Browser(server.fetch).fetch(url), 400, 'does not match');
    },
  };
}

const openRedirect: SecurityCase[] = [
  pageBeforeRedirect('unregistered redirect_uri together with response_type=token', {
    response_type: 'token',
  }),
  pageBeforeRedirect('unregistered redirect_uri together with a missing PKCE challenge', {
    code_challenge: undefined,
  }),
  pageBeforeRedirect('unregistered redirect_uri together with an unknown scope', { scope: 'admin' }),
  {
    source: 'RFC 9700 §4.11.2',
    name: 'a deleted client cannot be used to redirect anywhere',
    run: async () => {
      const { server, client, clientId } = await setup();
      const deleted = await server.fetch(
        new Request(client.registration_client_uri!, {
          method: 'DELETE',
          headers: { authorization: `Bearer ${client.registration_access_token}` },
        }),
      );
      expect(deleted.status).toBe(204);
      const page = await new Browser(server.fetch).fetch(await authorizeUrl(clientId));
      await expectPage(page, 400, 'not registered');
    },
  },
  {
    source: 'RFC 6749 §3.1',
    name: 'client_id sent twice (parameter pollution) is a page',
    run: async () => {
      const { server, clientId } = await setup();
      const url = `${await authorizeUrl(clientId)}&client_id=attacker`;
      await expectPage(await new Browser(server.fetch).fetch(url), 400, 'repeated');
    },
  },
  {
    source: 'RFC 6749 §3.1',
    name: 'redirect_uri sent twice (parameter pollution) is a page',
    run: async () => {
      const { server, clientId } = await setup();
      const url = `${await authorizeUrl(clientId)}&redirect_uri=${encodeURIComponent('https://evil.example/cb')}`;
      await expectPage(await new Browser(server.fetch).fetch(url), 400, 'repeated');
    },
  },
  {
    source: 'RFC 9700 §4.11.2',
    name: 'PIN form posted for an unknown pending request is a page',
    run: async () => {
      const { server, clientId } = await setup();
      const browser = new Browser(server.fetch);
      const { action, fields } = await openPinPage(browser, await authorizeUrl(clientId));
      const response = await submit(browser, action, {
        ...fields,
        pending: 'A'.repeat(43),
        pin: PIN,
        decision: 'approve',
      });
      await expectPage(response, 400, 'expired');
    },
  },
  {
    source: 'RFC 9700 §4.11.2',
    name: 'PIN form posted after the pending request expired is a page, not a redirect',
    run: async () => {
      const { server, clientId, clock } = await setup();
      const browser = new Browser(server.fetch);
      const { action, fields } = await openPinPage(browser, await authorizeUrl(clientId));
      clock.advance(24 * 3_600_000);
      const response = await submit(browser, action, { ...fields, pin: PIN, decision: 'deny' });
      await expectPage(response, 400, 'expired');
    },
  },
  {
    source: 'RFC 9700 §4.11.2',
    name: 'consent posted after the pending request expired is a page, not a redirect',
    run: async () => {
      const { server, clientId, clock } = await setup({}, { upstream: instantUpstream() });
      const browser = new Browser(server.fetch);
      const page = await browser.fetch(await authorizeUrl(clientId));
      expect(page.status).toBe(200);
      const { action, fields } = parseForm(await page.text());
      clock.advance(24 * 3_600_000);
      await expectPage(await submit(browser, action, { ...fields, decision: 'approve' }), 400, 'expired');
    },
  },
  {
    source: 'RFC 9207 §2',
    name: 'errors that are redirected carry iss so a mix-up is detectable',
    run: async () => {
      const { server, clientId } = await setup();
      const url = await authorizeUrl(clientId, { code_challenge_method: 'plain' });
      const location = expectRedirectError(await new Browser(server.fetch).fetch(url), 'invalid_request');
      expect(location.searchParams.get('state')).toBe('xyz-state');
    },
  },
  {
    source: 'RFC 6749 §10.2',
    name: 'a homograph redirect host is shown to the user in punycode on the PIN page',
    run: async () => {
      const homograph = 'https://cl\u0456ent.example.com/callback';
      const { server, clientId } = await setup({ redirect_uris: [homograph] });
      const page = await new Browser(server.fetch).fetch(
        await authorizeUrl(clientId, { redirect_uri: homograph }),
      );
      const html = await page.text();
      expect(html).toContain('https://xn--clent-o2e.example.com');
      expect(html).not.toContain('cl\u0456ent');
    },
  },
];

describe('security: redirect URIs at registration', () => runCases(registration));
describe('security: redirect URIs at the authorization endpoint', () => runCases(authorize));
describe('security: no open redirect on error paths', () => runCases(openRedirect));
