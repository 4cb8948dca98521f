import type { Core } from '../context.js';
import { sha256, timingSafeEqual } from '../crypto/hash.js';
import { OAuthError } from '../errors.js';
import type { AuthMethodName, ClientRecord } from '../stores/schemas.js';
import { acceptedAuthMethods } from './auth-methods.js';

/** The client credentials a token, revocation or introspection request presents. */
export interface PresentedCredentials {
  readonly request: Request;
  /** The form parameters, each present once. */
  readonly form: ReadonlyMap<string, string>;
  /** HTTP Basic credentials of the Authorization header (RFC 6749 §2.3.1), when sent. */
  readonly basic?: { readonly id: string; readonly secret: string };
}

/**
 * A client authentication method of the token, revocation and introspection endpoints (RFC 7591 §2
 * `token_endpoint_auth_method`). Adding one (e.g. `private_key_jwt`, RFC 7523 §2.2) is one more entry in
 * {@link CLIENT_AUTHENTICATION}; metadata derives `token_endpoint_auth_methods_supported` from it.
 */
export interface ClientAuthMethod {
  readonly name: AuthMethodName;
  /** Whether the request authenticates with this method (its credentials are the ones present). */
  presents(credentials: PresentedCredentials): boolean;
  /** The client_id the credentials name, when the method carries one (Basic's user name, an assertion's `sub`). */
  clientId?(credentials: PresentedCredentials): string | undefined;
  /** Whether the credentials authenticate this client (which accepts the method). */
  verify(core: Core, client: ClientRecord, credentials: PresentedCredentials): Promise<boolean>;
}

/** The form parameters of an RFC 7521 §4.2 client assertion. */
const ASSERTION_PARAMS = ['client_assertion', 'client_assertion_type'];

const secretMatches = async (client: ClientRecord, secret: string) =>
  client.secretHash !== undefined && (await timingSafeEqual(await sha256(secret), client.secretHash));

/**
 * The built-in client authentication methods, in the order metadata lists them; extensions add more
 * (`Extension.clientAuthentication`), and a server's list is `core.clientAuthentication`.
 */
export const CLIENT_AUTHENTICATION: readonly ClientAuthMethod[] = [
  {
    name: 'client_secret_basic',
    presents: ({ basic }) => basic !== undefined,
    clientId: ({ basic }) => basic?.id,
    verify: (_core, client, { basic }) => secretMatches(client, basic?.secret ?? ''),
  },
  {
    name: 'client_secret_post',
    presents: ({ basic, form }) => basic === undefined && form.has('client_secret'),
    verify: (_core, client, { form }) => secretMatches(client, form.get('client_secret') ?? ''),
  },
  {
    // RFC 6749 §2.1 public client: client_id alone, no credentials of any kind.
    name: 'none',
    presents: ({ basic, form }) =>
      basic === undefined && !form.has('client_secret') && !ASSERTION_PARAMS.some((p) => form.has(p)),
    verify: async () => true,
  },
];

/** The names of {@link CLIENT_AUTHENTICATION}, for metadata. */
export const CLIENT_AUTH_METHODS: readonly string[] = CLIENT_AUTHENTICATION.map((method) => method.name);

/** A client that authenticated, and the method it used in this request. */
export interface AuthenticatedClient {
  readonly client: ClientRecord;
  readonly method: AuthMethodName;
}

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

/** Options of {@link authenticateClient}. */
export interface ClientAuthenticationOptions {
  /** Accept a public client (`none`); default `true`. Introspection (RFC 7662 §2.1) says `false`. */
  readonly allowPublic?: boolean;
}

/**
 * Authenticates the client of a token, revocation or introspection request with exactly one method
 * (RFC 6749 §2.3: "MUST NOT use more than one authentication method in each request"), one the client
 * registered (RFC 7591 `token_endpoint_auth_method`, or an alternative its metadata lists).
 */
export async function authenticateClient(
  core: Core,
  request: Request,
  form: ReadonlyMap<string, string>,
  options: ClientAuthenticationOptions = {},
): Promise<ClientRecord> {
  return (await authenticateClientWithMethod(core, request, form, options)).client;
}

/** {@link authenticateClient}, also saying which method the client used (a grant may require one). */
export async function authenticateClientWithMethod(
  core: Core,
  request: Request,
  form: ReadonlyMap<string, string>,
  options: ClientAuthenticationOptions = {},
): Promise<AuthenticatedClient> {
  const methods = core.clientAuthentication;
  const header = request.headers.get('authorization');
  const basic = header !== null ? decodeBasic(header) : undefined;
  if (header !== null && !basic)
    throw invalidClient('The Authorization header is not valid HTTP Basic', true);
  const kinds = [basic !== undefined, form.has('client_secret'), ASSERTION_PARAMS.some((p) => form.has(p))];
  if (kinds.filter(Boolean).length > 1) {
    throw new OAuthError(
      'invalid_request',
      'Use one client authentication method, not several (Basic, client_secret, client_assertion)',
    );
  }
  const bodyId = form.get('client_id');
  if (basic && bodyId !== undefined && bodyId !== basic.id) {
    throw new OAuthError('invalid_request', 'client_id in the body does not match the Authorization header');
  }
  const credentials: PresentedCredentials = { request, form, ...(basic ? { basic } : {}) };
  const method = methods.find((m) => m.presents(credentials));
  if (!method)
    throw invalidClient('Client assertions (private_key_jwt) are not supported by this server', false);
  const clientId = method.clientId?.(credentials) ?? bodyId;
  if (!clientId)
    throw invalidClient('Client authentication is required (client_id is missing)', basic !== undefined);
  const client = await core.clients.load(clientId);
  if (!client) throw invalidClient('Unknown client', basic !== undefined);
  const accepted = acceptedAuthMethods(client);
  if (!accepted.includes(method.name)) {
    const usable = accepted.filter((name) => methods.some((m) => m.name === name));
    throw invalidClient(
      usable.length > 0
        ? `This client must authenticate with ${usable.join(' or ')}, not ${method.name}`
        : `This client registered only ${accepted.join(', ')}, which this server does not support`,
      basic !== undefined || accepted.includes('client_secret_basic'),
    );
  }
  if (!(await method.verify(core, client, credentials)))
    throw invalidClient('Client authentication failed', basic !== undefined);
  if (method.name === 'none' && options.allowPublic === false)
    throw invalidClient('This endpoint requires client authentication (a confidential client)', false);
  return { client, method: method.name };
}
