import type { AuthorizationServer } from '../../src/index.js';

/** A minimal browser: cookies per origin, manual redirects; the AS runs in-process, others over HTTP. */
export class TestBrowser {
  readonly #jars = new Map<string, Map<string, string>>();
  constructor(
    private readonly as: AuthorizationServer,
    private readonly asOrigin: string,
  ) {}

  async fetch(url: string, init: RequestInit = {}): Promise<Response> {
    const origin = new URL(url).origin;
    const jar = this.#jars.get(origin) ?? new Map<string, string>();
    this.#jars.set(origin, jar);
    const headers = new Headers(init.headers);
    if (jar.size > 0) headers.set('cookie', [...jar].map(([k, v]) => `${k}=${v}`).join('; '));
    const request = new Request(url, { ...init, headers, redirect: 'manual' });
    const response = origin === this.asOrigin ? await this.as.fetch(request) : await fetch(request);
    for (const cookie of response.headers.getSetCookie()) {
      const [pair = ''] = cookie.split(';');
      const eq = pair.indexOf('=');
      const value = pair.slice(eq + 1);
      if (/max-age=0|expires=thu, 01 jan 1970/i.test(cookie) || value === '') jar.delete(pair.slice(0, eq));
      else jar.set(pair.slice(0, eq), value);
    }
    return response;
  }

  /** Follows redirects until a response is not a redirect or `stop(url)` says so; returns it and the URL. */
  async follow(
    url: string,
    stop: (url: URL) => boolean = () => false,
  ): Promise<{ response: Response; url: URL }> {
    let current = new URL(url);
    for (let i = 0; i < 20; i++) {
      if (stop(current)) return { response: new Response(null, { status: 204 }), url: current };
      const response = await this.fetch(current.toString());
      const location = response.headers.get('location');
      if (response.status < 300 || response.status >= 400 || !location) return { response, url: current };
      await response.body?.cancel();
      current = new URL(location, current);
    }
    throw new Error('too many redirects');
  }
}

/** Reads the hidden inputs and action of the first form on a page. */
export function parseForm(html: string): { action: string; fields: Record<string, string> } {
  const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
  if (!action) throw new Error(`no form in page: ${html.slice(0, 300)}`);
  const fields: Record<string, string> = {};
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
    fields[m[1] ?? ''] = m[2] ?? '';
  }
  return { action: action.replace(/&amp;/g, '&'), fields };
}

/** RFC 7636 S256 challenge. */
export async function s256(verifier: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
  return btoa(String.fromCharCode(...digest))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
}

export const CLIENT_REDIRECT = 'http://127.0.0.1:65000/cb';
export const VERIFIER = `${'v'.repeat(43)}0123456789`;

/** Registers a public client and returns its id. */
export async function registerClient(as: AuthorizationServer, issuer: string): Promise<string> {
  const response = await as.fetch(
    new Request(`${issuer}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        redirect_uris: [CLIENT_REDIRECT],
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'refresh_token'],
        client_name: 'Upstream Test Client',
      }),
    }),
  );
  const body = (await response.json()) as { client_id?: string };
  if (!body.client_id) throw new Error(`registration failed: ${JSON.stringify(body)}`);
  return body.client_id;
}

/** The client's /authorize URL. */
export async function authorizeUrl(issuer: string, clientId: string): Promise<string> {
  const url = new URL(`${issuer}/authorize`);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: CLIENT_REDIRECT,
    code_challenge: await s256(VERIFIER),
    code_challenge_method: 'S256',
    state: 'client-state',
    resource: `${issuer}/mcp`,
  }).toString();
  return url.toString();
}

/** Approves the core's consent page when shown; returns the final response. */
export async function approveConsent(browser: TestBrowser, page: Response): Promise<Response> {
  if (page.status !== 200) return page;
  const { action, fields } = parseForm(await page.text());
  return browser.fetch(action, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ ...fields, decision: 'approve' }),
  });
}

/** Redeems a code at the AS token endpoint. */
export async function redeem(as: AuthorizationServer, issuer: string, clientId: string, code: string) {
  const response = await as.fetch(
    new Request(`${issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        client_id: clientId,
        redirect_uri: CLIENT_REDIRECT,
        code_verifier: VERIFIER,
        resource: `${issuer}/mcp`,
      }),
    }),
  );
  return (await response.json()) as { access_token?: string; error?: string };
}
