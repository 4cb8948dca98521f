import type { Core } from '../context.js';
import { sha256, timingSafeEqual } from '../crypto/hash.js';
import { OAuthError } from '../errors.js';
import type { ClientRecord } from '../stores/schemas.js';

/** Client authentication methods of the token, revocation and introspection endpoints (RFC 7591 §2). */
export const CLIENT_AUTH_METHODS: readonly string[] = ['client_secret_basic', 'client_secret_post', 'none'];

/** Decodes `application/x-www-form-urlencoded` parts of HTTP Basic credentials (RFC 6749 §2.3.1). */
function decodeBasic(header: string): { id: string; secret: string } | undefined {
  const match = /^Basic ([A-Za-z0-9+/]+=*)$/i.exec(header.trim());
  if (!match?.[1]) return undefined;
  let decoded: string;
  try {
    decoded = atob(match[1]);
  } catch {
    return undefined;
  }
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  try {
    const form = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));
    return { id: form(decoded.slice(0, colon)), secret: form(decoded.slice(colon + 1)) };
  } catch {
    return undefined;
  }
}

const invalidClient = (description: string, basic: boolean) =>
  new OAuthError(
    'invalid_client',
    description,
    401,
    // RFC 6749 §5.2: a client that used the Authorization header gets a matching challenge.
    basic ? { 'WWW-Authenticate': 'Basic realm="portcullis", charset="UTF-8"' } : {},
  );

/**
 * Authenticates the client of a token, revocation or introspection request with exactly one method
 * (RFC 6749 §2.3: "MUST NOT use more than one authentication method in each request"), and the one
 * it registered (RFC 7591 `token_endpoint_auth_method`).
 */
export async function authenticateClient(
  core: Core,
  request: Request,
  form: ReadonlyMap<string, string>,
): Promise<ClientRecord> {
  const header = request.headers.get('authorization');
  const basic = header !== null ? decodeBasic(header) : undefined;
  if (header !== null && !basic)
    throw invalidClient('The Authorization header is not valid HTTP Basic', true);
  const bodySecret = form.get('client_secret');
  if (basic && bodySecret !== undefined) {
    throw new OAuthError(
      'invalid_request',
      'Use one client authentication method, not both Basic and client_secret',
    );
  }
  const bodyId = form.get('client_id');
  if (basic && bodyId !== undefined && bodyId !== basic.id) {
    throw new OAuthError('invalid_request', 'client_id in the body does not match the Authorization header');
  }
  const clientId = basic?.id ?? bodyId;
  if (!clientId)
    throw invalidClient('Client authentication is required (client_id is missing)', basic !== undefined);
  const client = await core.clients.load(clientId);
  if (!client) throw invalidClient('Unknown client', basic !== undefined);
  const used = basic ? 'client_secret_basic' : bodySecret !== undefined ? 'client_secret_post' : 'none';
  if (used !== client.authMethod) {
    throw invalidClient(
      `This client must authenticate with ${client.authMethod}, not ${used}`,
      basic !== undefined || client.authMethod === 'client_secret_basic',
    );
  }
  if (used !== 'none') {
    const secret = basic?.secret ?? bodySecret ?? '';
    const ok =
      client.secretHash !== undefined && (await timingSafeEqual(await sha256(secret), client.secretHash));
    if (!ok) throw invalidClient('Client authentication failed', basic !== undefined);
  }
  return client;
}
