import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const packages = fileURLToPath(new URL('../../', import.meta.url));

/** esbuild aliases resolving `@portcullis/*` to the workspace TypeScript sources. */
export const workspaceAliases: Record<string, string> = {
  '@portcullis/core': `${packages}core/src`,
  '@portcullis/storage-kv': `${packages}storage-kv/src`,
  '@portcullis/adapter-workers': `${packages}adapter-workers/src`,
};

/** Bundles a Worker entry for workerd (ESM, neutral platform), `@portcullis/*` from source. */
export async function bundleWorker(entry: string, options: { minify?: boolean } = {}): Promise<string> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    conditions: ['workerd', 'worker', 'browser'],
    mainFields: ['module', 'main'],
    minify: options.minify ?? false,
    write: false,
    logLevel: 'silent',
    alias: workspaceAliases,
  });
  const file = result.outputFiles[0];
  if (!file) throw new Error(`esbuild produced no output for ${entry}`);
  return file.text;
}

/** Anything that answers fetch-style requests (a Miniflare instance's `dispatchFetch`). */
export type Dispatch = (url: string, init?: RequestInit) => Promise<Response>;

/** A browser: a cookie jar over a dispatcher, redirects not followed. */
export class Browser {
  readonly cookies = new Map<string, string>();
  constructor(private readonly dispatch: Dispatch) {}

  async fetch(url: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size) headers.set('cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    const response = await this.dispatch(url, { ...init, headers, redirect: 'manual' });
    for (const cookie of response.headers.getSetCookie()) {
      const [pair = ''] = cookie.split(';');
      const eq = pair.indexOf('=');
      this.cookies.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
    return response;
  }
}

/** The action and hidden inputs of the first form on a page. */
export function parseForm(html: string): { action: string; fields: Record<string, string> } {
  const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
  if (!action)
    throw new Error(`no form in page: ${html.replace(/<style[\s\S]*?<\/style>/g, '').slice(0, 1500)}`);
  const fields: Record<string, string> = {};
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
    if (m[1] !== undefined && m[2] !== undefined) fields[m[1]] = m[2];
  }
  return { action: action.replace(/&amp;/g, '&'), fields };
}

/** RFC 7636 S256 code challenge. */
export async function s256(verifier: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
  return Buffer.from(digest).toString('base64url');
}

/** The whole OAuth flow against a PIN-protected Portcullis: DCR, authorize + PIN, code for tokens. */
export async function pinFlow(
  dispatch: Dispatch,
  origin: string,
  pin: string,
  resource = `${origin}/mcp`,
): Promise<{ clientId: string; accessToken: string; refreshToken: string }> {
  const redirectUri = 'http://127.0.0.1:9999/callback';
  const registered = await dispatch(`${origin}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      redirect_uris: [redirectUri],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      client_name: 'Workers test client',
    }),
  });
  if (registered.status !== 201)
    throw new Error(`registration: ${registered.status} ${await registered.text()}`);
  const { client_id: clientId } = (await registered.json()) as { client_id: string };
  const verifier = crypto.randomUUID() + crypto.randomUUID();
  const authorize = new URL(`${origin}/authorize`);
  for (const [k, v] of Object.entries({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: redirectUri,
    code_challenge: await s256(verifier),
    code_challenge_method: 'S256',
    state: 'st',
    resource,
  }))
    authorize.searchParams.set(k, v);
  const browser = new Browser(dispatch);
  const page = await browser.fetch(authorize.toString());
  if (page.status !== 200) throw new Error(`authorize: ${page.status} ${await page.text()}`);
  const { action, fields } = parseForm(await page.text());
  const approved = await browser.fetch(new URL(action, origin).toString(), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ ...fields, pin, decision: 'approve' }),
  });
  const location = approved.headers.get('location');
  if (approved.status !== 302 || !location)
    throw new Error(`PIN: ${approved.status} ${await approved.text()}`);
  const code = new URL(location).searchParams.get('code');
  if (!code) throw new Error(`no code in ${location}`);
  const tokens = await dispatch(`${origin}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      client_id: clientId,
      redirect_uri: redirectUri,
      resource,
    }),
  });
  if (tokens.status !== 200) throw new Error(`token: ${tokens.status} ${await tokens.text()}`);
  const body = (await tokens.json()) as { access_token: string; refresh_token: string };
  return { clientId, accessToken: body.access_token, refreshToken: body.refresh_token };
}
