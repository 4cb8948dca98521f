/** The Bearer scheme of RFC 6750 as the resource side reads and writes it. */
import { headerOf } from '../http/header-fields.js';

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
export const quote = (value: string): string => `"${value.replace(/["\\\r\n]/g, '')}"`;

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
  const read = readAccessToken(request);
  return read === null || read === 'malformed' ? read : read.scheme === 'Bearer' ? read.token : 'malformed';
}

/** An access token as sent in `Authorization`, with its scheme. */
export interface PresentedToken {
  /** `Bearer` (RFC 6750 §2.1) or `DPoP` (RFC 9449 §7.1). */
  readonly scheme: 'Bearer' | 'DPoP';
  readonly token: string;
}

/** Reads the access token of the `Authorization` header in the Bearer or DPoP scheme: `null` when absent. */
export function readAccessToken(request: Request): PresentedToken | null | 'malformed' {
  const header = headerOf(request, 'authorization');
  if (header === null || header.trim() === '') return null;
  // RFC 6750 §2.1 and RFC 9449 §7.1: one token68 after the scheme name (case-insensitive).
  const match = /^(Bearer|DPoP)[ ]+([A-Za-z0-9\-._~+/]+=*)[ ]*$/i.exec(header);
  if (!match) return 'malformed';
  return { scheme: match[1]!.toLowerCase() === 'dpop' ? 'DPoP' : 'Bearer', token: match[2]! };
}
