/**
 * The authorization request as the client builds it (RFC 6749 §4.1.1 with PKCE, RFC 7636 §4.3, and RFC
 * 8707 `resource`), the user approving on the PIN page in a browser-like fetch, and the callback as the
 * client reads it: the code, a byte-exact `state` echo (§4.1.2) and the RFC 9207 `iss`.
 */
import { createHash, randomBytes } from 'node:crypto';
import { LIVE_PIN } from '../../support/live.js';
import { CookieJar } from '../../support/mcp.js';
import type { CorpusEntry, ResourceForm } from '../corpus.js';
import { browserFetch } from './browser.js';
import type { Discovered } from './discovery.js';
import { FlowError, readError, unescapeHtml } from './http.js';
import type { RegisteredClient } from './register.js';

/** One authorization request and what the client keeps to redeem it. */
export interface AuthorizationRequest {
  readonly url: URL;
  readonly redirectUri: string;
  readonly state: string | undefined;
  readonly verifier: string;
}

/** The `resource` value a client sends in the given form, or undefined when it sends none. */
export function resourceValue(form: ResourceForm, found: Discovered, mcpUrl: string): string | undefined {
  const fromPrm = typeof found.prm?.resource === 'string' ? found.prm.resource : undefined;
  switch (form) {
    case 'omit':
      return undefined;
    case 'prm':
      return fromPrm;
    case 'prm-href':
      return fromPrm === undefined ? undefined : new URL(fromPrm).href;
    case 'server-url': {
      const url = new URL(mcpUrl);
      return `${url.protocol}//${url.host}${url.pathname.replace(/\/$/, '')}`;
    }
  }
}

/** Builds the client's authorization URL. */
export function authorizationRequest(
  entry: CorpusEntry,
  found: Discovered,
  client: RegisteredClient,
  options: { redirectUri: string; state: string | undefined; scope: string | null; mcpUrl: string },
): AuthorizationRequest {
  const endpoint = found.as.authorization_endpoint;
  if (typeof endpoint !== 'string')
    throw new FlowError('authorize', 0, 'no_endpoint', 'no authorization_endpoint');
  const verifier = randomBytes(32).toString('base64url');
  const url = new URL(endpoint);
  const set = (name: string, value: string | undefined) =>
    value !== undefined && url.searchParams.set(name, value);
  set('response_type', 'code');
  set('client_id', client.clientId);
  set('code_challenge', createHash('sha256').update(verifier).digest('base64url'));
  set('code_challenge_method', 'S256');
  set('redirect_uri', options.redirectUri);
  set('state', options.state);
  const { scope } = options;
  if (scope !== null && (scope !== '' || entry.authorize.scope.send === 'always')) set('scope', scope);
  const prompt = entry.authorize.prompt;
  if (
    prompt === 'consent' ||
    (prompt === 'consent-if-offline' && scope?.split(' ').includes('offline_access'))
  )
    set('prompt', 'consent');
  set('resource', resourceValue(entry.authorize.resource, found, options.mcpUrl));
  return { url, redirectUri: options.redirectUri, state: options.state, verifier };
}

/**
 * Opens the authorization URL like a browser (from `browserAddress`), approves with the PIN, and returns
 * the `Location` the server sends the browser to (not followed). An error page or refusal becomes a
 * FlowError.
 */
export async function approve(request: AuthorizationRequest, browserAddress = '127.0.0.1'): Promise<URL> {
  const jar = new CookieJar();
  const page = await browserFetch(request.url, {}, browserAddress);
  jar.store(page);
  const html = await page.text();
  if (page.status === 302 || page.status === 303)
    return new URL(page.headers.get('location') ?? '', request.url);
  if (page.status !== 200) {
    const { error, description } = readError(page.status, html);
    throw new FlowError('authorize', page.status, error, description);
  }
  const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
  if (!action) throw new FlowError('authorize', 200, 'no_form', 'the authorization page has no form');
  const fields = new URLSearchParams();
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g))
    fields.set(m[1]!, unescapeHtml(m[2]!));
  fields.set('pin', LIVE_PIN);
  fields.set('decision', 'approve');
  const posted = await browserFetch(
    new URL(unescapeHtml(action), request.url),
    {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...jar.header() },
      body: fields.toString(),
    },
    browserAddress,
  );
  const location = posted.headers.get('location');
  if (posted.status !== 302 || !location) {
    const { error, description } = readError(posted.status, await posted.text());
    throw new FlowError('authorize', posted.status, error, description);
  }
  return new URL(location, request.url);
}

/** Reads the callback as the client does: right redirect URI, no error, state and iss as expected. */
export function readCallback(request: AuthorizationRequest, landed: URL, issuer: string): string {
  const expected = new URL(request.redirectUri);
  const sameTarget =
    landed.protocol === expected.protocol &&
    landed.host === expected.host &&
    landed.pathname === expected.pathname;
  if (!sameTarget)
    throw new FlowError(
      'callback',
      302,
      'wrong_redirect',
      `landed on ${landed.href}, sent ${request.redirectUri}`,
    );
  for (const [name, value] of expected.searchParams)
    if (landed.searchParams.get(name) !== value)
      throw new FlowError('callback', 302, 'redirect_query_lost', `the redirect URI's ${name} was not kept`);
  const error = landed.searchParams.get('error');
  if (error) throw new FlowError('authorize', 302, error, landed.searchParams.get('error_description') ?? '');
  const state = landed.searchParams.get('state');
  if (request.state === undefined ? state !== null : state !== request.state)
    throw new FlowError(
      'callback',
      302,
      'state_mismatch',
      `sent ${String(request.state)}, got ${String(state)}`,
    );
  if (landed.searchParams.get('iss') !== issuer)
    throw new FlowError(
      'callback',
      302,
      'iss_mismatch',
      `iss ${landed.searchParams.get('iss')} for ${issuer}`,
    );
  const code = landed.searchParams.get('code');
  if (!code) throw new FlowError('callback', 302, 'no_code', landed.href);
  return code;
}
