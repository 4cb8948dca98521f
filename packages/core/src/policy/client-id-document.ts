import type { Core } from '../context.js';
import { OAuthError } from '../errors.js';
import { readStreamBytes } from '../http.js';
import { type ClientRecord, clientRecord } from '../records.js';
import { validateMetadata } from './client-metadata.js';

/** Largest client ID metadata document accepted (draft-ietf-oauth-client-id-metadata-document-02 §8.7). */
const MAX_DOCUMENT_BYTES = 5 * 1024;
const FETCH_TIMEOUT_MS = 5000;

/** True when a client_id is a URL naming a Client ID Metadata Document (draft -02 §3). */
export const isClientIdUrl = (clientId: string): boolean => clientId.startsWith('https://');

const refuse = (reason: string) => new OAuthError('invalid_client', `Client ID metadata document: ${reason}`);

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
 * The client_id URL rules of draft -02 §3 and the SSRF guard of §8.6: https, a path, no fragment,
 * no userinfo, no dot segments, and no host that names this machine or a private network. `name` is the
 * parameter named in the problem (the same guard checks a client's `jwks_uri`).
 */
export function clientIdUrlProblem(clientId: string, name = 'client_id'): string | undefined {
  if (clientId.length > 2000) return `the ${name} URL is too long`;
  if (/[\s\\]/.test(clientId) || clientId.includes('#'))
    return `the ${name} URL must not contain a fragment or whitespace`;
  let url: URL;
  try {
    url = new URL(clientId);
  } catch {
    return `the ${name} is not a valid URL`;
  }
  if (url.protocol !== 'https:') return `the ${name} URL must use https`;
  if (url.username || url.password || /^https:\/\/[^/?#]*@/i.test(clientId))
    return `the ${name} URL must not contain user information`;
  if (url.pathname === '/' && !/^https:\/\/[^/]+\/./.test(clientId))
    return `the ${name} URL must have a path`;
  if (/\/\.\.?(\/|$)/.test(clientId.replace(/[?#].*$/, '').slice(8)))
    return `the ${name} URL must not contain dot segments`;
  if (url.href !== clientId) return `the ${name} URL must be in normalized form`;
  const host = url.hostname.toLowerCase();
  if (
    host === 'localhost' ||
    /\.(localhost|local|internal|home\.arpa|lan)$/.test(host) ||
    host.startsWith('[') ||
    isSpecialIPv4(host) ||
    !host.includes('.')
  ) {
    return `the ${name} URL must name a public host`;
  }
  return undefined;
}

/** Reads a response body up to `limit` bytes. */
async function readLimited(response: Response, limit: number): Promise<string> {
  const bytes = await readStreamBytes(response.body, limit);
  if (bytes === null) throw refuse(`the document is larger than ${limit} bytes`);
  return new TextDecoder().decode(bytes);
}

/** Fetches and validates a client ID metadata document into a client record (draft -02 §4, §5). */
async function fetchDocument(core: Core, clientId: string): Promise<ClientRecord> {
  const { fetch: doFetch } = core.config.clientIdMetadataDocuments;
  let response: Response;
  try {
    // §5: redirects are not followed and only 200 is accepted.
    response = await doFetch(clientId, {
      headers: { accept: 'application/json' },
      redirect: 'manual',
      signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
    });
  } catch {
    throw refuse('the document could not be fetched');
  }
  if (response.status !== 200) {
    await response.body?.cancel().catch(() => {});
    throw refuse(`fetching the document answered HTTP ${response.status}`);
  }
  let document: unknown;
  try {
    document = JSON.parse(await readLimited(response, MAX_DOCUMENT_BYTES));
  } catch (error) {
    if (error instanceof OAuthError) throw error;
    throw refuse('the document is not valid JSON');
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document))
    throw refuse('the document is not a JSON object');
  const body = document as Record<string, unknown>;
  // §4: the document names itself, and shared secrets make no sense for a published document.
  if (body.client_id !== clientId) throw refuse('its client_id does not match the URL it was fetched from');
  if ('client_secret' in body || 'client_secret_expires_at' in body)
    throw refuse('it must not contain a client secret');
  const method = body.token_endpoint_auth_method ?? 'none';
  if (method !== 'none') throw refuse('only token_endpoint_auth_method "none" is supported');
  let fields: ReturnType<typeof validateMetadata>;
  try {
    fields = validateMetadata(core, { ...body, token_endpoint_auth_method: 'none' });
  } catch (error) {
    throw refuse(error instanceof OAuthError ? error.description : 'invalid metadata');
  }
  return { clientId, ...fields, issuedAt: core.seconds() };
}

/**
 * Loads the client behind a client_id: a registered client, or a Client ID Metadata Document fetched
 * (and cached) when the client_id is an https URL. Returns `null` for unknown registered ids; throws
 * `invalid_client` when a document cannot be used.
 */
export async function loadClient(core: Core, clientId: string): Promise<ClientRecord | null> {
  if (!isClientIdUrl(clientId)) return core.records.get('client', clientId, clientRecord);
  const settings = core.config.clientIdMetadataDocuments;
  if (!settings.enabled) return null;
  const problem = clientIdUrlProblem(clientId);
  if (problem) throw refuse(problem);
  const cacheKey = `cimd:${await core.hash(clientId)}`;
  const cached = await core.records.get('cache', cacheKey, clientRecord);
  if (cached) return cached;
  const client = await fetchDocument(core, clientId);
  // §5.2: documents may be cached; a short default keeps revoked redirect URIs from lingering.
  await core.records.put('cache', cacheKey, client, core.now() + settings.cacheSeconds * 1000);
  return client;
}
