/**
 * Hostile input found by an outside review of a running demo (issue 11), over real HTTP on 127.0.0.1
 * through the Node adapter, and inside workerd for the Workers adapter: methods `new Request` refuses,
 * error descriptions that echo forbidden characters, flow-cookie fixation, cross-site form posts,
 * broken bodies logged as server errors, over-long values echoed back, foreign Host headers.
 */
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { PortcullisEvent } from '@portcullis/core';
import { pinUpstream } from '@portcullis/core/upstreams';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleWorker } from '../../packages/adapter-workers/test/workerd.js';
import { Miniflare } from '../support/deps.js';
import { LIVE_PIN, type LiveServer, s256, startLiveServer } from '../support/live.js';
import { CookieJar, protectedMcp } from '../support/mcp.js';
import { instantUpstream } from '../support/security.js';

const REDIRECT = 'http://127.0.0.1:47012/cb';
const VERIFIER = 'hostile-input-verifier-0123456789-abcdefghijklmnopqrstuvwxyz';
/** A body limit below the core's own 64 KiB, so the adapter's limit is the one that trips. */
const BODY_LIMIT = 16 * 1024;
/** RFC 6749 §5.2 / §4.1.2.1: error_description is limited to %x20-21 / %x23-5B / %x5D-7E. */
const DESCRIPTION_CHARSET = /^[\x20\x21\x23-\x5B\x5D-\x7E]*$/;
/** Input carrying every character class §5.2 forbids: a quote, a backslash, non-ASCII. */
const HOSTILE = 'x"y\\z-é☃';

const errors: unknown[] = [];
let pin: LiveServer;
let consent: LiveServer;
beforeAll(async () => {
  const serve = { onError: (error: unknown) => void errors.push(error), bodyLimit: BODY_LIMIT };
  [pin, consent] = await Promise.all([
    startLiveServer({
      mcp: protectedMcp,
      serve,
      overrides: {
        upstream: pinUpstream({ pin: LIVE_PIN, maxAttemptsPerClient: 10_000, maxAttemptsPerWindow: 10_000 }),
        registration: { maxPerHour: 10_000 },
        // Strict scopes: unknown scopes are errors, so their descriptions can be checked too.
        scopes: { supported: ['mcp'], strict: true },
      },
    }),
    startLiveServer({
      mcp: protectedMcp,
      serve,
      overrides: { upstream: instantUpstream({ userId: 'alice' }) },
    }),
  ]);
});
afterAll(() => Promise.all([pin?.close(), consent?.close()]));

/** Server-error events: what an operator's alerting sees. */
const serverErrors = (server: LiveServer): PortcullisEvent[] =>
  server.events.filter((e) => e.type === 'storage_error');

async function register(server: LiveServer, metadata: Record<string, unknown> = {}): Promise<string> {
  const response = await fetch(`${server.issuer}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      redirect_uris: [REDIRECT],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      ...metadata,
    }),
  });
  const body = (await response.json()) as { client_id: string };
  expect(response.status, JSON.stringify(body)).toBe(201);
  return body.client_id;
}

async function authorizeUrl(server: LiveServer, clientId: string, params: Record<string, string> = {}) {
  const url = new URL(`${server.issuer}/authorize`);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: REDIRECT,
    code_challenge: await s256(VERIFIER),
    code_challenge_method: 'S256',
    state: 'hostile-state',
    ...params,
  }).toString();
  return url;
}

const unescapeHtml = (v: string) =>
  v
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');

/** A browser flow up to the page's form: the jar (with the flow cookie), the action and fields. */
async function openFlowForm(url: URL, jar = new CookieJar()) {
  const page = await fetch(url, { headers: jar.header(), redirect: 'manual' });
  const setCookie = page.headers.getSetCookie();
  jar.store(page);
  const html = await page.text();
  expect(page.status, html.slice(0, 300)).toBe(200);
  const action = new URL(unescapeHtml(/<form[^>]*action="([^"]+)"/.exec(html)![1]!), url);
  const fields: Record<string, string> = {};
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g))
    fields[m[1]!] = unescapeHtml(m[2]!);
  return { jar, action, fields, setCookie };
}

const postForm = (url: URL, fields: Record<string, string>, headers: Record<string, string>) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(fields),
    redirect: 'manual',
  });

/** A request with any method (fetch refuses TRACE), answering the status. */
function sendMethod(url: string, method: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Writes raw bytes to the server and returns what came back before the socket closed (or 2 s). */
function rawExchange(server: LiveServer, chunks: string[], options: { destroyAfter?: boolean } = {}) {
  const { hostname, port } = new URL(server.url);
  return new Promise<string>((resolve) => {
    let received = '';
    const socket = connect(Number(port), hostname, () => {
      for (const chunk of chunks) socket.write(chunk);
      if (options.destroyAfter) setTimeout(() => socket.destroy(), 50);
    });
    const done = () => resolve(received);
    socket.on('data', (data) => {
      received += data.toString('latin1');
    });
    socket.on('close', done);
    socket.on('error', done);
    setTimeout(() => {
      socket.destroy();
      done();
    }, 2000).unref();
  });
}

/** Waits until in-flight handlers have settled, then returns the server errors logged meanwhile. */
async function serverErrorsAfter(server: LiveServer, before: number): Promise<PortcullisEvent[]> {
  await new Promise((resolve) => setTimeout(resolve, 300));
  return serverErrors(server).slice(before);
}

// TRACE reaches the adapter (Node parses it) but `new Request` refuses it; TRACK and CONNECT never
// reach it (Node's parser answers 400, or hands CONNECT to a listener the server does not have).
describe('[RFC 9110 §9.3.8] TRACE, which the Web Request refuses, is 405/501, never 500', () => {
  for (const path of [
    '/',
    '/token',
    '/authorize',
    '/.well-known/oauth-authorization-server',
    '/mcp',
    '/nope',
  ])
    it(`TRACE ${path}`, async () => {
      const before = errors.length;
      const status = await sendMethod(`${pin.url}${path}`, 'TRACE');
      expect([405, 501]).toContain(status);
      expect(errors.slice(before)).toEqual([]);
    });
});

/** One place where a request value may come back in an error description. */
interface EchoCase {
  readonly name: string;
  /** Sends the hostile request and returns the error_description it got. */
  readonly send: () => Promise<string | null>;
}

const jsonDescription = async (response: Response) => {
  const body = (await response.json()) as { error?: string; error_description?: string };
  expect(response.status, JSON.stringify(body)).toBeGreaterThanOrEqual(400);
  return body.error_description ?? null;
};
const token = (form: Record<string, string> | string) =>
  fetch(`${pin.issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: typeof form === 'string' ? form : new URLSearchParams(form),
  });
const registration = (metadata: Record<string, unknown>) =>
  fetch(`${pin.issuer}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none', ...metadata }),
  });
const redirectDescription = async (response: Response) => {
  expect(response.status).toBe(302);
  return new URL(response.headers.get('location')!).searchParams.get('error_description');
};

const echoCases: EchoCase[] = [
  { name: 'token: grant_type', send: async () => jsonDescription(await token({ grant_type: HOSTILE })) },
  {
    name: 'token: a repeated parameter’s name',
    send: async () =>
      jsonDescription(await token(`${encodeURIComponent(HOSTILE)}=1&${encodeURIComponent(HOSTILE)}=2`)),
  },
  {
    name: 'token: a repeated grant_type',
    send: async () => jsonDescription(await token('grant_type=authorization_code&grant_type=refresh_token')),
  },
  {
    name: 'token: client_id of an unknown client',
    send: async () =>
      jsonDescription(await token({ grant_type: 'authorization_code', code: 'x', client_id: HOSTILE })),
  },
  {
    name: 'token: refresh with a scope never granted',
    send: async () => {
      const clientId = await register(pin);
      const refreshToken = await refreshTokenFor(clientId);
      return jsonDescription(
        await token({
          grant_type: 'refresh_token',
          refresh_token: refreshToken,
          client_id: clientId,
          scope: HOSTILE,
        }),
      );
    },
  },
  {
    name: 'register: a redirect URI',
    send: async () =>
      jsonDescription(await registration({ redirect_uris: [`http://evil.example/${HOSTILE}`] })),
  },
  { name: 'register: scope', send: async () => jsonDescription(await registration({ scope: HOSTILE })) },
  {
    name: 'register: token_endpoint_auth_method',
    send: async () => jsonDescription(await registration({ token_endpoint_auth_method: HOSTILE })),
  },
  {
    name: 'register: grant_types',
    send: async () => jsonDescription(await registration({ grant_types: [HOSTILE] })),
  },
  {
    name: 'register: a field of the wrong type',
    send: async () =>
      jsonDescription(await registration({ [HOSTILE]: 1, client_name: { [HOSTILE]: HOSTILE } })),
  },
  {
    name: 'authorize: scope (error redirect)',
    send: async () =>
      redirectDescription(
        await fetch(await authorizeUrl(pin, await register(pin), { scope: HOSTILE }), { redirect: 'manual' }),
      ),
  },
  {
    name: 'authorize: resource (error redirect)',
    send: async () =>
      redirectDescription(
        await fetch(
          await authorizeUrl(pin, await register(pin), { resource: `https://x.example/${HOSTILE}` }),
          {
            redirect: 'manual',
          },
        ),
      ),
  },
  {
    name: 'authorize: response_type (error redirect)',
    send: async () =>
      redirectDescription(
        await fetch(await authorizeUrl(pin, await register(pin), { response_type: HOSTILE }), {
          redirect: 'manual',
        }),
      ),
  },
  {
    name: 'resource: WWW-Authenticate error_description of a refused token',
    send: async () => {
      // Header values are bytes: the Latin-1 part of the hostile input.
      const response = await fetch(`${pin.url}/mcp`, { headers: { authorization: `Bearer x"y\\z-\u00e9` } });
      await response.body?.cancel();
      return /error_description="([^"]*)"/.exec(response.headers.get('www-authenticate') ?? '')?.[1] ?? null;
    },
  },
];

/** A refresh token for a client of the PIN server (the PIN page played over fetch). */
async function refreshTokenFor(clientId: string): Promise<string> {
  const { jar, action, fields } = await openFlowForm(await authorizeUrl(pin, clientId));
  const approved = await postForm(action, { ...fields, pin: LIVE_PIN, decision: 'approve' }, jar.header());
  const code = new URL(approved.headers.get('location')!).searchParams.get('code')!;
  const response = await token({
    grant_type: 'authorization_code',
    code,
    redirect_uri: REDIRECT,
    code_verifier: VERIFIER,
    client_id: clientId,
  });
  return ((await response.json()) as { refresh_token: string }).refresh_token;
}

describe('[RFC 6749 §5.2, §4.1.2.1] error descriptions never carry ", \\ or non-ASCII, whatever was sent', () => {
  for (const { name, send } of echoCases)
    it(name, async () => {
      const description = await send();
      expect(description, 'an error_description is sent').not.toBeNull();
      expect(description).toMatch(DESCRIPTION_CHARSET);
    });
});

describe('[RFC 6749 §10.12, OWASP session fixation] /authorize never adopts a flow cookie the browser brings', () => {
  it('a made-up 43-character value is replaced by a server-generated one and cannot finish the flow', async () => {
    const cookieName = 'portcullis-flow';
    const planted = `${'A'.repeat(20)}${'b'.repeat(20)}0_-`;
    expect(planted).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const victim = new CookieJar();
    victim.cookies.set(cookieName, planted);
    const { action, fields, setCookie, jar } = await openFlowForm(
      await authorizeUrl(pin, await register(pin)),
      victim,
    );
    const issued = setCookie.map((c) => /^portcullis-flow=([^;]*)/.exec(c)?.[1]).find(Boolean);
    expect(issued, 'a flow cookie is set').toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(issued).not.toBe(planted);
    // The attacker, who planted the value, finishes the victim's request with it.
    const attacker = await postForm(
      action,
      { ...fields, pin: LIVE_PIN, decision: 'approve' },
      { cookie: `${cookieName}=${planted}` },
    );
    expect(attacker.status).toBe(403);
    expect(attacker.headers.get('location')).toBeNull();
    // The victim's own browser, with the server's cookie, still can.
    const victimPost = await postForm(
      action,
      { ...fields, pin: LIVE_PIN, decision: 'approve' },
      jar.header(),
    );
    expect(victimPost.status).toBe(302);
    expect(new URL(victimPost.headers.get('location')!).searchParams.get('code')).toBeTruthy();
  });
});

/** Opens a fresh form of `kind` (the PIN page, or the core's consent page) in a browser. */
async function freshForm(kind: 'pin' | 'consent') {
  const server = kind === 'pin' ? pin : consent;
  const form = await openFlowForm(await authorizeUrl(server, await register(server)));
  const fields = { ...form.fields, decision: 'approve', ...(kind === 'pin' ? { pin: LIVE_PIN } : {}) };
  return { ...form, fields, origin: server.url };
}

describe('[RFC 9700 §4.7, Fetch Metadata] the PIN and consent forms refuse a cross-site POST', () => {
  for (const kind of ['pin', 'consent'] as const) {
    for (const [name, headers] of [
      ['Origin of another site', { origin: 'https://evil.example' }],
      ['Sec-Fetch-Site: cross-site', { 'sec-fetch-site': 'cross-site' }],
      [
        'cross-site Origin and Sec-Fetch-Site',
        { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
      ],
    ] as const) {
      it(`${kind} form: ${name} is refused even with a valid CSRF token and cookie`, async () => {
        const { jar, action, fields } = await freshForm(kind);
        const response = await postForm(action, fields, { ...jar.header(), ...headers });
        expect(response.status).toBe(403);
        expect(response.headers.get('location')).toBeNull();
      });
    }
    it(`${kind} form: same-origin posts still work (Origin, Origin: null under no-referrer, no headers)`, async () => {
      const variants = (origin: string): Record<string, string>[] => [
        { origin, 'sec-fetch-site': 'same-origin' },
        // Fetch §3.1: a form POST from a page with Referrer-Policy: no-referrer says `Origin: null`.
        { origin: 'null', 'sec-fetch-site': 'same-origin' },
        {},
      ];
      for (const headers of variants((await freshForm(kind)).origin)) {
        const { jar, action, fields } = await freshForm(kind);
        const response = await postForm(action, fields, { ...jar.header(), ...headers });
        expect(response.status, JSON.stringify(headers)).toBe(302);
        expect(new URL(response.headers.get('location')!).searchParams.get('code')).toBeTruthy();
      }
    });
  }
});

describe('[RFC 9110 §15.5] broken bodies are client errors: never logged as storage or internal errors', () => {
  const head = (path: string, headers: string) =>
    `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n${headers}\r\n`;
  const cases: [string, (server: LiveServer) => Promise<string>][] = [
    [
      'a declared Content-Length over the limit',
      (s) =>
        rawExchange(s, [
          head('/token', `Content-Length: ${BODY_LIMIT + 1000}\r\nConnection: close\r\n`),
          'a'.repeat(BODY_LIMIT + 1000),
        ]),
    ],
    [
      'a chunked body that grows over the limit',
      (s) => {
        const chunk = 'a'.repeat(4096);
        const chunks = Array.from({ length: 6 }, () => `1000\r\n${chunk}\r\n`);
        return rawExchange(s, [
          head('/token', 'Transfer-Encoding: chunked\r\nConnection: close\r\n'),
          ...chunks,
          '0\r\n\r\n',
        ]);
      },
    ],
    [
      'a malformed chunked body',
      (s) =>
        rawExchange(s, [head('/token', 'Transfer-Encoding: chunked\r\n'), '5\r\ngrant\r\nZZ-not-hex\r\n']),
    ],
    [
      'a client that disconnects mid-body',
      (s) =>
        rawExchange(s, [head('/token', 'Content-Length: 1000\r\n'), 'grant_type=refresh_token&refresh_tok'], {
          destroyAfter: true,
        }),
    ],
    [
      'a client that disconnects mid-body at /register',
      (s) =>
        rawExchange(
          s,
          [
            'POST /register HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{"redirect_uris": [',
          ],
          { destroyAfter: true },
        ),
    ],
  ];
  for (const [name, send] of cases)
    it(name, async () => {
      const before = serverErrors(pin).length;
      const beforeErrors = errors.length;
      const answer = await send(pin);
      const status = /^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1];
      if (status !== undefined) expect(Number(status), answer.slice(0, 200)).toBeLessThan(500);
      expect(await serverErrorsAfter(pin, before)).toEqual([]);
      expect(errors.slice(beforeErrors)).toEqual([]);
    });
});

describe('[RFC 6749 §4.1.2.1] an error redirect never echoes what was refused for its size', () => {
  it('an over-long state is refused without being sent back', async () => {
    const state = 's'.repeat(3000);
    const response = await fetch(await authorizeUrl(pin, await register(pin), { state }), {
      redirect: 'manual',
    });
    expect(response.status).toBe(302);
    const location = response.headers.get('location')!;
    expect(new URL(location).searchParams.get('error')).toBe('invalid_request');
    expect(new URL(location).searchParams.get('iss')).toBe(pin.issuer);
    expect(location).not.toContain(state.slice(0, 100));
    expect(location.length).toBeLessThan(1024);
  });

  it('a state within the limit is still returned whole', async () => {
    const state = 's'.repeat(2000);
    const response = await fetch(
      await authorizeUrl(pin, await register(pin), { state, scope: 'unknown-scope' }),
      {
        redirect: 'manual',
      },
    );
    expect(new URL(response.headers.get('location')!).searchParams.get('state')).toBe(state);
  });

  it('a 12 KB unknown scope does not come back whole in error_description', async () => {
    const scope = Array.from({ length: 1200 }, (_, i) => `s${i}`.padEnd(9, 'x')).join(' ');
    const response = await fetch(await authorizeUrl(pin, await register(pin), { scope }), {
      redirect: 'manual',
    });
    expect(response.status).toBe(302);
    const location = response.headers.get('location')!;
    expect(new URL(location).searchParams.get('error')).toBe('invalid_scope');
    expect(location.length).toBeLessThan(4096);
  });
});

describe('[RFC 9110 §7.2] Workers without a fixed issuer: a foreign Host is a 400, not a 500', () => {
  let mf: InstanceType<typeof Miniflare>;
  beforeAll(async () => {
    const script = await bundleWorker(
      fileURLToPath(new URL('../../packages/adapter-workers/test/fixtures/worker.ts', import.meta.url)),
    );
    mf = new Miniflare({
      modules: true,
      script,
      compatibilityDate: '2025-07-01',
      kvNamespaces: ['OAUTH_KV'],
      durableObjects: { PORTCULLIS: { className: 'PortcullisCoordinator', useSQLite: true } },
      bindings: {
        AUTH_PIN: 'hostile-pin-4242',
        PORTCULLIS_SECRET: 'hostile-input-secret-0123456789abcdefghij',
      },
    });
  });
  afterAll(() => mf?.dispose());

  const dispatch = async (url: string, init: RequestInit = {}) =>
    (await mf.dispatchFetch(url, init as never)) as unknown as Response;

  it('a loopback Host is served with the issuer it names (control)', async () => {
    const response = await dispatch('http://localhost:8787/.well-known/oauth-authorization-server');
    expect(response.status).toBe(200);
    expect(((await response.json()) as { issuer: string }).issuer).toBe('http://localhost:8787');
  });

  for (const path of ['/.well-known/oauth-authorization-server', '/authorize', '/token', '/mcp', '/'])
    it(`http://evil.example.com${path}`, async () => {
      const response = await dispatch(
        `http://evil.example.com${path}`,
        path === '/token' ? { method: 'POST' } : {},
      );
      const text = await response.text();
      expect(response.status, text.slice(0, 200)).toBe(400);
      expect(JSON.parse(text)).toMatchObject({ error: 'invalid_request' });
    });
});
