import { OAuthError } from '../errors.js';
import type { StoreContext } from '../stores/context.js';
import type { ClientRecord } from '../stores/schemas.js';
import { SECRET_METHODS } from './auth-methods.js';
import { cacheLifetimeSeconds, fetchPublicJson, publicDocumentUrlProblem } from './guarded-fetch.js';
import { type ClientMetadata, validateMetadata } from './metadata.js';

/** Largest client ID metadata document accepted (draft-ietf-oauth-client-id-metadata-document §8.7). */
const MAX_DOCUMENT_BYTES = 5 * 1024;
const FETCH_TIMEOUT_MS = 5000;

/** True when a client_id is a URL naming a Client ID Metadata Document (draft §3). */
export const isClientIdUrl = (clientId: string): boolean => clientId.startsWith('https://');

/** Why a URL cannot be a client_id (draft §3 and the SSRF guard of §8.6), or `undefined`. */
export const clientIdUrlProblem = (clientId: string): string | undefined => {
  const problem = publicDocumentUrlProblem(clientId);
  return problem?.replace(/^the URL/, 'the client_id URL');
};

const refuse = (reason: string) => new OAuthError('invalid_client', `Client ID metadata document: ${reason}`);

/**
 * Fetches and validates a client ID metadata document into a client record (draft §4, §5), with how
 * long it may be cached: its HTTP cache headers, at most `cacheSeconds` (draft §5.2).
 */
export async function fetchClientDocument(
  ctx: StoreContext,
  clientId: string,
): Promise<{ client: ClientRecord; cacheSeconds: number }> {
  const problem = clientIdUrlProblem(clientId);
  if (problem) throw refuse(problem);
  const { body, headers } = await fetchPublicJson(
    ctx.config.clientIdMetadataDocuments.fetch,
    clientId,
    { maxBytes: MAX_DOCUMENT_BYTES, timeoutMs: FETCH_TIMEOUT_MS },
    refuse,
  );
  // §4: the document names itself, and shared secrets make no sense for a published document.
  if (body.client_id !== clientId) throw refuse('its client_id does not match the URL it was fetched from');
  if ('client_secret' in body || 'client_secret_expires_at' in body)
    throw refuse('it must not contain a client secret');
  const method = body.token_endpoint_auth_method;
  if (typeof method === 'string' && (SECRET_METHODS as readonly string[]).includes(method))
    throw refuse(`a published document cannot use the shared-secret method ${method}`);
  let fields: ClientMetadata;
  try {
    // The same tolerant rules as registration; a document without a method is a public client.
    fields = validateMetadata(ctx.clientMetadata, body, 'none');
  } catch (error) {
    throw refuse(error instanceof OAuthError ? error.description : 'invalid metadata');
  }
  const cacheSeconds = cacheLifetimeSeconds(headers, ctx.config.clientIdMetadataDocuments.cacheSeconds);
  return { client: { clientId, ...fields, issuedAt: Math.floor(ctx.now() / 1000) }, cacheSeconds };
}
