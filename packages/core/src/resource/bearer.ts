/** The Bearer scheme of RFC 6750 as the resource side reads and writes it. */

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

/** Reads the bearer token of the `Authorization` header (RFC 6750 §2.1): `null` when absent. */
export function readBearerToken(request: Request): string | null | 'malformed' {
  const header = request.headers.get('authorization');
  if (header === null || header.trim() === '') return null;
  const match = /^Bearer[ ]+([A-Za-z0-9\-._~+/]+=*)[ ]*$/i.exec(header);
  return match?.[1] ?? 'malformed';
}
