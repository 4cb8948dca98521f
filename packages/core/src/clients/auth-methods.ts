import { OAuthError } from '../errors.js';
import {
  AUTH_METHOD_NAMES,
  type AuthMethodName,
  type ClientRecord,
  type JsonWebKeySet,
} from '../stores/schemas.js';
import { publicDocumentUrlProblem } from './guarded-fetch.js';

/** The methods that authenticate with a shared secret (RFC 6749 §2.3.1). */
export const SECRET_METHODS: readonly AuthMethodName[] = ['client_secret_basic', 'client_secret_post'];

/**
 * Whether a request's authentication method proves the client's identity (RFC 6749 §2.1 confidential
 * client): a shared secret or an RFC 7523 assertion, not `none`.
 */
export const isConfidentialMethod = (method: AuthMethodName): boolean =>
  SECRET_METHODS.includes(method) || method === 'private_key_jwt';

/** Asymmetric JWS algorithms a `private_key_jwt` client may name (RFC 7518 §3.1, RFC 8037). */
const ASSERTION_ALGS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
];
/** JWK members that only private or symmetric keys have (RFC 7518 §6.2.2, §6.3.2, §6.4.1). */
const PRIVATE_KEY_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
const MAX_KEYS = 10;

/** The client authentication fields of a client record. */
export type AuthFields = Pick<
  ClientRecord,
  'authMethod' | 'authMethods' | 'jwks' | 'jwksUri' | 'tokenEndpointAuthSigningAlg'
>;

/** Every method a client may use at the token endpoint, its registered one first. */
export const acceptedAuthMethods = (client: ClientRecord): readonly AuthMethodName[] =>
  client.authMethods ?? [client.authMethod];

/** Whether a client holds a shared secret (RFC 6749 §2.1 confidential client). */
export const hasSharedSecret = (client: Pick<ClientRecord, 'authMethod'>): boolean =>
  SECRET_METHODS.includes(client.authMethod);

const invalid = (description: string) => new OAuthError('invalid_client_metadata', description);
const isMethod = (value: unknown): value is AuthMethodName =>
  typeof value === 'string' && (AUTH_METHOD_NAMES as readonly string[]).includes(value);

/** A registered public key set: at most ten public JWKs, each with a `kty` (RFC 7517 §4.1, §5). */
function publicKeySet(value: unknown): JsonWebKeySet {
  const keys = (value as { keys?: unknown } | null)?.keys;
  if (typeof value !== 'object' || !Array.isArray(keys) || keys.length === 0 || keys.length > MAX_KEYS)
    throw invalid(`jwks must be a JWK Set with 1 to ${MAX_KEYS} keys`);
  for (const key of keys) {
    if (typeof key !== 'object' || key === null || Array.isArray(key) || typeof key.kty !== 'string')
      throw invalid('Every key in jwks must be a JWK object with a kty');
    // A private or symmetric key in metadata is a leaked secret, never a key to verify with.
    if (PRIVATE_KEY_MEMBERS.some((member) => member in key))
      throw invalid('jwks must contain public keys only');
  }
  return { keys: keys as Record<string, unknown>[] };
}

/** The registered keys of a `private_key_jwt` client: `jwks` or `jwks_uri`, never both (RFC 7591 §2). */
function keysOf(body: Record<string, unknown>): Pick<AuthFields, 'jwks' | 'jwksUri'> | undefined {
  if (body.jwks !== undefined && body.jwks_uri !== undefined)
    throw invalid('jwks and jwks_uri must not both be present');
  if (body.jwks_uri !== undefined) {
    if (typeof body.jwks_uri !== 'string') throw invalid('jwks_uri must be a string');
    const problem = publicDocumentUrlProblem(body.jwks_uri);
    if (problem) throw invalid(`jwks_uri: ${problem}`);
    return { jwksUri: body.jwks_uri };
  }
  return body.jwks === undefined ? undefined : { jwks: publicKeySet(body.jwks) };
}

/**
 * The token endpoint authentication a client registers (RFC 7591 §2 `token_endpoint_auth_method`,
 * replaced by a usable one when needed, §3.2.1). A `private_key_jwt` client must name its keys; a client
 * without a shared secret may also list `none` in `token_endpoint_auth_methods_supported` to be usable
 * as a public client (ChatGPT's document). A shared-secret client stays confidential: its list is ignored.
 */
export function resolveAuthMethods(body: Record<string, unknown>, fallback: AuthMethodName): AuthFields {
  const declared = body.token_endpoint_auth_method ?? fallback;
  if (typeof declared !== 'string') throw invalid('token_endpoint_auth_method must be a string');
  if (isMethod(declared) && SECRET_METHODS.includes(declared)) return { authMethod: declared };
  const listed = Array.isArray(body.token_endpoint_auth_methods_supported)
    ? body.token_endpoint_auth_methods_supported.filter(isMethod)
    : [];
  const wanted = [...new Set([declared, ...listed])].filter(
    (m): m is AuthMethodName => isMethod(m) && !SECRET_METHODS.includes(m),
  );
  const keys = wanted.includes('private_key_jwt') ? keysOf(body) : undefined;
  const usable = wanted.filter((m) => m !== 'private_key_jwt' || keys !== undefined);
  const [primary, ...others] = usable;
  if (!primary) {
    throw invalid(
      declared === 'private_key_jwt'
        ? 'private_key_jwt needs the public keys in jwks or jwks_uri'
        : `token_endpoint_auth_method "${declared.slice(0, 50)}" is not supported`,
    );
  }
  const alg = body.token_endpoint_auth_signing_alg;
  return {
    authMethod: primary,
    ...(others.length > 0 ? { authMethods: [primary, ...others] } : {}),
    ...(usable.includes('private_key_jwt') ? keys : {}),
    ...(usable.includes('private_key_jwt') && typeof alg === 'string' && ASSERTION_ALGS.includes(alg)
      ? { tokenEndpointAuthSigningAlg: alg }
      : {}),
  };
}
