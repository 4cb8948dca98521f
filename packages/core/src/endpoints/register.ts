import { hasSharedSecret } from '../clients/auth-methods.js';
import { validateMetadata } from '../clients/metadata.js';
import type { Core } from '../context.js';
import { sha256, timingSafeEqual } from '../crypto/hash.js';
import { jsonResponse, OAuthError } from '../errors.js';
import { readJsonObject } from '../http/body.js';
import { PREFIX } from '../stores/context.js';
import type { ClientRecord } from '../stores/schemas.js';
import { limitRegistrations } from './register-limits.js';
import { applyRegistrationPolicy, registrationBearer, requireInitialAccessToken } from './register-policy.js';
import { reuseFor } from './register-reuse.js';

/** The RFC 7591 §3.2.1 response body for a client: the metadata as registered (without secrets). */
function clientInformation(core: Core, client: ClientRecord): Record<string, unknown> {
  const info: Record<string, unknown> = {
    client_id: client.clientId,
    client_id_issued_at: client.issuedAt,
    redirect_uris: client.redirectUris,
    token_endpoint_auth_method: client.authMethod,
    token_endpoint_auth_methods_supported: client.authMethods,
    token_endpoint_auth_signing_alg: client.tokenEndpointAuthSigningAlg,
    jwks: client.jwks,
    jwks_uri: client.jwksUri,
    grant_types: client.grantTypes,
    response_types: client.responseTypes,
    application_type: client.applicationType,
    client_name: client.clientName,
    client_uri: client.clientUri,
    logo_uri: client.logoUri,
    scope: client.scope,
    contacts: client.contacts,
    tos_uri: client.tosUri,
    policy_uri: client.policyUri,
    software_id: client.softwareId,
    software_version: client.softwareVersion,
    dpop_bound_access_tokens: client.dpopBoundAccessTokens,
  };
  // RFC 7592 §3: only a client with a registration access token can be managed.
  if (client.registrationTokenHash !== undefined)
    info.registration_client_uri = core.endpoint(`/register/${encodeURIComponent(client.clientId)}`);
  if (hasSharedSecret(client)) info.client_secret_expires_at = 0;
  return Object.fromEntries(Object.entries(info).filter(([, v]) => v !== undefined));
}

/**
 * RFC 7591 §3: dynamic client registration. The metadata is narrowed to what this server supports
 * and the response says what was registered (§3.2.1); identical public re-registrations share a client.
 */
export async function register(core: Core, request: Request): Promise<Response> {
  await requireInitialAccessToken(core, request);
  const body = await readJsonObject(request);
  const fields = validateMetadata(core.clientMetadata, body);
  await applyRegistrationPolicy(core, { ...fields, request });
  const reuse = await reuseFor(core, fields);
  if (reuse?.client) return jsonResponse(clientInformation(core, reuse.client), 201);
  await limitRegistrations(core, request);
  const clientId = core.token('', 16);
  const secret = hasSharedSecret(fields) ? core.token(PREFIX.secret) : undefined;
  // A shared client has no manager: nobody may rewrite what several registrants use.
  const registrationToken = reuse?.share ? undefined : core.token(PREFIX.registration);
  const issuedAt = core.seconds();
  const client: ClientRecord = {
    clientId,
    ...fields,
    secretHash: secret ? await sha256(secret) : undefined,
    registrationTokenHash: registrationToken ? await sha256(registrationToken) : undefined,
    ...(reuse?.share ? { shared: true } : {}),
    issuedAt,
  };
  await core.clients.save(client);
  await reuse?.remember(client);
  core.config.onEvent({ type: 'client_registered', clientId, clientName: client.clientName });
  const info = clientInformation(core, client);
  if (secret) info.client_secret = secret;
  if (registrationToken) info.registration_access_token = registrationToken;
  return jsonResponse(info, 201);
}

/** RFC 7592 §2: read, update or delete a client with its registration access token. */
export async function manageClient(core: Core, request: Request, clientId: string): Promise<Response> {
  const client = await core.clients.registered(clientId);
  const token = registrationBearer(request);
  // RFC 7592 §2: an unknown client or a bad token are both 401, so client ids cannot be probed.
  const valid =
    client?.registrationTokenHash !== undefined &&
    token !== undefined &&
    (await timingSafeEqual(await sha256(token), client.registrationTokenHash));
  if (!client || !valid) {
    throw new OAuthError('invalid_token', 'The registration access token is missing or invalid', 401, {
      'WWW-Authenticate': 'Bearer error="invalid_token"',
    });
  }
  if (request.method === 'GET') return jsonResponse(clientInformation(core, client), 200);
  if (request.method === 'DELETE') {
    await core.clients.delete(clientId);
    core.config.onEvent({ type: 'client_deleted', clientId });
    return new Response(null, { status: 204 });
  }
  // PUT (RFC 7592 §2.2): the request replaces the metadata; client_id must match, secret is kept.
  const body = await readJsonObject(request);
  if (body.client_id !== clientId)
    throw new OAuthError('invalid_request', 'client_id in the body must match the URL');
  const fields = validateMetadata(core.clientMetadata, body);
  if (hasSharedSecret(fields) !== hasSharedSecret(client)) {
    throw new OAuthError('invalid_client_metadata', 'A client cannot change between public and confidential');
  }
  // The request replaces the metadata (§2.2): members it leaves out are not kept.
  const updated: ClientRecord = {
    clientId,
    ...fields,
    secretHash: client.secretHash,
    registrationTokenHash: client.registrationTokenHash,
    issuedAt: client.issuedAt,
    lastUsedAt: client.lastUsedAt,
  };
  await core.clients.update(updated);
  return jsonResponse(clientInformation(core, updated), 200);
}
