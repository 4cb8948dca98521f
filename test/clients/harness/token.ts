/**
 * Token requests as the client sends them (RFC 6749 §4.1.3 and §6, form-encoded): its client
 * authentication (RFC 6749 §2.3.1 Basic or body, RFC 7523 §2.2 `private_key_jwt` with a signed assertion
 * per §3, or none with client_id in the body), `resource` (RFC 8707 §2.2) and `redirect_uri` as it does.
 */
import { randomUUID } from 'node:crypto';
import type { CorpusEntry, TokenAuth } from '../corpus.js';
import { jose } from '../deps.js';
import { type ClientHttp, FlowError } from './http.js';
import type { RegisteredClient } from './register.js';
import { stringList } from './values.js';

const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** Token endpoint responses the flow relies on. */
export interface Tokens {
  readonly access_token: string;
  readonly token_type: string;
  readonly refresh_token?: string;
  readonly scope?: string;
}

/** The TS SDK's selectClientAuthMethod (client/auth.ts): the registered method if listed, else by secret. */
function sdkChoice(client: RegisteredClient, supported: string[]): TokenAuth {
  const known = ['client_secret_basic', 'client_secret_post', 'none'];
  if (
    client.authMethod &&
    known.includes(client.authMethod) &&
    (supported.length === 0 || supported.includes(client.authMethod))
  )
    return client.authMethod as TokenAuth;
  const secret = client.clientSecret !== undefined;
  if (supported.length === 0) return secret ? 'client_secret_basic' : 'none';
  if (secret && supported.includes('client_secret_basic')) return 'client_secret_basic';
  if (secret && supported.includes('client_secret_post')) return 'client_secret_post';
  if (supported.includes('none')) return 'none';
  return secret ? 'client_secret_post' : 'none';
}

/** The method the client uses against this AS: its first choice the AS advertises, else its last. */
export function chooseAuth(
  entry: CorpusEntry,
  client: RegisteredClient,
  as: Record<string, unknown>,
): TokenAuth {
  const supported = stringList(as.token_endpoint_auth_methods_supported);
  const { auth } = entry.token;
  if (auth === 'sdk') return sdkChoice(client, supported);
  if (auth === 'registered') return (client.authMethod ?? 'none') as TokenAuth;
  return auth.find((method) => supported.includes(method)) ?? auth[auth.length - 1]!;
}

/** RFC 6749 §2.3.1: Basic credentials, form-encoded first unless the client sends them raw. */
function basic(id: string, secret: string, encoding: 'raw' | 'form'): string {
  const enc = (v: string) => (encoding === 'form' ? encodeURIComponent(v).replace(/%20/g, '+') : v);
  return `Basic ${Buffer.from(`${enc(id)}:${enc(secret)}`).toString('base64')}`;
}

/** RFC 7523 §3: iss = sub = client_id, aud, a unique jti, a short exp. */
export async function assertion(
  entry: CorpusEntry,
  client: RegisteredClient,
  as: Record<string, unknown>,
): Promise<string> {
  if (!client.key) throw new FlowError('token', 0, 'no_key', 'private_key_jwt without a published key');
  const aud = entry.token.assertion?.aud === 'issuer' ? String(as.issuer) : String(as.token_endpoint);
  const lifetime = entry.token.assertion?.lifetime_seconds ?? 300;
  return new jose.SignJWT({})
    .setProtectedHeader({ alg: client.key.alg, kid: client.key.kid, typ: 'JWT' })
    .setIssuer(client.clientId)
    .setSubject(client.clientId)
    .setAudience(aud)
    .setJti(randomUUID())
    .setIssuedAt()
    .setExpirationTime(`${lifetime}s`)
    .sign(client.key.privateKey);
}

/** Adds the client's authentication to a token request. */
async function authenticate(
  entry: CorpusEntry,
  method: TokenAuth,
  client: RegisteredClient,
  as: Record<string, unknown>,
  form: URLSearchParams,
  headers: Headers,
): Promise<void> {
  switch (method) {
    case 'none':
      form.set('client_id', client.clientId);
      return;
    case 'client_secret_post':
      form.set('client_id', client.clientId);
      form.set('client_secret', client.clientSecret ?? '');
      return;
    case 'client_secret_basic':
      headers.set(
        'authorization',
        basic(client.clientId, client.clientSecret ?? '', entry.token.basic_encoding),
      );
      if (entry.token.client_id_with_basic) form.set('client_id', client.clientId);
      return;
    case 'private_key_jwt':
      form.set('client_id', client.clientId);
      form.set('client_assertion_type', JWT_BEARER);
      form.set('client_assertion', await assertion(entry, client, as));
      return;
  }
}

/** POSTs one token request and returns the tokens, or the server's refusal as a FlowError. */
export async function tokenRequest(
  step: 'token' | 'refresh',
  entry: CorpusEntry,
  http: ClientHttp,
  as: Record<string, unknown>,
  client: RegisteredClient,
  method: TokenAuth,
  params: Record<string, string | undefined>,
): Promise<Tokens> {
  const form = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value !== undefined) form.set(name, value);
  const headers = new Headers({
    'content-type': 'application/x-www-form-urlencoded',
    accept: entry.token.accept ?? 'application/json',
  });
  await authenticate(entry, method, client, as, form, headers);
  const body = await http.json(step, String(as.token_endpoint), { method: 'POST', headers, body: form }, 200);
  if (typeof body.access_token !== 'string' || String(body.token_type).toLowerCase() !== 'bearer')
    throw new FlowError(step, 200, 'bad_token_response', JSON.stringify(body).slice(0, 200));
  return body as unknown as Tokens;
}
