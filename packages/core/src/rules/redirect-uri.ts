import { isLoopbackHost } from './loopback.js';

/** Schemes never accepted as redirect targets: script execution, local files, non-HTTP transports. */
const FORBIDDEN_SCHEMES = new Set([
  'javascript:',
  'data:',
  'vbscript:',
  'file:',
  'blob:',
  'about:',
  'filesystem:',
  'ftp:',
  'ws:',
  'wss:',
  'mailto:',
  'tel:',
]);

const MAX_URI_LENGTH = 2000;

/**
 * Checks a redirect URI offered at registration. Returns a reason when it is unacceptable.
 *
 * - Absolute, no fragment (RFC 6749 §3.1.2), no userinfo (RFC 9700 §4.1.1 tricks), no wildcards.
 * - `https:` anywhere; `http:` on loopback only (RFC 8252 §7.3, OAuth 2.1 §8.4.2).
 * - Private-use schemes for native apps (RFC 8252 §7.1), minus schemes that run code or read files.
 */
export function redirectUriProblem(uri: string): string | undefined {
  if (uri.length > MAX_URI_LENGTH) return `is longer than ${MAX_URI_LENGTH} characters`;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point.
  if (/[\s\u0000-\u001f\u007f\\]/.test(uri)) return 'contains whitespace, control characters or backslashes';
  if (uri.includes('#')) return 'must not contain a fragment';
  if (uri.includes('*')) return 'must not contain wildcards';
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return 'is not an absolute URI';
  }
  if (FORBIDDEN_SCHEMES.has(url.protocol)) return `uses the forbidden scheme "${url.protocol}"`;
  if (url.username || url.password || /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*@/i.test(uri)) {
    return 'must not contain user information';
  }
  if (url.protocol === 'https:') return url.hostname ? undefined : 'must have a host';
  if (url.protocol === 'http:') {
    return isLoopbackHost(url.hostname)
      ? undefined
      : 'may use http only on a loopback host (127.0.0.0/8, [::1], localhost)';
  }
  // RFC 8252 §7.1: a private-use scheme for a native app; it must at least name a path or host.
  if (!/^[a-z][a-z0-9+.-]*:$/.test(url.protocol)) return 'has an invalid scheme';
  if (uri.length <= url.protocol.length) return 'has no path';
  return undefined;
}

/**
 * Matches the redirect URI of an authorization request against a registered one (RFC 6749 §3.1.2.3:
 * simple string comparison), except that for loopback IP redirects the port may differ (RFC 8252 §7.3).
 */
export function redirectUriMatches(registered: string, requested: string): boolean {
  if (registered === requested) return true;
  let a: URL;
  let b: URL;
  try {
    a = new URL(registered);
    b = new URL(requested);
  } catch {
    return false;
  }
  if (a.protocol !== 'http:' || b.protocol !== 'http:' || !isLoopbackHost(a.hostname)) return false;
  if (a.hostname !== b.hostname || a.username || b.username || a.password || b.password) return false;
  // Everything but the port must be identical, compared on the raw strings to avoid normalisation tricks.
  const withoutPort = (u: URL, raw: string) => raw.replace(`${u.hostname}:${u.port}`, u.hostname);
  return withoutPort(a, registered) === withoutPort(b, requested);
}
