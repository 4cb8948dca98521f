import { readStreamBytes } from '../http/body.js';
import { isJsonObject } from '../validation/schema.js';

/** The fetch used for documents the server retrieves on a client's behalf (an injectable seam). */
export type DocumentFetch = (input: string, init: RequestInit) => Promise<Response>;

/** IPv4 literals in loopback, private, link-local, CGNAT, multicast and reserved ranges. */
function isSpecialIPv4(host: string): boolean {
  const parts = host.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return false;
  const [a, b] = parts as [number, number, number, number];
  return (
    a === 0 ||
    a === 10 ||
    a === 127 ||
    a >= 224 ||
    (a === 100 && b >= 64 && b <= 127) ||
    (a === 169 && b === 254) ||
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168) ||
    (a === 198 && (b === 18 || b === 19))
  );
}

/**
 * The URL rules for documents fetched on a client's behalf (Client ID Metadata Documents §3 and the
 * SSRF guard of §8.6, also applied to `jwks_uri`): https, a path, no fragment, no userinfo, no dot
 * segments, normalized, and no host that names this machine or a private network.
 */
export function publicDocumentUrlProblem(value: string): string | undefined {
  if (value.length > 2000) return 'the URL is too long';
  if (/[\s\\]/.test(value) || value.includes('#')) return 'the URL must not contain a fragment or whitespace';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'the URL is not valid';
  }
  if (url.protocol !== 'https:') return 'the URL must use https';
  if (url.username || url.password || /^https:\/\/[^/?#]*@/i.test(value))
    return 'the URL must not contain user information';
  if (url.pathname === '/' && !/^https:\/\/[^/]+\/./.test(value)) return 'the URL must have a path';
  if (/\/\.\.?(\/|$)/.test(value.replace(/[?#].*$/, '').slice(8)))
    return 'the URL must not contain dot segments';
  if (url.href !== value) return 'the URL must be in normalized form';
  const host = url.hostname.toLowerCase();
  if (
    host === 'localhost' ||
    /\.(localhost|local|internal|home\.arpa|lan)$/.test(host) ||
    host.startsWith('[') ||
    isSpecialIPv4(host) ||
    !host.includes('.')
  ) {
    return 'the URL must name a public host';
  }
  return undefined;
}

/** Limits of {@link fetchPublicJson}. */
export interface PublicFetchLimits {
  /** Largest body accepted, in bytes. */
  readonly maxBytes: number;
  /** Time allowed for the whole fetch, in ms. */
  readonly timeoutMs: number;
}

/**
 * Fetches a JSON object from a public https URL on a client's behalf: the SSRF guard first, no
 * redirects followed (only 200 is accepted), a size cap enforced while reading and a timeout.
 * Failures throw `problem(reason)`.
 */
export async function fetchPublicJson(
  doFetch: DocumentFetch,
  url: string,
  limits: PublicFetchLimits,
  problem: (reason: string) => Error,
  accept = 'application/json',
): Promise<{ body: Record<string, unknown>; headers: Headers }> {
  const urlProblem = publicDocumentUrlProblem(url);
  if (urlProblem) throw problem(urlProblem);
  let response: Response;
  // The timeout covers the headers and the body.
  const signal = AbortSignal.timeout(limits.timeoutMs);
  try {
    response = await doFetch(url, { headers: { accept }, redirect: 'manual', signal });
  } catch {
    throw problem('the document could not be fetched');
  }
  if (response.status !== 200) {
    await response.body?.cancel().catch(() => {});
    throw problem(`fetching the document answered HTTP ${response.status}`);
  }
  const tooLarge = () => problem(`the document is larger than ${limits.maxBytes} bytes`);
  if (Number(response.headers.get('content-length') ?? '0') > limits.maxBytes) {
    await response.body?.cancel().catch(() => {});
    throw tooLarge();
  }
  let bytes: Uint8Array | null;
  try {
    bytes = await readStreamBytes(response.body, limits.maxBytes);
  } catch {
    throw problem('the document could not be read in time');
  }
  if (bytes === null) throw tooLarge();
  let document: unknown;
  try {
    document = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw problem('the document is not valid JSON');
  }
  if (!isJsonObject(document)) throw problem('the document is not a JSON object');
  return { body: document, headers: response.headers };
}

/**
 * How long a fetched document may be reused, from its `Cache-Control` (RFC 9111 §5.2.2): `no-store`
 * or `no-cache` → 0, `max-age` → that many seconds, bounded by `maxSeconds`, which also applies when
 * the response says nothing.
 */
export function cacheLifetimeSeconds(headers: Headers, maxSeconds: number): number {
  const directives = (headers.get('cache-control') ?? '')
    .toLowerCase()
    .split(',')
    .map((d) => d.trim());
  if (directives.some((d) => d === 'no-store' || d === 'no-cache')) return 0;
  const maxAge = directives.find((d) => d.startsWith('max-age='));
  const seconds = maxAge ? Number.parseInt(maxAge.slice('max-age='.length), 10) : Number.NaN;
  return Number.isFinite(seconds) && seconds >= 0 ? Math.min(seconds, maxSeconds) : maxSeconds;
}
