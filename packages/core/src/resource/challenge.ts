import { jsonResponse, RETRY_AFTER_SECONDS, safeDescription } from '../errors.js';
import { formatScope } from '../rules/scope.js';
import { type BearerChallenge, formatBearerChallenge, quote } from './bearer.js';

/** Where a resource's challenges point, and the scopes a 401 advertises. */
export interface ChallengeTarget {
  /** The RFC 9728 metadata URL of the resource. */
  readonly metadataUrl?: string;
  /** Scopes named in a 401 without error (the resource's baseline), if any. */
  readonly scopes: readonly string[];
  /** The DPoP proof algorithms the resource accepts: a `DPoP` challenge is added (RFC 9449 §7.1). */
  readonly dpopAlgorithms?: readonly string[];
}

/** What a protected resource tells a refused caller. */
export interface ChallengeOptions {
  /** The RFC 6750 §3.1 error; absent for a request that sent no credentials. */
  readonly error?: 'invalid_request' | 'invalid_token' | 'insufficient_scope';
  /** A DPoP proof error (RFC 9449 §7.1, §9), sent in the `DPoP` challenge with a 401; wins over `error`. */
  readonly dpopError?: 'invalid_dpop_proof' | 'use_dpop_nonce';
  /** The scheme the refused request used; its challenge carries the error. Default `Bearer`. */
  readonly scheme?: 'Bearer' | 'DPoP';
  /** Further headers of the refusal (e.g. `DPoP-Nonce`, RFC 9449 §9). */
  readonly headers?: Readonly<Record<string, string>>;
  /** A human-readable explanation, without secrets. */
  readonly description?: string;
  /** For `insufficient_scope`: every scope the operation needs (RFC 6750 §3.1), each named once. */
  readonly scopes?: readonly string[];
  /** The resource identifier, when it cannot be inferred from the request path. */
  readonly resource?: string;
}

const STATUS = { invalid_request: 400, invalid_token: 401, insufficient_scope: 403 } as const;

/** RFC 9449 §7.1: the `DPoP` challenge, with the accepted `algs` and the error of a DPoP request. */
function formatDpopChallenge(algorithms: readonly string[], error?: string, description?: string): string {
  const params = [`algs=${quote(algorithms.join(' '))}`];
  if (error) params.push(`error=${quote(error)}`);
  if (error && description) params.push(`error_description=${quote(description)}`);
  return `DPoP ${params.join(', ')}`;
}

/**
 * The 400/401/403 of a bearer-protected resource (RFC 6750 §3): the status follows the error, the
 * `WWW-Authenticate` challenge names the RFC 9728 metadata, and the JSON body repeats the error. A
 * resource that accepts DPoP adds a `DPoP` challenge, which carries the error of a DPoP request.
 */
export function challengeResponse(target: ChallengeTarget, options: ChallengeOptions = {}): Response {
  const scopes = options.error === 'insufficient_scope' ? (options.scopes ?? []) : target.scopes;
  const description = options.description ? safeDescription(options.description) : undefined;
  const dpop = target.dpopAlgorithms;
  const error = options.dpopError ?? options.error;
  const inDpop = dpop !== undefined && (options.scheme === 'DPoP' || options.dpopError !== undefined);
  const bearerError = inDpop ? undefined : options.error;
  const challenge: BearerChallenge = {
    ...(target.metadataUrl ? { resourceMetadata: target.metadataUrl } : {}),
    ...(bearerError ? { error: bearerError } : {}),
    ...(bearerError && description ? { description } : {}),
    ...(scopes.length > 0 ? { scope: formatScope(scopes) } : {}),
  };
  const challenges = [formatBearerChallenge(challenge)];
  if (dpop) challenges.push(formatDpopChallenge(dpop, inDpop ? error : undefined, description));
  const status = options.dpopError ? 401 : options.error ? STATUS[options.error] : 401;
  return jsonResponse(
    {
      error: error ?? 'invalid_token',
      error_description: description ?? 'A bearer token is required',
    },
    status,
    { ...options.headers, 'WWW-Authenticate': challenges.join(', ') },
  );
}

/** The 503 a resource answers when it cannot verify tokens right now (storage, JWKS or introspection down). */
export function unavailableResponse(description: string): Response {
  return jsonResponse(
    { error: 'temporarily_unavailable', error_description: safeDescription(description) },
    503,
    {
      'Retry-After': String(RETRY_AFTER_SECONDS),
    },
  );
}

/**
 * The 400/401/403 response for a Bearer challenge: status from the error (RFC 6750 §3.1), the
 * challenge header, and a JSON body with `error` / `error_description`.
 */
export function bearerErrorResponse(challenge: BearerChallenge): Response {
  return challengeResponse(
    { ...(challenge.resourceMetadata ? { metadataUrl: challenge.resourceMetadata } : {}), scopes: [] },
    {
      ...(challenge.error ? { error: challenge.error } : {}),
      ...(challenge.description ? { description: challenge.description } : {}),
      ...(challenge.scope ? { scopes: challenge.scope.split(' ').filter(Boolean) } : {}),
    },
  );
}
