/**
 * JWT rules shared by the verifiers in this folder: the asymmetric algorithm allow-list, reading a
 * compact JWS header without trusting it, choosing a verification key from a JWK Set, refusing key sets
 * that carry private or symmetric keys, checking the signature and the time claims.
 *
 * @module
 */
import {
  decodeProtectedHeader,
  errors,
  importJWK,
  type JSONWebKeySet,
  type JWK,
  type JWTPayload,
  jwtVerify,
  type ProtectedHeaderParameters,
} from 'jose';
import type { JoseError } from './types.js';

/**
 * The asymmetric JWS algorithms accepted for client assertions, ID-JAGs and DPoP proofs (RFC 7518 §3.3,
 * §3.4, §3.5; RFC 8037 §3.1, and `Ed25519`, its fully-specified name of RFC 9864 §2.2 that oauth4webapi
 * sends). Never `none` (RFC 8725 §3.1) and never an HMAC (RFC 8725 §2.1).
 */
export const ASYMMETRIC_ALGORITHMS = ['RS256', 'PS256', 'ES256', 'EdDSA', 'Ed25519'] as const;

const EDDSA = new Set(['EdDSA', 'Ed25519']);

/** An asymmetric JWS algorithm accepted for assertions and proofs: RS256, PS256, ES256, EdDSA or Ed25519. */
export type AsymmetricAlgorithm = (typeof ASYMMETRIC_ALGORITHMS)[number];

/** Builds the module's refusal from a description. */
export type Refuse = (description: string) => JoseError;

/** Longest compact JWT accepted, so a huge header is refused before it is decoded. */
const MAX_JWT_LENGTH = 16 * 1024;
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** Reads the protected header of a compact JWS (RFC 7515 §7.1) without verifying anything. */
export function readProtectedHeader(token: unknown, what: string, refuse: Refuse): ProtectedHeaderParameters {
  if (typeof token !== 'string' || token.length === 0) throw refuse(`The ${what} is missing.`);
  if (token.length > MAX_JWT_LENGTH || !COMPACT_JWS.test(token))
    throw refuse(`The ${what} is not a compact signed JWT.`);
  try {
    return decodeProtectedHeader(token);
  } catch {
    throw refuse(`The ${what} has a malformed header.`);
  }
}

/** Refuses `alg` values outside `allowed`, naming the classic confusions (RFC 8725 §2.1, §3.1). */
export function requireAlgorithm(
  header: ProtectedHeaderParameters,
  allowed: readonly string[],
  what: string,
  refuse: Refuse,
): string {
  const { alg } = header;
  if (typeof alg !== 'string') throw refuse(`The ${what} has no 'alg' header.`);
  if (alg.toLowerCase() === 'none') throw refuse(`The ${what} must be signed; 'alg': 'none' is refused.`);
  if (/^HS/i.test(alg)) throw refuse(`The ${what} must use an asymmetric algorithm; HMAC is refused.`);
  if (!allowed.includes(alg)) throw refuse(`The ${what} uses an algorithm that is not accepted.`);
  return alg;
}

/** Whether a public JWK can verify `alg` (RFC 7517 §4.2-§4.4 `use`, `key_ops`, `alg`; RFC 7518 §6). */
export function keyFitsAlgorithm(jwk: JWK, alg: string): boolean {
  if (jwk.use !== undefined && jwk.use !== 'sig') return false;
  if (jwk.key_ops !== undefined && !jwk.key_ops.includes('verify')) return false;
  if (jwk.alg !== undefined && jwk.alg !== alg && !(EDDSA.has(jwk.alg) && EDDSA.has(alg))) return false;
  switch (alg) {
    case 'RS256':
    case 'PS256':
      return jwk.kty === 'RSA';
    case 'ES256':
      return jwk.kty === 'EC' && jwk.crv === 'P-256';
    case 'EdDSA':
    case 'Ed25519':
      return jwk.kty === 'OKP' && jwk.crv === 'Ed25519';
    default:
      return false;
  }
}

/** What {@link selectKey} found. */
export type KeySelection =
  | { readonly key: JWK }
  | { readonly problem: 'unknown_kid' | 'no_key' | 'ambiguous' };

/**
 * The key of `jwks` that verifies a JWS with this header: the one with its `kid` (RFC 7515 §4.1.4), or
 * without a `kid` the only key that fits the algorithm.
 */
export function selectKey(jwks: JSONWebKeySet, header: ProtectedHeaderParameters, alg: string): KeySelection {
  const fitting = jwks.keys.filter((key) => keyFitsAlgorithm(key, alg));
  if (typeof header.kid === 'string') {
    const match = fitting.find((key) => key.kid === header.kid);
    return match ? { key: match } : { problem: 'unknown_kid' };
  }
  if (fitting.length === 1) return { key: fitting[0]! };
  return { problem: fitting.length === 0 ? 'no_key' : 'ambiguous' };
}

/** Members that only private or symmetric JWKs carry (RFC 7518 §6.2.2, §6.3.2, §6.4.1; RFC 8037 §2). */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

/** Largest number of keys accepted in one set. */
const MAX_KEYS = 32;

/**
 * Checks that a value is a JWK Set (RFC 7517 §5) of public asymmetric keys, and returns it. A set that
 * carries private or symmetric key material is refused whole: it is a leak, and an `oct` key would
 * invite HMAC confusion.
 */
export function parsePublicJwks(value: unknown): JSONWebKeySet | string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'it is not a JSON object';
  const keys = (value as { keys?: unknown }).keys;
  if (!Array.isArray(keys)) return `it has no 'keys' array`;
  if (keys.length === 0) return 'it has no keys';
  if (keys.length > MAX_KEYS) return `it has more than ${MAX_KEYS} keys`;
  for (const key of keys) {
    if (typeof key !== 'object' || key === null || Array.isArray(key)) return 'a key is not a JSON object';
    const jwk = key as Record<string, unknown>;
    if (typeof jwk.kty !== 'string') return `a key has no 'kty'`;
    if (jwk.kty === 'oct') return 'it contains a symmetric key';
    if (PRIVATE_MEMBERS.some((member) => member in jwk)) return 'it contains private key material';
    if (jwk.kid !== undefined && typeof jwk.kid !== 'string') return `a key has a non-string 'kid'`;
  }
  return { keys: keys as JWK[] };
}

/** Why jose refused a JWS, in words that never repeat the input. */
function describeJoseError(error: unknown, what: string): string {
  if (error instanceof errors.JWTExpired) return `The ${what} has expired.`;
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'nbf') return `The ${what} is not valid yet.`;
    if (error.claim === 'typ') return `The ${what} has the wrong 'typ' header.`;
    return `The ${what} has an invalid '${error.claim}' claim.`;
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return `The ${what} signature is invalid.`;
  if (error instanceof errors.JOSEAlgNotAllowed) return `The ${what} uses an algorithm that is not accepted.`;
  if (error instanceof errors.JOSENotSupported || error instanceof TypeError)
    return `The ${what} was signed with a key that cannot be used for its algorithm.`;
  return `The ${what} is malformed.`;
}

/** Options of {@link verifySignature}. */
export interface VerifySignatureOptions {
  /** The one algorithm accepted (already checked against the allow-list). */
  readonly alg: string;
  /** Required `typ` header (RFC 8725 §3.11), compared as jose does (`application/` prefix optional). */
  readonly typ?: string;
  /** Current time, epoch ms. */
  readonly now: number;
  /** Allowed clock skew for `exp` and `nbf`, seconds. */
  readonly skewSeconds: number;
}

/**
 * Verifies a JWS signature with one public JWK and returns the payload; `exp` and `nbf` are checked when
 * present (RFC 7519 §4.1.4, §4.1.5). Callers add their own required-claim rules.
 */
export async function verifySignature(
  token: string,
  jwk: JWK,
  options: VerifySignatureOptions,
  what: string,
  refuse: Refuse,
): Promise<JWTPayload> {
  try {
    const key = await importJWK(jwk, options.alg);
    const { payload } = await jwtVerify(token, key, {
      algorithms: [options.alg],
      currentDate: new Date(options.now),
      clockTolerance: options.skewSeconds,
      ...(options.typ ? { typ: options.typ } : {}),
    });
    return payload;
  } catch (error) {
    throw refuse(describeJoseError(error, what));
  }
}

/** Limits of {@link checkTimeClaims}. */
export interface TimeLimits {
  /** Current time, epoch ms. */
  readonly now: number;
  /** Allowed clock skew, seconds. */
  readonly skewSeconds: number;
  /** `exp` is required and at most this far ahead of now (plus skew), seconds. */
  readonly maxLifetimeSeconds: number;
  /** `iat` is required. */
  readonly requireIat?: boolean;
}

const isNumericDate = (value: unknown): value is number =>
  typeof value === 'number' && Number.isFinite(value);

/**
 * Requires a bounded `exp` (RFC 7523 §3 item 4, RFC 7519 §4.1.4), and an `iat` (RFC 7519 §4.1.6) and
 * `nbf` (§4.1.5) that are not in the future. Returns `exp` in epoch seconds.
 */
export function checkTimeClaims(
  payload: JWTPayload,
  limits: TimeLimits,
  what: string,
  refuse: Refuse,
): number {
  const now = Math.floor(limits.now / 1000);
  const { exp, iat, nbf } = payload;
  if (!isNumericDate(exp)) throw refuse(`The ${what} must have a numeric 'exp' claim.`);
  if (exp <= now - limits.skewSeconds) throw refuse(`The ${what} has expired.`);
  if (exp > now + limits.maxLifetimeSeconds + limits.skewSeconds)
    throw refuse(`The ${what} expires too far in the future (at most ${limits.maxLifetimeSeconds} s).`);
  if (iat === undefined ? limits.requireIat : !isNumericDate(iat))
    throw refuse(`The ${what} must have a numeric 'iat' claim.`);
  if (isNumericDate(iat) && iat > now + limits.skewSeconds)
    throw refuse(`The ${what} was issued in the future ('iat').`);
  if (nbf !== undefined && (!isNumericDate(nbf) || nbf > now + limits.skewSeconds))
    throw refuse(`The ${what} is not valid yet ('nbf').`);
  return exp;
}

/** The `aud` claim as a list (RFC 7519 §4.1.3: a string or an array of strings). */
export function audienceList(aud: unknown): string[] | undefined {
  if (typeof aud === 'string') return [aud];
  if (Array.isArray(aud) && aud.length > 0 && aud.every((a) => typeof a === 'string')) return aud;
  return undefined;
}

/** A non-empty string claim, or `undefined`. */
export const stringClaim = (value: unknown): string | undefined =>
  typeof value === 'string' && value.length > 0 ? value : undefined;
