import {
  createLocalJWKSet,
  createRemoteJWKSet,
  errors,
  type JSONWebKeySet,
  type JWTPayload,
  type JWTVerifyGetKey,
  jwtVerify,
} from 'jose';
import type { Props } from '../types.js';
import {
  audiences,
  type ClaimNames,
  confirmation,
  identityFromClaims,
  parseScopes,
  type TokenVerifier,
  type VerificationResult,
} from './verifier.js';

/** Options of {@link jwtVerifier}. */
export interface JwtVerifierOptions {
  /** The authorization server's JWKS URL. Exactly one of `jwksUrl` and `jwks`. */
  readonly jwksUrl?: string | URL;
  /** A static JSON Web Key Set (keys that never rotate, or tests). */
  readonly jwks?: JSONWebKeySet;
  /** Required `iss` value. */
  readonly issuer: string;
  /** Accepted `aud` value(s); default: the resource server's resource identifier. */
  readonly audience?: string | readonly string[];
  /**
   * Required JOSE `typ` header. Default `at+jwt` (RFC 9068 §2.1); `false` accepts any `typ` for
   * authorization servers that issue plain `JWT` access tokens.
   */
  readonly typ?: string | false;
  /** Accepted signature algorithms; default the asymmetric ones (never `none` or HMAC). */
  readonly algorithms?: readonly string[];
  /** Allowed clock skew in seconds; default 0. */
  readonly clockToleranceSeconds?: number;
  /** Claim names for identity fields. */
  readonly claims?: ClaimNames;
  /** Derives `props` from the verified claims. */
  readonly props?: (claims: Readonly<JWTPayload>) => Props;
  /** How long a fetched JWKS is trusted before re-fetching, in ms; default 10 minutes. */
  readonly jwksCacheMaxAgeMs?: number;
}

const ASYMMETRIC = [
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
  'Ed25519',
];

/** Tells whether a jose error means "could not reach the keys" rather than "bad token". */
function isUnavailable(error: unknown): boolean {
  return (
    error instanceof errors.JWKSTimeout ||
    (error instanceof errors.JOSEError && error.code === 'ERR_JWKS_INVALID') ||
    error instanceof TypeError
  );
}

function describe(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'The access token has expired.';
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'aud') return 'The access token was issued for another resource.';
    if (error.claim === 'iss') return 'The access token was issued by an untrusted issuer.';
    if (error.claim === 'typ') return 'The token is not an access token (typ must be at+jwt).';
    return `The access token's "${error.claim}" claim is invalid.`;
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'The access token signature is invalid.';
  if (error instanceof errors.JWKSNoMatchingKey) return 'The access token was signed with an unknown key.';
  if (error instanceof errors.JOSEAlgNotAllowed) return 'The access token uses a disallowed algorithm.';
  return 'The access token is malformed.';
}

/**
 * Verifies RFC 9068 JWT access tokens against an authorization server's keys: signature, `typ`
 * (`at+jwt`), `iss`, `aud`, `exp`/`nbf`, and reads `scope` (or `scp`), `client_id` and `sub`.
 *
 * @example
 * ```ts
 * const verify = jwtVerifier({
 *   jwksUrl: 'https://auth.example.com/.well-known/jwks.json',
 *   issuer: 'https://auth.example.com',
 * });
 * ```
 */
export function jwtVerifier(options: JwtVerifierOptions): TokenVerifier {
  if ((options.jwksUrl === undefined) === (options.jwks === undefined)) {
    throw new TypeError('jwtVerifier: pass exactly one of jwksUrl and jwks');
  }
  const keys: JWTVerifyGetKey = options.jwks
    ? createLocalJWKSet(options.jwks)
    : createRemoteJWKSet(new URL(String(options.jwksUrl)), {
        cacheMaxAge: options.jwksCacheMaxAgeMs ?? 600_000,
      });
  const typ = options.typ === undefined ? 'at+jwt' : options.typ;
  const algorithms = [...(options.algorithms ?? ASYMMETRIC)];

  return {
    async verify(token, context): Promise<VerificationResult> {
      const audience = options.audience ?? context.resource;
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, keys, {
          issuer: options.issuer,
          // RFC 9068 §4: the resource server must check that `aud` identifies it.
          audience: typeof audience === 'string' ? audience : [...audience],
          algorithms,
          currentDate: new Date(context.now),
          clockTolerance: options.clockToleranceSeconds ?? 0,
          requiredClaims: ['exp', 'sub'],
          ...(typ === false ? {} : { typ }),
        }));
      } catch (error) {
        if (isUnavailable(error)) {
          return { ok: false, reason: 'unavailable', description: 'The signing keys could not be fetched.' };
        }
        return { ok: false, reason: 'invalid', description: describe(error) };
      }
      const identity = identityFromClaims(payload as Record<string, unknown>, options.claims);
      if (!identity.userId)
        return { ok: false, reason: 'invalid', description: 'The access token has no subject.' };
      if (!identity.clientId) {
        return {
          ok: false,
          reason: 'invalid',
          description: 'The access token has no client_id claim (RFC 9068 §2.2).',
        };
      }
      return {
        ok: true,
        token: {
          clientId: identity.clientId,
          userId: identity.userId,
          ...(identity.email ? { email: identity.email } : {}),
          ...(identity.name ? { name: identity.name } : {}),
          scopes: parseScopes(payload.scope ?? payload.scp),
          audiences: audiences(payload.aud),
          expiresAt: payload.exp ?? 0,
          props: options.props ? options.props(payload) : {},
          ...confirmation(payload),
        },
      };
    },
  };
}
