/** Error codes of RFC 6749 §4.1.2.1 / §5.2, RFC 7591 §3.2.2, RFC 6750 §3.1, RFC 7009 §2.2.1 and RFC 9449 §5, §8. */
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
  | 'method_not_allowed'
  | 'not_implemented'
  | 'invalid_dpop_proof'
  | 'use_dpop_nonce';

/**
 * Makes a description safe to send: RFC 6749 §5.2 limits `error_description` to %x20-21 / %x23-5B /
 * %x5D-7E, so quotes, backslashes, control and non-ASCII characters (which echoed input may carry) are
 * replaced, and the text is bounded.
 */
export function safeDescription(text: string): string {
  const cleaned = text
    .replace(/"/g, "'")
    .replace(/\\/g, '/')
    .replace(/§/g, 'section ')
    .replace(/[^\x20\x21\x23-\x5B\x5D-\x7E]/g, '?');
  return cleaned.length > 300 ? `${cleaned.slice(0, 297)}...` : cleaned;
}

/**
 * An OAuth error with its HTTP status. Endpoints throw it; the router renders it once, as JSON
 * (RFC 6749 §5.2), as an error page, or as a redirect to the client (see {@link AuthorizationRedirectError}).
 */
export class OAuthError extends Error {
  /** A human-readable explanation, sent as `error_description`; never contains secrets (RFC 6749 §5.2 charset). */
  readonly description: string;

  constructor(
    /** The RFC error code, sent as `error`. */
    readonly code: OAuthErrorCode,
    description: string,
    /** The HTTP status of the error response. */
    readonly status = 400,
    /** Extra response headers, e.g. `WWW-Authenticate` or `Retry-After`. */
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    const safe = safeDescription(description);
    super(`${code}: ${safe}`);
    this.description = safe;
    this.name = 'OAuthError';
  }
}

/**
 * An authorization-endpoint error found after the redirect URI was validated: it is sent back to the
 * client as `error`, `error_description`, `state` and `iss` on its redirect URI (RFC 6749 §4.1.2.1,
 * RFC 9207 §2) rather than shown as a page.
 */
export class AuthorizationRedirectError extends OAuthError {
  constructor(
    code: OAuthErrorCode,
    description: string,
    /** The validated redirect URI the error goes to. */
    readonly redirectUri: string,
    /** The client's `state`, echoed unchanged (undefined when it was absent or refused). */
    readonly state: string | undefined,
  ) {
    super(code, description, 302);
    this.name = 'AuthorizationRedirectError';
  }
}

/** Thrown when the storage fails or times out; rendered as 503 `temporarily_unavailable` with `Retry-After`. */
export class StorageUnavailableError extends Error {
  constructor(
    readonly operation: string,
    cause: unknown,
  ) {
    super(`storage ${operation} failed`, { cause });
    this.name = 'StorageUnavailableError';
  }
}

/** The audit event of a storage failure: the operation only, never the cause (it may name hosts or data). */
export const storageErrorEvent = (error: StorageUnavailableError) =>
  ({ type: 'storage_error', operation: error.operation, message: 'storage unavailable' }) as const;

/** Seconds a client is asked to wait after a 503 (RFC 9110 §10.2.3). */
export const RETRY_AFTER_SECONDS = 5;

/** The 503 every route answers while the storage is unavailable. */
export const storageUnavailable = (): OAuthError =>
  new OAuthError(
    'temporarily_unavailable',
    'The authorization server storage is unavailable; try again',
    503,
    { 'Retry-After': String(RETRY_AFTER_SECONDS) },
  );

/** Headers on every response that carries tokens or errors (RFC 6749 §5.1). */
export const NO_STORE = { 'Cache-Control': 'no-store', Pragma: 'no-cache' } as const;

/** A JSON response with `no-store`. */
export function jsonResponse(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json', ...NO_STORE, ...headers },
  });
}

/** The JSON error response of RFC 6749 §5.2: the one place an error body is built. */
export function errorResponse(error: OAuthError): Response {
  return jsonResponse({ error: error.code, error_description: error.description }, error.status, {
    ...error.headers,
  });
}

/**
 * The JSON error response for a code and description (RFC 6749 §5.2), for adapters and handlers that
 * refuse a request before it reaches the core.
 */
export const oauthErrorResponse = (
  code: OAuthErrorCode,
  description: string,
  status = 400,
  headers: Readonly<Record<string, string>> = {},
): Response => errorResponse(new OAuthError(code, description, status, headers));
