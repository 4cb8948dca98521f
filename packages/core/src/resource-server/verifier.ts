import type { Props } from '../types.js';

/** An access token a {@link TokenVerifier} accepted. */
export interface VerifiedAccessToken {
  readonly clientId: string;
  /** The token's subject (`sub`). */
  readonly userId: string;
  readonly email?: string;
  readonly name?: string;
  readonly scopes: readonly string[];
  /** The audiences (`aud`) the token is bound to. */
  readonly audiences: readonly string[];
  /** Expiry in epoch seconds. */
  readonly expiresAt: number;
  /** Application data derived from the claims (see the verifiers' `props` option). */
  readonly props: Props;
  /** The key a DPoP-bound token is confirmed by (RFC 9449 §6: `cnf.jkt`). */
  readonly cnf?: { readonly jkt: string };
}

/** The `cnf.jkt` of verified claims (RFC 9449 §6.1, §6.2), as a {@link VerifiedAccessToken} carries it. */
export function confirmation(claims: Readonly<Record<string, unknown>>): { cnf?: { jkt: string } } {
  const cnf = claims.cnf as { jkt?: unknown } | undefined;
  return typeof cnf?.jkt === 'string' && cnf.jkt !== '' ? { cnf: { jkt: cnf.jkt } } : {};
}

/** What a verifier concluded. `unavailable` means the verifier could not decide (JWKS or introspection down). */
export type VerificationResult =
  | { readonly ok: true; readonly token: VerifiedAccessToken }
  | { readonly ok: false; readonly reason: 'invalid' | 'unavailable'; readonly description: string };

/** What the resource server tells a verifier about the request being checked. */
export interface VerifyContext {
  /** The resource identifier the token must be bound to (RFC 8707). */
  readonly resource: string;
  /** Current time in epoch milliseconds. */
  readonly now: number;
}

/** Verifies access tokens for a resource server: a JWT verifier, an introspection client, or custom code. */
export interface TokenVerifier {
  /**
   * Reads the credential from a header other than `Authorization: Bearer` (for example the
   * `Cf-Access-Jwt-Assertion` an edge proxy adds after validating the token itself).
   */
  readonly credentialHeader?: string;
  verify(token: string, context: VerifyContext): Promise<VerificationResult>;
}

/** Which claims carry the identity, when they differ from the RFC 9068 / OIDC names. */
export interface ClaimNames {
  /** Default `sub`. */
  readonly userId?: string;
  /** Default `email`. */
  readonly email?: string;
  /** Default `name`. */
  readonly name?: string;
  /** Default `client_id`, then `azp`, then `cid`. */
  readonly clientId?: string;
}

/** Splits a `scope` string (RFC 6749 §3.3) or a `scp` array into scope tokens. */
export function parseScopes(value: unknown): string[] {
  if (typeof value === 'string') return value.split(' ').filter((s) => s.length > 0);
  if (Array.isArray(value)) return value.filter((s): s is string => typeof s === 'string' && s.length > 0);
  return [];
}

const str = (value: unknown): string | undefined =>
  typeof value === 'string' && value.length > 0 ? value : undefined;

/** Maps a claims set (JWT payload or introspection response) to the identity fields of a token. */
export function identityFromClaims(
  claims: Readonly<Record<string, unknown>>,
  names: ClaimNames = {},
): { userId?: string; email?: string; name?: string; clientId?: string } {
  const clientId = names.clientId
    ? str(claims[names.clientId])
    : (str(claims.client_id) ?? str(claims.azp) ?? str(claims.cid));
  return {
    userId: str(claims[names.userId ?? 'sub']),
    email: str(claims[names.email ?? 'email']),
    name: str(claims[names.name ?? 'name']),
    clientId,
  };
}

/** Normalises `aud` (string or array) to an array. */
export function audiences(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((a): a is string => typeof a === 'string');
  return [];
}
