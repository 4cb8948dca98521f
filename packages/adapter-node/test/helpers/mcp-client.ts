import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthTokens,
} from '@modelcontextprotocol/sdk/shared/auth.js';

function unescapeHtml(value: string): string {
  return value
    .replace(/&quot;/g, '"')
    .replace(/&#39;|&#x27;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

function attribute(tag: string, name: string): string | undefined {
  const match = new RegExp(`\\s${name}="([^"]*)"`).exec(tag);
  return match ? unescapeHtml(match[1] as string) : undefined;
}

/** Cookies as a tiny jar: name → value, sent back on the next request. */
class CookieJar {
  private readonly cookies = new Map<string, string>();
  store(response: Response): void {
    for (const cookie of response.headers.getSetCookie()) {
      const [pair] = cookie.split(';');
      const eq = pair?.indexOf('=') ?? -1;
      if (pair && eq > 0) this.cookies.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
    }
  }
  header(): Record<string, string> {
    if (this.cookies.size === 0) return {};
    return { cookie: [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ') };
  }
}

/**
 * An MCP SDK `OAuthClientProvider` that plays the user: `redirectToAuthorization` fetches the PIN page,
 * parses its form, posts the PIN and captures the authorization code from the redirect.
 */
export class PinOAuthProvider implements OAuthClientProvider {
  private info: OAuthClientInformationMixed | undefined;
  private savedTokens: OAuthTokens | undefined;
  private verifier = '';
  /** The code captured from the last authorization redirect. */
  code: string | undefined;
  /** The `iss` parameter of the last authorization redirect (RFC 9207). */
  issuer: string | undefined;
  /** How many times the SDK sent the "user" to the authorization page. */
  authorizations = 0;

  constructor(
    private readonly pin: string,
    readonly redirectUrl = 'http://127.0.0.1:53682/callback',
  ) {}

  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: 'Portcullis adapter-node test client',
      redirect_uris: [this.redirectUrl],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }
  clientInformation(): OAuthClientInformationMixed | undefined {
    return this.info;
  }
  saveClientInformation(info: OAuthClientInformationMixed): void {
    this.info = info;
  }
  tokens(): OAuthTokens | undefined {
    return this.savedTokens;
  }
  saveTokens(tokens: OAuthTokens): void {
    this.savedTokens = tokens;
  }
  saveCodeVerifier(verifier: string): void {
    this.verifier = verifier;
  }
  codeVerifier(): string {
    return this.verifier;
  }
  /** Forgets the access token (keeps the refresh token), so the next call must refresh. */
  dropAccessToken(): void {
    if (this.savedTokens) this.savedTokens = { ...this.savedTokens, access_token: 'expired-or-unknown' };
  }

  async redirectToAuthorization(authorizationUrl: URL): Promise<void> {
    this.authorizations++;
    const jar = new CookieJar();
    const page = await fetch(authorizationUrl, { redirect: 'manual' });
    jar.store(page);
    const html = await page.text();
    if (page.status !== 200)
      throw new Error(`authorization page answered ${page.status}: ${html.slice(0, 200)}`);
    const formTag = /<form\b[^>]*>/i.exec(html)?.[0];
    const action = formTag ? attribute(formTag, 'action') : undefined;
    if (!action) throw new Error('no form on the authorization page');
    const fields = new URLSearchParams();
    for (const tag of html.match(/<input\b[^>]*>/gi) ?? []) {
      const name = attribute(tag, 'name');
      const type = attribute(tag, 'type');
      if (name && type === 'hidden') fields.set(name, attribute(tag, 'value') ?? '');
    }
    fields.set('pin', this.pin);
    fields.set('decision', 'approve');
    const posted = await fetch(new URL(action, authorizationUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...jar.header() },
      body: fields,
      redirect: 'manual',
    });
    const location = posted.headers.get('location');
    if (posted.status < 300 || posted.status >= 400 || !location) {
      throw new Error(`PIN form answered ${posted.status}: ${(await posted.text()).slice(0, 300)}`);
    }
    const redirect = new URL(location);
    if (`${redirect.origin}${redirect.pathname}` !== this.redirectUrl)
      throw new Error(`unexpected redirect ${location}`);
    const code = redirect.searchParams.get('code');
    if (!code) throw new Error(`no code in redirect: ${redirect.searchParams.get('error') ?? location}`);
    this.code = code;
    this.issuer = redirect.searchParams.get('iss') ?? undefined;
  }
}

/** Connects an SDK client to `mcpUrl`, running the OAuth flow when the server asks for it. */
export async function connectClient(mcpUrl: string, provider: PinOAuthProvider): Promise<Client> {
  const connect = async () => {
    const client = new Client({ name: 'portcullis-test', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: provider }));
    return client;
  };
  try {
    return await connect();
  } catch (error) {
    if (!(error instanceof UnauthorizedError)) throw error;
  }
  // The SDK discovered the server, registered, and sent the "user" to the PIN page: finish with the code.
  const transport = new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: provider });
  if (!provider.code) throw new Error('the authorization did not produce a code');
  await transport.finishAuth(provider.code);
  return connect();
}

/** Calls the `whoami` tool and returns its structured result. */
export async function whoami(client: Client): Promise<Record<string, unknown>> {
  const result = await client.callTool({ name: 'whoami', arguments: {} });
  const content = result.content as { type: string; text: string }[];
  return JSON.parse(content[0]?.text ?? '{}') as Record<string, unknown>;
}
