import { headerOf } from '../http/header-fields.js';
import type { AuthenticateOptions, AuthenticateResult, TokenInfo } from '../types.js';
import { type PresentedToken, readAccessToken } from './bearer.js';
import {
  type ChallengeOptions,
  type ChallengeTarget,
  challengeResponse,
  unavailableResponse,
} from './challenge.js';
import type { ResourceProofCheck } from './proof.js';

/** What verifying a presented token concluded. */
export type TokenCheck =
  | { readonly ok: true; readonly info: TokenInfo }
  | { readonly ok: false; readonly reason: 'invalid' | 'unavailable'; readonly description: string };

/** The parts a protected resource plugs into the one front end of the resource side. */
export interface ResourceGuard {
  /** The challenge target (metadata URL, baseline scopes) and resource identifier for a request. */
  target(request: Request, resource?: string): ChallengeTarget & { readonly resource: string };
  /** Verifies a token for a resource identifier. */
  verify(token: string, resource: string, request: Request): Promise<TokenCheck>;
  /** Reads the credential from this header instead of `Authorization: Bearer`. */
  readonly credentialHeader?: string;
  /** Checks DPoP proofs of bound tokens (RFC 9449 §7); without it the `DPoP` scheme is not accepted. */
  readonly proof?: ResourceProofCheck;
  /** Told the reason of every refusal (never the token). */
  onRefused?(reason: string): void;
}

/**
 * Verifies the bearer token of a request (RFC 6750): in the `Authorization` header only, valid for this
 * resource (RFC 8707 audience, checked by `verify`), with the required scopes. Refusals carry the
 * RFC 6750 §3 challenge pointing at the RFC 9728 metadata; a verifier that cannot decide gives 503.
 * A DPoP-bound token (RFC 9449 §7) is accepted only in the `DPoP` scheme with a valid proof.
 */
export async function guardRequest(
  guard: ResourceGuard,
  request: Request,
  options: AuthenticateOptions = {},
): Promise<AuthenticateResult> {
  const target = guard.target(request, options.resource);
  const refuse = (challenge: ChallengeOptions): AuthenticateResult => {
    guard.onRefused?.(challenge.description ?? 'no credentials');
    return { ok: false, response: challengeResponse(target, challenge) };
  };
  let presented: PresentedToken | null | 'malformed';
  if (guard.credentialHeader) {
    const value = headerOf(request, guard.credentialHeader.toLowerCase());
    presented = value ? { scheme: 'Bearer', token: value } : null;
  } else {
    // OAuth 2.1 §5.2.1 / RFC 9700 §2.5: tokens in the query string are refused (the URL is parsed only
    // when its text could name the parameter: plainly, or percent-encoded).
    const raw = request.url;
    if (
      (raw.includes('access_token') || raw.includes('%')) &&
      new URL(raw).searchParams.has('access_token')
    ) {
      return refuse({
        error: 'invalid_request',
        description: 'Access tokens in the query string are not accepted; use the Authorization header',
      });
    }
    presented = readAccessToken(request);
    if (presented !== null && presented !== 'malformed' && presented.scheme === 'DPoP' && !guard.proof)
      presented = 'malformed';
  }
  // RFC 6750 §3.1: a request without credentials gets a challenge without an error code.
  if (presented === null) return refuse({});
  if (presented === 'malformed')
    return refuse({
      error: 'invalid_request',
      description: `The Authorization header must be "Bearer <token>"${guard.proof ? ' or "DPoP <token>"' : ''}`,
    });
  const { scheme, token } = presented;
  const checked = await guard.verify(token, target.resource, request);
  if (!checked.ok) {
    if (checked.reason === 'unavailable') {
      guard.onRefused?.(checked.description);
      return { ok: false, response: unavailableResponse(checked.description) };
    }
    return refuse({ error: 'invalid_token', description: checked.description, scheme });
  }
  // RFC 9449 §7.2: a bound token is never accepted as a bearer token, nor where DPoP is not checked.
  if (scheme === 'DPoP' || checked.info.cnf) {
    const proven = guard.proof
      ? await guard.proof.check(request, checked.info, scheme)
      : ({
          ok: false,
          error: 'invalid_token',
          description: 'DPoP-bound tokens are not accepted here',
        } as const);
    if (!proven.ok) {
      const { error, description } = proven;
      if (error === 'temporarily_unavailable') {
        guard.onRefused?.(description);
        return { ok: false, response: unavailableResponse(description) };
      }
      return refuse({
        ...(error === 'invalid_token' ? { error } : { dpopError: error }),
        description,
        scheme,
        ...(proven.headers ? { headers: proven.headers } : {}),
      });
    }
  }
  const wanted = options.requiredScopes;
  if (wanted && wanted.length > 0) {
    const required = [...new Set(wanted)];
    const missing = required.filter((scope) => !checked.info.scopes.includes(scope));
    if (missing.length > 0) return refuse({ ...insufficientScope(missing, required), scheme });
  }
  return { ok: true, info: checked.info };
}

/** The RFC 6750 §3.1 `insufficient_scope` challenge: names every scope the operation needs, once each. */
export const insufficientScope = (
  missing: readonly string[],
  required: readonly string[],
): ChallengeOptions => ({
  error: 'insufficient_scope',
  description: `This request needs the scope(s): ${missing.join(' ')}`,
  scopes: required,
});
