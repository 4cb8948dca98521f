import type { Core } from '../context.js';
import { jsonResponse, OAuthError } from '../errors.js';
import { revokeGrant } from '../grant.js';
import { CORS_HEADERS, readForm } from '../http.js';
import { authenticateClient } from '../policy/client-auth.js';
import { grantRecord, type TokenRecord, tokenRecord } from '../records.js';

type Found = { kind: 'access' | 'refresh'; key: string; record: TokenRecord };

/** Finds an access or refresh token by its hash, trying the hinted kind first (RFC 7009 §2.1). */
export async function findToken(core: Core, token: string, hint: string | undefined): Promise<Found | null> {
  const key = await core.hash(token);
  const order: ('access' | 'refresh')[] =
    hint === 'refresh_token' ? ['refresh', 'access'] : ['access', 'refresh'];
  for (const kind of order) {
    const record = await core.records.get(kind, key, tokenRecord);
    if (record && record.expiresAt > core.now()) return { kind, key, record };
  }
  return null;
}

/**
 * RFC 7009 token revocation. Revoking a refresh token revokes its whole grant (§2.1); revoking an
 * access token revokes that token. Unknown tokens get 200 (§2.2).
 */
export async function revoke(core: Core, request: Request): Promise<Response> {
  const form = await readForm(request);
  const client = await authenticateClient(core, request, form);
  const token = form.get('token');
  if (!token) throw new OAuthError('invalid_request', 'The token parameter is missing');
  const found = await findToken(core, token, form.get('token_type_hint'));
  if (found) {
    if (found.record.clientId !== client.clientId) {
      // RFC 7009 §2.1: the token must have been issued to the requesting client.
      throw new OAuthError('unauthorized_client', 'The token was not issued to this client');
    }
    if (found.kind === 'refresh') await revokeGrant(core, found.record.grantId, 'refresh token revoked');
    else {
      await core.records.delete('access', found.key);
      core.tokenCache?.delete(found.key);
    }
    core.config.onEvent({ type: 'token_revoked', clientId: client.clientId, grantId: found.record.grantId });
  }
  return new Response(null, { status: 200, headers: { ...CORS_HEADERS, 'Cache-Control': 'no-store' } });
}

/**
 * RFC 7662 introspection for confidential clients, answering only about tokens issued to the caller;
 * everything else is `{ active: false }` (§2.2).
 */
export async function introspect(core: Core, request: Request): Promise<Response> {
  const form = await readForm(request);
  const client = await authenticateClient(core, request, form);
  if (client.authMethod === 'none')
    throw new OAuthError('invalid_client', 'Introspection requires a confidential client', 401);
  const token = form.get('token');
  if (!token) throw new OAuthError('invalid_request', 'The token parameter is missing');
  const found = await findToken(core, token, form.get('token_type_hint'));
  const grant = found ? await core.records.get('grant', found.record.grantId, grantRecord) : null;
  if (!found || !grant || found.record.clientId !== client.clientId) return jsonResponse({ active: false });
  return jsonResponse({
    active: true,
    scope: found.record.scopes.join(' '),
    client_id: found.record.clientId,
    sub: grant.userId,
    aud: found.record.resource,
    iss: core.config.issuer,
    exp: Math.floor(found.record.expiresAt / 1000),
    token_type: found.kind === 'access' ? 'Bearer' : 'refresh_token',
  });
}
