/**
 * Shared pieces of the table-driven security suite: the case shape, a runner, and small helpers over
 * the core test helpers (in-process server over MemoryStorage with the PIN upstream).
 */
import type { IdentityUpstream } from '@portcullis/core';
import { expect, it } from 'vitest';
import {
  authorizeUrl,
  Browser,
  ISSUER,
  issueTokens,
  makeServer,
  obtainCode,
  PIN,
  parseForm,
  registerClient,
  tokenRequest,
  VERIFIER,
} from '../../packages/core/test/helpers.js';

export {
  authorizeUrl,
  Browser,
  ISSUER,
  makeServer,
  obtainCode,
  PIN,
  parseForm,
  registerClient,
  tokenRequest,
  VERIFIER,
};

/** One negative case: where the rule comes from, what is attempted, and the check. */
export interface SecurityCase {
  /** The specification or guidance the expectation comes from, e.g. `RFC 9700 §4.1.1`. */
  readonly source: string;
  /** What the attacker (or broken client) tries. */
  readonly name: string;
  readonly run: () => Promise<void>;
}

/** Runs a table of cases, one test each, named `[source] name`. */
export function runCases(cases: readonly SecurityCase[]): void {
  for (const { source, name, run } of cases) it(`[${source}] ${name}`, run);
}

export const REDIRECT = 'https://client.example.com/callback';
export const LOOPBACK = 'http://127.0.0.1:8080/cb';

type Server = ReturnType<typeof makeServer>;

/** A server plus one registered public client (https redirect) and its registration response. */
export async function setup(
  metadata: Record<string, unknown> = {},
  overrides: Parameters<typeof makeServer>[0] = {},
): Promise<Server & { client: Record<string, string>; clientId: string }> {
  const ctx = makeServer(overrides);
  const { response, body } = await registerClient(ctx.server.fetch, metadata);
  expect(response.status).toBe(201);
  return { ...ctx, client: body, clientId: body.client_id! };
}

/** The token request form for a code, with the defaults of the core helpers. */
export const codeForm = (clientId: string, code: string, extra: Record<string, string> = {}) => ({
  grant_type: 'authorization_code',
  code,
  redirect_uri: REDIRECT,
  code_verifier: VERIFIER,
  client_id: clientId,
  ...extra,
});

/** Runs the browser part and the code exchange; returns the token response body. */
export async function tokensFor(
  ctx: { server: Server['server']; clientId: string },
  params: Record<string, string | undefined> = {},
): Promise<{ access_token: string; refresh_token: string; scope: string; code: string }> {
  return issueTokens(ctx.server.fetch, ctx.clientId, params);
}

/** A refresh_token grant request for a public client. */
export const refresh = (
  ctx: { server: Server['server']; clientId: string },
  token: string,
  extra: Record<string, string> = {},
) =>
  tokenRequest(ctx.server.fetch, {
    grant_type: 'refresh_token',
    refresh_token: token,
    client_id: ctx.clientId,
    ...extra,
  });

/** Calls `authenticate` for the default resource with an Authorization header (or none). */
export async function bearer(server: Server['server'], authorization?: string, path = '/mcp') {
  const headers: Record<string, string> = authorization === undefined ? {} : { authorization };
  return server.authenticate(new Request(`${ISSUER}${path}`, { headers }));
}

/** Expects `authenticate` to refuse with `status` and, when given, the RFC 6750 error code. */
export async function expectRefused(
  result: Awaited<ReturnType<typeof bearer>>,
  status: number,
  error?: string,
): Promise<void> {
  expect(result.ok).toBe(false);
  if (result.ok) return;
  expect(result.response.status).toBe(status);
  const challenge = result.response.headers.get('www-authenticate') ?? '';
  expect(challenge).toMatch(/^Bearer /);
  if (error) {
    expect(challenge).toContain(`error="${error}"`);
    expect((await result.response.json()).error).toBe(error);
  }
}

/** Expects a JSON OAuth error (RFC 6749 §5.2) with `no-store`. */
export async function expectJsonError(response: Response, error: string, status = 400) {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toContain('application/json');
  expect(response.headers.get('cache-control')).toBe('no-store');
  const body = (await response.json()) as { error: string; error_description?: string };
  expect(body.error).toBe(error);
  expect(typeof body.error_description).toBe('string');
  return body;
}

/** Expects an HTML error page that does not redirect (RFC 6749 §4.1.2.1). */
export async function expectPage(response: Response, status = 400, text?: string): Promise<string> {
  expect(response.status).toBe(status);
  expect(response.headers.get('location')).toBeNull();
  expect(response.headers.get('content-type')).toContain('text/html');
  const html = await response.text();
  if (text) expect(html).toContain(text);
  return html;
}

/** Expects a redirect to the registered client URI carrying `error`, `state` and `iss`. */
export function expectRedirectError(response: Response, error: string, redirect = REDIRECT) {
  expect(response.status).toBe(302);
  const location = new URL(response.headers.get('location')!);
  expect(`${location.origin}${location.pathname}`).toBe(redirect);
  expect(location.searchParams.get('error')).toBe(error);
  expect(location.searchParams.get('iss')).toBe(ISSUER);
  return location;
}

/** Expects the anti-framing and no-leak headers every authorization page carries (RFC 9700 §4.16). */
export function expectPageHeaders(response: Response): void {
  expect(response.headers.get('x-frame-options')).toBe('DENY');
  expect(response.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
  expect(response.headers.get('x-content-type-options')).toBe('nosniff');
  expect(response.headers.get('referrer-policy')).toBe('no-referrer');
  expect(response.headers.get('cache-control')).toBe('no-store');
}

/** Opens the PIN page in `browser` and returns its form. */
export async function openPinPage(browser: Browser, url: string) {
  const page = await browser.fetch(url);
  expect(page.status).toBe(200);
  return parseForm(await page.text());
}

/** Posts a form as a browser would. */
export const submit = (browser: Browser, action: string, fields: Record<string, string>) =>
  browser.fetch(action, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields),
  });

/** Posts a JSON body to the registration endpoint. */
export const postRegister = (
  server: Server['server'],
  body: string,
  headers: Record<string, string> = { 'content-type': 'application/json' },
) => server.fetch(new Request(`${ISSUER}/register`, { method: 'POST', headers, body }));

/**
 * An identity upstream that knows the user at once (like a trusted-header login) and leaves consent to
 * the core, so the core's own consent page is shown. Optionally carries an upstream IdP token.
 */
export function instantUpstream(
  identity: { userId: string; upstreamToken?: { accessToken: string; refreshToken?: string } } = {
    userId: 'alice',
  },
): IdentityUpstream {
  return {
    name: 'instant',
    routes: [],
    begin: async (pending) => ({ type: 'identity', pendingId: pending.id, identity }),
    handle: async () => ({ type: 'response', response: new Response('unused', { status: 404 }) }),
  };
}
