/**
 * Black-box harness of the conformance matrix: the authorization server and a protected MCP endpoint
 * on 127.0.0.1 (Node adapter over the core), and an HTTP client that plays an MCP client of a given
 * revision: discovery, registration, the PIN page, the token endpoint and protected calls.
 */
import { type AuthorizationServer, type AuthorizationServerOptions, MemoryStorage } from '@portcullis/core';
import { protectMcpServer } from '@portcullis/core/mcp';
import { pinUpstream } from '@portcullis/core/upstreams';
import { manualClock } from '../../../packages/core/test/helpers.js';
import { McpServer } from '../../support/deps.js';
import { lazyAuthenticator } from '../../support/lazy-authenticator.js';
import { LIVE_PIN, type LiveServer, s256, startLiveServer } from '../../support/live.js';
import { CookieJar } from '../../support/mcp.js';
import type { Revision } from './requirements.js';

export { LIVE_PIN, s256 };

/** Redirect URI of the test clients: loopback, never listened on (redirects are read, not followed). */
export const REDIRECT = 'http://127.0.0.1:47011/cb';
export const VERIFIER = 'matrix-verifier-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEF';
export const SCOPES = ['mcp', 'files:read', 'files:write', 'files:admin'] as const;

/** Scopes the MCP tools of the protected endpoint need (step-up). */
export const TOOL_SCOPES = {
  read_file: ['files:read'],
  write_file: ['files:write'],
  admin_task: ['files:write', 'files:admin'],
} as const;

/** A running matrix server: the AS plus protected endpoints, with a manual clock when asked. */
export interface MatrixServer extends LiveServer {
  /** The MCP endpoint URL (`<origin>/mcp`). */
  readonly mcpUrl: string;
  /** Moves the server's clock (only with `clock: true`). */
  advance(ms: number): void;
}

/** Options of {@link startMatrix}. */
export interface MatrixOptions {
  readonly issuerPath?: string;
  readonly overrides?: Partial<AuthorizationServerOptions>;
  /** A manual clock shared by the server and its MemoryStorage. */
  readonly clock?: boolean;
}

/**
 * Starts the AS with resources `/mcp` and `/other` (scopes {@link SCOPES}, default `mcp`). Every
 * resource path is a Streamable HTTP MCP server whose tools need {@link TOOL_SCOPES}; `<path>/raw?need=a,b`
 * answers 200 after `authenticate` with `requiredScopes: need` (for challenges of exact scope lists).
 */
export async function startMatrix(options: MatrixOptions = {}): Promise<MatrixServer> {
  const clock = manualClock(Date.now());
  const timed = options.clock
    ? { now: clock.now, storage: new MemoryStorage({ now: clock.now }) }
    : ({} as Partial<AuthorizationServerOptions>);
  const server = await startLiveServer({
    ...(options.issuerPath ? { issuerPath: options.issuerPath } : {}),
    mcp: protectedEndpoints,
    overrides: {
      resources: [{ path: '/mcp' }, { path: '/other' }],
      scopes: { supported: [...SCOPES], default: ['mcp'] },
      // Every test registers its own clients and enters the PIN from 127.0.0.1.
      registration: { maxPerHour: 100_000 },
      upstream: pinUpstream({
        pin: LIVE_PIN,
        userId: 'pin-holder',
        maxAttemptsPerClient: 100_000,
        maxAttemptsPerWindow: 100_000,
      }),
      ...timed,
      ...options.overrides,
    },
  });
  return {
    ...server,
    mcpUrl: `${server.url}/mcp`,
    advance: (ms) => {
      if (!options.clock) throw new Error('this matrix server has no manual clock');
      clock.advance(ms);
    },
  };
}

function protectedEndpoints(as: () => AuthorizationServer): (request: Request) => Promise<Response> {
  const mcp = protectMcpServer({
    authenticator: lazyAuthenticator(() => as()),
    scopes: { tools: TOOL_SCOPES },
    enableJsonResponse: true,
    server: () => {
      const server = new McpServer({ name: 'matrix', version: '1.0.0' });
      for (const name of Object.keys(TOOL_SCOPES)) {
        server.registerTool(name, { description: name }, async () => ({
          content: [{ type: 'text', text: `${name} done` }],
        }));
      }
      return server;
    },
  });
  return async (request) => {
    const url = new URL(request.url);
    if (!url.pathname.endsWith('/raw')) return mcp(request);
    const need = (url.searchParams.get('need') ?? '').split(',').filter(Boolean);
    const result = await as().authenticate(request, { requiredScopes: need });
    if (!result.ok) return result.response;
    return Response.json({ scopes: result.info.scopes, resource: result.info.resource });
  };
}

/** What an MCP client of a revision sends: 2025-03-26 clients know no `resource` parameter. */
export function clientOf(revision: Revision) {
  const sendsResource = revision !== '2025-03-26';
  return {
    /** The `resource` parameter this client sends for `url`, or none. */
    resource: (url: string): Record<string, string> => (sendsResource ? { resource: url } : {}),
    /** Headers of discovery requests (2025-03-26 clients SHOULD send the protocol version). */
    headers: { 'mcp-protocol-version': revision },
  };
}

/** GETs a JSON document (discovery), returning the status and the parsed body. */
export async function getJson(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown>; response: Response }> {
  const response = await fetch(url, { headers, redirect: 'manual' });
  const text = await response.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    body = { unparsed: text.slice(0, 200) };
  }
  return { status: response.status, body, response };
}

/** Parses a `WWW-Authenticate: Bearer k="v", …` challenge (RFC 6750 §3). */
export function parseChallenge(header: string | null): Record<string, string> & { scheme?: string } {
  const params: Record<string, string> & { scheme?: string } = {};
  if (!header) return params;
  const scheme = /^(\S+)/.exec(header)?.[1];
  if (scheme) params.scheme = scheme;
  for (const m of header.matchAll(/([a-z_]+)="([^"]*)"/gi)) params[m[1]!.toLowerCase()] = m[2]!;
  return params;
}

/** The scope tokens of a challenge, in order, duplicates kept (so repeats can be seen). */
export const challengedScopes = (header: string | null): string[] =>
  (parseChallenge(header).scope ?? '').split(' ').filter(Boolean);

/** Registers a public client by DCR (RFC 7591) and returns the response body. */
export async function register(
  server: LiveServer,
  metadata: Record<string, unknown> = {},
): Promise<Record<string, unknown> & { client_id: string }> {
  const response = await fetch(`${server.issuer}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      client_name: 'matrix client',
      redirect_uris: [REDIRECT],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      ...metadata,
    }),
  });
  const body = (await response.json()) as Record<string, unknown> & { client_id: string };
  if (response.status !== 201)
    throw new Error(`registration failed: ${response.status} ${JSON.stringify(body)}`);
  return body;
}

/** An authorization request URL with PKCE S256 and a state; `undefined` removes a parameter. */
export async function authorizationUrl(
  server: LiveServer,
  clientId: string,
  params: Record<string, string | undefined> = {},
): Promise<URL> {
  const url = new URL(`${server.issuer}/authorize`);
  const all: Record<string, string | undefined> = {
    response_type: 'code',
    client_id: clientId,
    redirect_uri: REDIRECT,
    code_challenge: await s256(VERIFIER),
    code_challenge_method: 'S256',
    state: 'matrix-state',
    ...params,
  };
  for (const [name, value] of Object.entries(all)) if (value !== undefined) url.searchParams.set(name, value);
  return url;
}

const unescapeHtml = (v: string) =>
  v
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');

/** A form on a page: its absolute action and hidden fields. */
export interface PageForm {
  readonly action: URL;
  readonly fields: Record<string, string>;
}

/** Reads the first form of an HTML page (action and hidden inputs, HTML-unescaped). */
export function readForm(html: string, base: URL | string): PageForm {
  const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
  if (!action)
    throw new Error(`no form on the page: ${html.replace(/<style[\s\S]*?<\/style>/, '').slice(0, 400)}`);
  const fields: Record<string, string> = {};
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g))
    fields[m[1]!] = unescapeHtml(m[2]!);
  return { action: new URL(unescapeHtml(action), base), fields };
}

/** A browser over fetch: keeps the cookies of one site, never follows redirects. */
export class HttpBrowser {
  readonly jar = new CookieJar();

  async get(url: URL | string, headers: Record<string, string> = {}): Promise<Response> {
    const response = await fetch(url, { headers: { ...this.jar.header(), ...headers }, redirect: 'manual' });
    this.jar.store(response);
    return response;
  }

  async post(url: URL | string, fields: Record<string, string>, headers: Record<string, string> = {}) {
    const response = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        ...this.jar.header(),
        ...headers,
      },
      body: new URLSearchParams(fields),
      redirect: 'manual',
    });
    this.jar.store(response);
    return response;
  }

  /** Opens a page that must be a 200 form. */
  async openForm(url: URL | string): Promise<PageForm & { html: string }> {
    const page = await this.get(url);
    const html = await page.text();
    if (page.status !== 200) throw new Error(`expected a page, got ${page.status}: ${html.slice(0, 300)}`);
    return { ...readForm(html, url), html };
  }
}

/** The `Location` of a redirect, or an error naming what came instead. */
export async function locationOf(response: Response): Promise<URL> {
  const location = response.headers.get('location');
  if (response.status !== 302 || !location)
    throw new Error(`expected a redirect, got ${response.status}: ${(await response.text()).slice(0, 300)}`);
  return new URL(location);
}

/** Opens the PIN page in a fresh browser and submits it with `decision`; returns the redirect. */
export async function answerPinPage(url: URL, decision: 'approve' | 'deny' = 'approve'): Promise<URL> {
  const browser = new HttpBrowser();
  const form = await browser.openForm(url);
  return locationOf(await browser.post(form.action, { ...form.fields, pin: LIVE_PIN, decision }));
}

/** POSTs a form to the token endpoint. */
export function tokenRequest(
  server: LiveServer,
  form: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(`${server.issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form),
  });
}

/** The token response of a successful exchange. */
export interface Tokens {
  readonly access_token: string;
  readonly refresh_token?: string;
  readonly scope: string;
  readonly expires_in: number;
  readonly token_type: string;
}

/** Reads a 200 token response, or fails with what came instead. */
export async function tokensOf(response: Response): Promise<Tokens> {
  const body = (await response.json()) as Tokens;
  if (response.status !== 200)
    throw new Error(`token request failed: ${response.status} ${JSON.stringify(body)}`);
  return body;
}

/** The code of a successful authorization redirect. */
export function codeOf(location: URL): string {
  const code = location.searchParams.get('code');
  if (!code) throw new Error(`no code in ${location.href}`);
  return code;
}

/**
 * The whole flow for a client of `revision`: PIN approval of an authorization request with
 * `params`, then the code redeemed (with `resource` when that revision's clients send it).
 */
export async function obtainTokens(
  server: LiveServer,
  clientId: string,
  revision: Revision,
  params: Record<string, string | undefined> = {},
  resourceUrl = `${server.url}/mcp`,
): Promise<Tokens> {
  const client = clientOf(revision);
  const location = await answerPinPage(
    await authorizationUrl(server, clientId, { ...client.resource(resourceUrl), ...params }),
  );
  return tokensOf(
    await tokenRequest(server, {
      grant_type: 'authorization_code',
      code: codeOf(location),
      redirect_uri: REDIRECT,
      code_verifier: VERIFIER,
      client_id: clientId,
      ...client.resource(resourceUrl),
    }),
  );
}

/** Calls a protected MCP endpoint with one JSON-RPC request. */
export function callMcp(
  url: string,
  token: string | undefined,
  message: Record<string, unknown> = { jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} },
): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
    },
    body: JSON.stringify(message),
  });
}

/** A `tools/call` JSON-RPC request. */
export const toolCall = (name: string) => ({
  jsonrpc: '2.0',
  id: 2,
  method: 'tools/call',
  params: { name, arguments: {} },
});
