import { jsonResponse, RETRY_AFTER_SECONDS, safeDescription } from '../errors.js';
import { formatScope } from '../rules/scope.js';
import { type BearerChallenge, formatBearerChallenge } from './bearer.js';

/** Where a resource's challenges point, and the scopes a 401 advertises. */
export interface ChallengeTarget {
  /** The RFC 9728 metadata URL of the resource. */
  readonly metadataUrl?: string;
  /** Scopes named in a 401 without error (the resource's baseline), if any. */
  readonly scopes: readonly string[];
}

/** What a protected resource tells a refused caller. */
export interface ChallengeOptions {
  /** The RFC 6750 §3.1 error; absent for a request that sent no credentials. */
  readonly error?: 'invalid_request' | 'invalid_token' | 'insufficient_scope';
  /** A human-readable explanation, without secrets. */
  readonly description?: string;
  /** For `insufficient_scope`: every scope the operation needs (RFC 6750 §3.1), each named once. */
  readonly scopes?: readonly string[];
  /** The resource identifier, when it cannot be inferred from the request path. */
  readonly resource?: string;
}

const STATUS = { invalid_request: 400, invalid_token: 401, insufficient_scope: 403 } as const;

/**
 * The 400/401/403 of a bearer-protected resource (RFC 6750 §3): the status follows the error, the
 * `WWW-Authenticate` challenge names the RFC 9728 metadata, and the JSON body repeats the error.
 */
export function challengeResponse(target: ChallengeTarget, options: ChallengeOptions = {}): Response {
  const scopes = options.error === 'insufficient_scope' ? (options.scopes ?? []) : target.scopes;
  const description = options.description ? safeDescription(options.description) : undefined;
  const challenge: BearerChallenge = {
    ...(target.metadataUrl ? { resourceMetadata: target.metadataUrl } : {}),
    ...(options.error ? { error: options.error } : {}),
    ...(options.error && description ? { description } : {}),
    ...(scopes.length > 0 ? { scope: formatScope(scopes) } : {}),
  };
  const status = options.error ? STATUS[options.error] : 401;
  return jsonResponse(
    {
      error: options.error ?? 'invalid_token',
      error_description: description ?? 'A bearer token is required',
    },
    status,
    { 'WWW-Authenticate': formatBearerChallenge(challenge) },
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
