/**
 * MCP pieces for the conformance suite: a small SDK `McpServer` behind `protectMcpServer`, and an
 * `OAuthClientProvider` that plays the user on the PIN page over fetch (keeping the flow cookie).
 */

import type { AuthorizationServer } from '@portcullis/core';
import { protectMcpServer } from '@portcullis/core/mcp';
import {
  auth,
  Client,
  McpServer,
  type OAuthClientInformationMixed,
  type OAuthClientMetadata,
  type OAuthClientProvider,
  type OAuthTokens,
  StreamableHTTPClientTransport,
} from './deps.js';
import { lazyAuthenticator } from './lazy-authenticator.js';

/** A protected MCP endpoint with one tool, `whoami`, that returns the caller's auth info. */
export function protectedMcp(as: () => AuthorizationServer): (request: Request) => Promise<Response> {
  return protectMcpServer({
    authenticator: lazyAuthenticator(() => as()),
    server: () => {
      const server = new McpServer({ name: 'conformance', version: '1.0.0' });
      server.registerTool('whoami', { description: 'The authenticated caller' }, async (extra) => {
        const info = extra.authInfo;
        const who = {
          clientId: info?.clientId ?? null,
          scopes: info?.scopes ?? [],
          resource: info?.resource?.href ?? null,
          userId: (info?.extra as { userId?: string } | undefined)?.userId ?? null,
        };
        return { content: [{ type: 'text', text: JSON.stringify(who) }] };
      });
      return server;
    },
  });
}

/** Cookies by name, as a browser would keep them for one site. */
export class CookieJar {
  readonly cookies = new Map<string, string>();
  store(response: Response): void {
    for (const cookie of response.headers.getSetCookie()) {
      const [pair = ''] = cookie.split(';');
      const eq = pair.indexOf('=');
      if (eq > 0) this.cookies.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
    }
  }
  header(): Record<string, string> {
    return this.cookies.size ? { cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ') } : {};
  }
}

const unescapeHtml = (v: string) =>
  v
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');

/**
 * Opens an authorization URL like a browser, fills the PIN form and returns the redirect `Location`
 * (not followed). The flow cookie set by `/authorize` goes back with the form post.
 */
export async function approveOverFetch(authorizationUrl: URL | string, pin: string): Promise<URL> {
  const jar = new CookieJar();
  const page = await fetch(authorizationUrl, { redirect: 'manual' });
  jar.store(page);
  const html = await page.text();
  if (page.status !== 200) throw new Error(`authorization page: ${page.status} ${html.slice(0, 300)}`);
  const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
  if (!action) throw new Error('no form on the authorization page');
  const fields = new URLSearchParams();
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g))
    fields.set(m[1]!, unescapeHtml(m[2]!));
  fields.set('pin', pin);
  fields.set('decision', 'approve');
  const posted = await fetch(new URL(unescapeHtml(action), authorizationUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...jar.header() },
    body: fields,
    redirect: 'manual',
  });
  const location = posted.headers.get('location');
  if (posted.status !== 302 || !location)
    throw new Error(`PIN form: ${posted.status} ${(await posted.text()).slice(0, 300)}`);
  return new URL(location);
}

/** An SDK `OAuthClientProvider` that completes the PIN page itself. Everything is kept in memory. */
export class PinProvider implements OAuthClientProvider {
  info: OAuthClientInformationMixed | undefined;
  saved: OAuthTokens | undefined;
  #verifier = '';
  /** Every authorization URL the SDK sent the "user" to. */
  readonly authorizationUrls: URL[] = [];
  /** The last redirect the PIN page produced. */
  landed: URL | undefined;

  constructor(
    readonly pin: string,
    public redirectUrl: string,
    readonly authMethod: 'none' | 'client_secret_post' | 'client_secret_basic' = 'none',
    readonly clientName = 'conformance SDK client',
  ) {}

  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: this.clientName,
      redirect_uris: [this.redirectUrl],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: this.authMethod,
    };
  }
  clientInformation() {
    return this.info;
  }
  saveClientInformation(info: OAuthClientInformationMixed) {
    this.info = info;
  }
  tokens() {
    return this.saved;
  }
  saveTokens(tokens: OAuthTokens) {
    this.saved = tokens;
  }
  saveCodeVerifier(verifier: string) {
    this.#verifier = verifier;
  }
  codeVerifier() {
    return this.#verifier;
  }
  state() {
    return `st-${this.authorizationUrls.length}`;
  }
  async redirectToAuthorization(url: URL) {
    this.authorizationUrls.push(url);
    this.landed = await approveOverFetch(url, this.pin);
  }
  /** The code from the last redirect (checked to arrive at the registered callback with state). */
  code(): string {
    const landed = this.landed;
    if (!landed) throw new Error('no authorization happened');
    if (`${landed.origin}${landed.pathname}` !== new URL(this.redirectUrl).href.replace(/\?.*$/, ''))
      throw new Error(`landed on ${landed.href}, not ${this.redirectUrl}`);
    const code = landed.searchParams.get('code');
    if (!code) throw new Error(`no code: ${landed.searchParams.get('error_description') ?? landed.href}`);
    return code;
  }
}

/**
 * Runs the SDK's `auth()` like a client does on a 401: discovery, registration, the PIN page, then the
 * code exchange; and connects an SDK client to `mcpUrl`.
 */
export async function authorizeAndConnect(mcpUrl: string, provider: PinProvider): Promise<Client> {
  if ((await auth(provider, { serverUrl: mcpUrl })) === 'REDIRECT') {
    expectAuthorized(await auth(provider, { serverUrl: mcpUrl, authorizationCode: provider.code() }));
  }
  const client = new Client({ name: 'conformance', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: provider }));
  return client;
}

function expectAuthorized(result: string): void {
  if (result !== 'AUTHORIZED') throw new Error(`auth() returned ${result}`);
}

/** Calls `whoami` and parses its answer. */
export async function whoami(client: Client): Promise<Record<string, unknown>> {
  const result = await client.callTool({ name: 'whoami', arguments: {} });
  const [first] = result.content as { type: string; text: string }[];
  return JSON.parse(first?.text ?? '{}') as Record<string, unknown>;
}
