import {
  type AuthorizationServerOptions,
  createAuthorizationServer,
  MemoryStorage,
  type PortcullisEvent,
} from '@portcullis/core';
import { pinUpstream } from '@portcullis/core/upstreams';

export const ISSUER = 'https://as.example.com';
export const PIN = 'open-sesame-42';
export const SECRET = 'test-secret-test-secret-test-secret-0123';

/** A clock the tests move by hand. */
export function manualClock(start = Date.UTC(2030, 0, 1)) {
  let time = start;
  return {
    now: () => time,
    advance: (ms: number) => {
      time += ms;
    },
  };
}

/** An authorization server over MemoryStorage with the PIN upstream, collecting audit events. */
export function makeServer(overrides: Partial<AuthorizationServerOptions> = {}) {
  const events: PortcullisEvent[] = [];
  const clock = manualClock();
  const storage = new MemoryStorage({ now: overrides.now ?? clock.now });
  const server = createAuthorizationServer({
    issuer: ISSUER,
    storage,
    upstream: pinUpstream({ pin: PIN }),
    secret: SECRET,
    now: clock.now,
    onEvent: (e) => void events.push(e),
    ...overrides,
  });
  return { server, storage, events, clock };
}

type Fetcher = (request: Request) => Promise<Response>;

/** A browser: keeps cookies per origin-less jar and sends requests to the server in-process. */
export class Browser {
  readonly cookies = new Map<string, string>();
  constructor(private readonly fetcher: Fetcher) {}

  async fetch(url: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size) headers.set('cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    const response = await this.fetcher(new Request(url, { ...init, headers, redirect: 'manual' }));
    for (const cookie of response.headers.getSetCookie()) {
      const [pair] = cookie.split(';');
      const eq = pair!.indexOf('=');
      this.cookies.set(pair!.slice(0, eq), pair!.slice(eq + 1));
    }
    return response;
  }
}

/** Reads the hidden inputs and action of the first form on a page. */
export function parseForm(html: string): { action: string; fields: Record<string, string> } {
  const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
  if (!action) throw new Error(`no form in page: ${html.slice(0, 300)}`);
  const fields: Record<string, string> = {};
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g))
    fields[m[1]!] = m[2]!;
  return { action: action.replace(/&amp;/g, '&'), fields };
}

/** Opens an authorize URL in the browser and submits the PIN form; returns the final response. */
export async function approveWithPin(
  browser: Browser,
  authorizeUrl: string,
  pin = PIN,
  decision = 'approve',
) {
  const page = await browser.fetch(authorizeUrl);
  if (page.status !== 200) return page;
  const { action, fields } = parseForm(await page.text());
  return browser.fetch(action, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ ...fields, pin, decision }),
  });
}

/** Registers a client over DCR and returns the response body. */
export async function registerClient(fetcher: Fetcher, metadata: Record<string, unknown> = {}) {
  const response = await fetcher(
    new Request(`${ISSUER}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        redirect_uris: ['https://client.example.com/callback'],
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'refresh_token'],
        client_name: 'Test Client',
        ...metadata,
      }),
    }),
  );
  return { response, body: (await response.json()) as Record<string, string> };
}

/** RFC 7636 S256 challenge of a verifier. */
export async function s256(verifier: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
  return btoa(String.fromCharCode(...digest))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
}

export const VERIFIER = `${'a'.repeat(20) + 'B'.repeat(20)}0123456789`;

/** Builds an authorize URL with sane defaults, overridable per parameter (undefined removes it). */
export async function authorizeUrl(clientId: string, params: Record<string, string | undefined> = {}) {
  const url = new URL(`${ISSUER}/authorize`);
  const all: Record<string, string | undefined> = {
    response_type: 'code',
    client_id: clientId,
    redirect_uri: 'https://client.example.com/callback',
    code_challenge: await s256(VERIFIER),
    code_challenge_method: 'S256',
    state: 'xyz-state',
    ...params,
  };
  for (const [k, v] of Object.entries(all)) if (v !== undefined) url.searchParams.set(k, v);
  return url.toString();
}

/** Runs the whole browser part and returns the code from the redirect. */
export async function obtainCode(
  fetcher: Fetcher,
  clientId: string,
  params: Record<string, string | undefined> = {},
) {
  const browser = new Browser(fetcher);
  const response = await approveWithPin(browser, await authorizeUrl(clientId, params));
  const location = response.headers.get('location');
  if (response.status !== 302 || !location) throw new Error(`expected redirect, got ${response.status}`);
  const code = new URL(location).searchParams.get('code');
  if (!code) throw new Error(`no code in ${location}`);
  return { code, location: new URL(location) };
}

/** POSTs a token request form. */
export function tokenRequest(
  fetcher: Fetcher,
  form: Record<string, string>,
  headers: Record<string, string> = {},
) {
  return fetcher(
    new Request(`${ISSUER}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(form),
    }),
  );
}

/**
 * The whole flow for a registered client: PIN approval, then the code redeemed at /token (with
 * `extraForm`, e.g. a client_secret). Returns the token response and the code.
 */
export async function issueTokens(
  fetcher: Fetcher,
  clientId: string,
  params: Record<string, string | undefined> = {},
  extraForm: Record<string, string> = {},
): Promise<{ access_token: string; refresh_token: string; scope: string; expires_in: number; code: string }> {
  const { code } = await obtainCode(fetcher, clientId, params);
  const response = await tokenRequest(fetcher, {
    grant_type: 'authorization_code',
    code,
    redirect_uri: params.redirect_uri ?? 'https://client.example.com/callback',
    code_verifier: VERIFIER,
    client_id: clientId,
    ...extraForm,
  });
  if (response.status !== 200) throw new Error(`token request failed with ${response.status}`);
  return { ...(await response.json()), code };
}
