import { sha256, timingSafeEqual } from '../crypto/hash.js';

/** The PKCE methods this server accepts: S256 only, `plain` is refused (OAuth 2.1 §4.1.1, RFC 7636 §4.2). */
export const PKCE_METHODS: readonly string[] = ['S256'];

/** BASE64URL(SHA-256(verifier)) is 43 characters (RFC 7636 §4.2). */
const S256_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;
/** RFC 7636 §4.1: 43–128 characters of [A-Z a-z 0-9 - . _ ~]. */
const VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;

/** Why an authorization request's PKCE parameters are refused, or `undefined` when they are fine. */
export function challengeProblem(
  challenge: string | undefined,
  method: string | undefined,
): string | undefined {
  if (challenge === undefined) return 'code_challenge is required (PKCE)';
  if (method === undefined || !PKCE_METHODS.includes(method)) return 'code_challenge_method must be S256';
  if (!S256_CHALLENGE.test(challenge)) return 'code_challenge is not a valid S256 challenge';
  return undefined;
}

/** Why a token request's code_verifier is refused, or `undefined` when it is well formed. */
export function verifierProblem(verifier: string | undefined): string | undefined {
  // OAuth 2.1 §4.1.3: the verifier is required; a missing one is a PKCE downgrade attempt.
  if (verifier === undefined) return 'The code_verifier parameter is missing (PKCE)';
  if (!VERIFIER.test(verifier)) return 'The code_verifier is malformed (RFC 7636 section 4.1)';
  return undefined;
}

/** RFC 7636 §4.6: BASE64URL(SHA-256(verifier)) must equal the challenge (compared in constant time). */
export async function verifierMatches(verifier: string, challenge: string): Promise<boolean> {
  return timingSafeEqual(await sha256(verifier), challenge);
}
