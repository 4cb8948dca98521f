/** Error codes of RFC 6749 §4.1.2.1 / §5.2, RFC 7591 §3.2.2, RFC 6750 §3.1 and RFC 7009 §2.2.1. */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'unsupported_response_type'
  | 'unsupported_token_type'
  | 'invalid_scope'
  | 'invalid_target'
  | 'access_denied'
  | 'server_error'
  | 'temporarily_unavailable'
  | 'invalid_redirect_uri'
  | 'invalid_client_metadata'
  | 'invalid_token'
  | 'insufficient_scope'
  | 'not_found'
  | 'method_not_allowed';

/** An OAuth error with its HTTP status; rendered as JSON per RFC 6749 §5.2. */
export class OAuthError extends Error {
  constructor(
    /** The RFC error code, sent as `error`. */
    readonly code: OAuthErrorCode,
    /** A human-readable explanation, sent as `error_description`; never contains secrets. */
    readonly description: string,
    /** The HTTP status of the error response. */
    readonly status = 400,
    /** Extra response headers, e.g. `WWW-Authenticate` or `Retry-After`. */
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(`${code}: ${description}`);
    this.name = 'OAuthError';
  }
}

/** Thrown when the storage fails; maps to 503 `temporarily_unavailable`. */
export class StorageUnavailableError extends Error {
  constructor(
    readonly operation: string,
    cause: unknown,
  ) {
    super(`storage ${operation} failed`, { cause });
    this.name = 'StorageUnavailableError';
  }
}

/** Headers on every response that carries tokens or errors (RFC 6749 §5.1). */
export const NO_STORE = { 'Cache-Control': 'no-store', Pragma: 'no-cache' } as const;

/** A JSON response with `no-store`. */
export function jsonResponse(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json', ...NO_STORE, ...headers },
  });
}

/** The JSON error response of RFC 6749 §5.2. */
export function errorResponse(error: OAuthError): Response {
  return jsonResponse({ error: error.code, error_description: error.description }, error.status, {
    ...error.headers,
  });
}
