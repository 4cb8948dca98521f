/** Bearer challenges and RFC 9728 metadata URLs shared by the resource side. */

/** Parameters of a `WWW-Authenticate: Bearer` challenge (RFC 6750 §3, RFC 9728 §5.1). */
export interface BearerChallenge {
  /** URL of the protected-resource metadata document (RFC 9728 §5.1). */
  readonly resourceMetadata?: string;
  /** `invalid_request`, `invalid_token` or `insufficient_scope` (RFC 6750 §3.1). */
  readonly error?: 'invalid_request' | 'invalid_token' | 'insufficient_scope';
  readonly description?: string;
  /** Space-separated scopes the resource needs (RFC 6750 §3). */
  readonly scope?: string;
}

// RFC 6750 §3: auth-param values are quoted-strings; strip characters that cannot appear in them.
const quote = (value: string): string => `"${value.replace(/["\\\r\n]/g, '')}"`;

/** Formats a `WWW-Authenticate` header value for the Bearer scheme. */
export function formatBearerChallenge(challenge: BearerChallenge): string {
  const params: string[] = [];
  if (challenge.resourceMetadata) params.push(`resource_metadata=${quote(challenge.resourceMetadata)}`);
  if (challenge.error) params.push(`error=${quote(challenge.error)}`);
  if (challenge.description) params.push(`error_description=${quote(challenge.description)}`);
  if (challenge.scope) params.push(`scope=${quote(challenge.scope)}`);
  return params.length > 0 ? `Bearer ${params.join(', ')}` : 'Bearer';
}

/**
 * The 401/403 response of a bearer-protected resource: status from the error (RFC 6750 §3.1), the
 * challenge header, and a JSON body with `error` / `error_description`.
 */
export function bearerErrorResponse(challenge: BearerChallenge): Response {
  const status =
    challenge.error === 'insufficient_scope' ? 403 : challenge.error === 'invalid_request' ? 400 : 401;
  const body = challenge.error
    ? { error: challenge.error, error_description: challenge.description ?? challenge.error }
    : { error: 'unauthorized', error_description: challenge.description ?? 'A bearer token is required.' };
  return new Response(JSON.stringify(body), {
    status,
    headers: {
      'content-type': 'application/json',
      'cache-control': 'no-store',
      'www-authenticate': formatBearerChallenge(challenge),
    },
  });
}

/**
 * The RFC 9728 §3.1 metadata URL of a resource: the well-known segment is inserted between the origin
 * and the resource's path (`https://h/mcp` → `https://h/.well-known/oauth-protected-resource/mcp`).
 */
export function protectedResourceMetadataUrl(resource: string): string {
  const url = new URL(resource);
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '');
  return `${url.origin}/.well-known/oauth-protected-resource${path}`;
}

/** Reads the bearer token of the `Authorization` header (RFC 6750 §2.1), or `null`. */
export function readBearerToken(request: Request): string | null | 'malformed' {
  const header = request.headers.get('authorization');
  if (header === null) return null;
  const match = /^Bearer[ ]+([A-Za-z0-9\-._~+/]+=*)[ ]*$/i.exec(header);
  return match?.[1] ?? 'malformed';
}
