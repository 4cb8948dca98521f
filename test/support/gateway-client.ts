/**
 * An HTTP client for a gateway in another process ({@link startGatewayProcess}): plain `node:http`
 * requests without keep-alive (so a refused request is always the server's doing, never a reused
 * socket the server had just closed), timed, plus the OAuth steps a client performs — registration,
 * the PIN-approved authorization, code and refresh-token redemption — and the protected `/mcp` call.
 */
import { request as httpRequest } from 'node:http';
import { parseForm, VERIFIER } from '../../packages/core/test/helpers.js';
import { s256 } from './live.js';

/** One answer, with the time it took from sending to the end of the body. */
export interface TimedResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: string;
  readonly ms: number;
}

/** Sends one request (no keep-alive) and reads the whole answer; rejects on a socket error or after `timeoutMs`. */
export function send(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string; timeoutMs?: number } = {},
): Promise<TimedResponse> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      { method: init.method ?? 'GET', headers: { connection: 'close', ...init.headers }, agent: false },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
        });
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body,
            ms: performance.now() - started,
          }),
        );
        res.on('error', reject);
      },
    );
    req.setTimeout(init.timeoutMs ?? 30_000, () => req.destroy(new Error(`no answer from ${url} in time`)));
    req.on('error', reject);
    req.end(init.body);
  });
}

const REDIRECT_URI = 'http://127.0.0.1:9/callback';

/** The registration request of a public client (RFC 7591). */
export function registerRequest(issuer: string): Promise<TimedResponse> {
  return send(`${issuer}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      redirect_uris: [REDIRECT_URI],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      client_name: 'fault test client',
    }),
  });
}

/** The `/authorize` URL of `clientId` with PKCE S256 (RFC 7636). */
export async function authorizeUrl(issuer: string, clientId: string): Promise<string> {
  const url = new URL(`${issuer}/authorize`);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: REDIRECT_URI,
    code_challenge: await s256(VERIFIER),
    code_challenge_method: 'S256',
    state: 'fault-state',
    resource: `${issuer}/mcp`,
  }).toString();
  return url.toString();
}

/** A refresh-token request (RFC 6749 §6). */
export function refreshRequest(
  issuer: string,
  clientId: string,
  refreshToken: string,
): Promise<TimedResponse> {
  return send(`${issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
      client_id: clientId,
    }).toString(),
  });
}

/** A call of the protected route with a bearer token (RFC 6750 §2.1). */
export function protectedRequest(issuer: string, accessToken: string): Promise<TimedResponse> {
  return send(`${issuer}/mcp`, { headers: { authorization: `Bearer ${accessToken}` } });
}

/** Tokens of one client. */
export interface ClientTokens {
  readonly clientId: string;
  readonly accessToken: string;
  readonly refreshToken: string;
}

const expectStatus = (response: TimedResponse, status: number, step: string) => {
  if (response.status !== status) {
    throw new Error(`${step}: expected ${status}, got ${response.status} ${response.body.slice(0, 300)}`);
  }
};

/** The PIN page of an authorization in progress: where to post, what to post, and the flow cookie. */
export interface PinForm {
  readonly action: string;
  readonly fields: Readonly<Record<string, string>>;
  readonly cookie: string;
}

/** Opens `/authorize` for `clientId` and reads the PIN form it shows. */
export async function openPinForm(issuer: string, clientId: string): Promise<PinForm> {
  const page = await send(await authorizeUrl(issuer, clientId));
  expectStatus(page, 200, 'authorize');
  const cookie = ([] as string[])
    .concat(page.headers['set-cookie'] ?? [])
    .map((c) => c.split(';')[0])
    .join('; ');
  const { action, fields } = parseForm(page.body);
  return { action: new URL(action, issuer).toString(), fields, cookie };
}

/** Posts the PIN form with `decision=approve` (a same-origin form post, as a browser sends it). */
export function submitPin(form: PinForm, pin: string): Promise<TimedResponse> {
  return send(form.action, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      cookie: form.cookie,
      origin: new URL(form.action).origin,
    },
    body: new URLSearchParams({ ...form.fields, pin, decision: 'approve' }).toString(),
  });
}

/** Registers a client, approves it with the PIN, and redeems the code: the whole flow over HTTP. */
export async function obtainTokens(issuer: string, pin: string): Promise<ClientTokens> {
  const registered = await registerRequest(issuer);
  expectStatus(registered, 201, 'register');
  const clientId = (JSON.parse(registered.body) as { client_id: string }).client_id;
  const approved = await submitPin(await openPinForm(issuer, clientId), pin);
  expectStatus(approved, 302, 'approve');
  const code = new URL(String(approved.headers.location)).searchParams.get('code');
  if (!code) throw new Error(`no code in ${approved.headers.location}`);
  const token = await send(`${issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT_URI,
      code_verifier: VERIFIER,
      client_id: clientId,
      resource: `${issuer}/mcp`,
    }).toString(),
  });
  expectStatus(token, 200, 'token');
  const body = JSON.parse(token.body) as { access_token: string; refresh_token: string };
  return { clientId, accessToken: body.access_token, refreshToken: body.refresh_token };
}
