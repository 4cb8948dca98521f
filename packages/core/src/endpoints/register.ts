import { z } from 'zod';
import type { Core } from '../context.js';
import { PREFIX } from '../context.js';
import { timingSafeEqual } from '../crypto/hash.js';
import { OAuthError, jsonResponse } from '../errors.js';
import { CORS_HEADERS, readJsonObject } from '../http.js';
import { redirectUriProblem } from '../policy/redirect-uri.js';
import { type ClientRecord, clientRecord } from '../records.js';

const MAX_REDIRECT_URIS = 10;
const text = (max: number) => z.string().max(max);
const httpsUri = z
  .string()
  .max(2000)
  .refine((v) => {
    try {
      const url = new URL(v);
      return url.protocol === 'https:' || url.protocol === 'http:';
    } catch {
      return false;
    }
  }, 'must be an http(s) URL');

/** RFC 7591 §2 client metadata this server accepts; unknown fields are ignored (§3.1). */
const metadataSchema = z.object({
  redirect_uris: z.array(z.string()).min(1).max(MAX_REDIRECT_URIS),
  token_endpoint_auth_method: z.enum(['none', 'client_secret_basic', 'client_secret_post']).optional(),
  grant_types: z
    .array(z.enum(['authorization_code', 'refresh_token']))
    .min(1)
    .optional(),
  response_types: z.array(z.literal('code')).min(1).optional(),
  client_name: text(200).optional(),
  client_uri: httpsUri.optional(),
  logo_uri: httpsUri.optional(),
  scope: text(1000).optional(),
  contacts: z.array(text(320)).max(10).optional(),
  tos_uri: httpsUri.optional(),
  policy_uri: httpsUri.optional(),
  software_id: text(200).optional(),
  software_version: text(100).optional(),
});

/** Validates RFC 7591 metadata and returns the client record fields it determines. */
function validateMetadata(core: Core, body: Record<string, unknown>) {
  const redirects = body.redirect_uris;
  if (Array.isArray(redirects)) {
    if (redirects.length > MAX_REDIRECT_URIS) {
      throw new OAuthError(
        'invalid_redirect_uri',
        `At most ${MAX_REDIRECT_URIS} redirect URIs may be registered`,
      );
    }
    for (const uri of redirects) {
      if (typeof uri !== 'string')
        throw new OAuthError('invalid_redirect_uri', 'Every redirect URI must be a string');
      const problem = redirectUriProblem(uri);
      // RFC 7591 §3.2.2: invalid_redirect_uri names the offending value's problem.
      if (problem)
        throw new OAuthError(
          'invalid_redirect_uri',
          `The redirect URI ${JSON.stringify(uri.slice(0, 200))} ${problem}`,
        );
    }
  } else if (redirects === undefined) {
    throw new OAuthError(
      'invalid_redirect_uri',
      'redirect_uris is required for the authorization code grant',
    );
  }
  const parsed = metadataSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.join('.') || 'metadata';
    throw new OAuthError('invalid_client_metadata', `Invalid ${field}: ${issue?.message ?? 'invalid value'}`);
  }
  const m = parsed.data;
  if (body.jwks !== undefined || body.jwks_uri !== undefined) {
    throw new OAuthError(
      'invalid_client_metadata',
      'jwks and jwks_uri are not supported (no private_key_jwt)',
    );
  }
  const grantTypes = m.grant_types ?? ['authorization_code'];
  if (!grantTypes.includes('authorization_code')) {
    throw new OAuthError('invalid_client_metadata', 'grant_types must include authorization_code');
  }
  if (m.scope !== undefined) {
    const unknown = m.scope.split(' ').filter((s) => s && !core.config.scopesSupported.includes(s));
    if (unknown.length)
      throw new OAuthError('invalid_client_metadata', `Unsupported scope: ${unknown.join(' ')}`);
  }
  return {
    // RFC 7591 §2: the default token_endpoint_auth_method is client_secret_basic.
    authMethod: m.token_endpoint_auth_method ?? 'client_secret_basic',
    redirectUris: m.redirect_uris,
    grantTypes,
    responseTypes: m.response_types ?? ['code'],
    clientName: m.client_name,
    clientUri: m.client_uri,
    logoUri: m.logo_uri,
    scope: m.scope,
    contacts: m.contacts,
    tosUri: m.tos_uri,
    policyUri: m.policy_uri,
    softwareId: m.software_id,
    softwareVersion: m.software_version,
  } satisfies Partial<ClientRecord>;
}

/** The RFC 7591 §3.2.1 response body for a client (without secrets). */
function clientInformation(core: Core, client: ClientRecord): Record<string, unknown> {
  const info: Record<string, unknown> = {
    client_id: client.clientId,
    client_id_issued_at: client.issuedAt,
    redirect_uris: client.redirectUris,
    token_endpoint_auth_method: client.authMethod,
    grant_types: client.grantTypes,
    response_types: client.responseTypes,
    client_name: client.clientName,
    client_uri: client.clientUri,
    logo_uri: client.logoUri,
    scope: client.scope,
    contacts: client.contacts,
    tos_uri: client.tosUri,
    policy_uri: client.policyUri,
    software_id: client.softwareId,
    software_version: client.softwareVersion,
    registration_client_uri: core.endpoint(`/register/${encodeURIComponent(client.clientId)}`),
  };
  if (client.authMethod !== 'none') info.client_secret_expires_at = 0;
  return Object.fromEntries(Object.entries(info).filter(([, v]) => v !== undefined));
}

/** Limits registrations per client IP per hour, when the adapter tells the IP. */
async function limitRegistrations(core: Core, request: Request): Promise<void> {
  const ip = core.config.clientIp(request);
  if (!ip) return;
  const hour = 3_600_000;
  const window = Math.floor(core.now() / hour);
  const count = await core.records.increment('counter', `register:${ip}:${window}`, (window + 1) * hour);
  if (count > core.config.registration.maxPerHour) {
    throw new OAuthError(
      'invalid_request',
      'Too many client registrations from this address; try again later',
      429,
      {
        'Retry-After': String(Math.ceil(((window + 1) * hour - core.now()) / 1000)),
      },
    );
  }
}

/** RFC 7591 §3: dynamic client registration. */
export async function register(core: Core, request: Request): Promise<Response> {
  const body = await readJsonObject(request);
  const fields = validateMetadata(core, body);
  await limitRegistrations(core, request);
  const clientId = core.token('', 16);
  const secret = fields.authMethod === 'none' ? undefined : core.token(PREFIX.secret);
  const registrationToken = core.token(PREFIX.registration);
  const client: ClientRecord = {
    clientId,
    ...fields,
    secretHash: secret ? await core.hash(secret) : undefined,
    registrationTokenHash: await core.hash(registrationToken),
    issuedAt: core.seconds(),
  };
  await core.records.put('client', clientId, client, null);
  core.config.onEvent({ type: 'client_registered', clientId, clientName: client.clientName });
  const info = clientInformation(core, client);
  if (secret) info.client_secret = secret;
  info.registration_access_token = registrationToken;
  return jsonResponse(info, 201, CORS_HEADERS);
}

/** RFC 7592 §2: read, update or delete a client with its registration access token. */
export async function manageClient(core: Core, request: Request, clientId: string): Promise<Response> {
  const client = await core.records.get('client', clientId, clientRecord);
  const token = /^Bearer ([\x21-\x7e]+)$/i.exec(request.headers.get('authorization') ?? '')?.[1];
  // RFC 7592 §2: an unknown client or a bad token are both 401, so client ids cannot be probed.
  const valid =
    client?.registrationTokenHash !== undefined &&
    token !== undefined &&
    (await timingSafeEqual(await core.hash(token), client.registrationTokenHash));
  if (!client || !valid) {
    throw new OAuthError('invalid_token', 'The registration access token is missing or invalid', 401, {
      'WWW-Authenticate': 'Bearer error="invalid_token"',
    });
  }
  if (request.method === 'GET') return jsonResponse(clientInformation(core, client), 200, CORS_HEADERS);
  if (request.method === 'DELETE') {
    await core.records.delete('client', clientId);
    core.config.onEvent({ type: 'client_deleted', clientId });
    return new Response(null, { status: 204, headers: CORS_HEADERS });
  }
  // PUT (RFC 7592 §2.2): the request replaces the metadata; client_id must match, secret is kept.
  const body = await readJsonObject(request);
  if (body.client_id !== clientId)
    throw new OAuthError('invalid_request', 'client_id in the body must match the URL');
  const fields = validateMetadata(core, body);
  if ((fields.authMethod === 'none') !== (client.authMethod === 'none')) {
    throw new OAuthError('invalid_client_metadata', 'A client cannot change between public and confidential');
  }
  const updated: ClientRecord = { ...client, ...fields };
  await core.records.put('client', clientId, updated, null);
  return jsonResponse(clientInformation(core, updated), 200, CORS_HEADERS);
}
