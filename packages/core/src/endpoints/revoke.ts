import { authenticateClient } from '../clients/authenticate.js';
import type { Core } from '../context.js';
import { OAuthError } from '../errors.js';
import { readForm } from '../http/body.js';

/**
 * RFC 7009 token revocation. Revoking a refresh token revokes its whole grant (§2.1); revoking an
 * access token revokes that token. Unknown tokens get 200 (§2.2).
 */
export async function revoke(core: Core, request: Request): Promise<Response> {
  const form = await readForm(request);
  const client = await authenticateClient(core, request, form);
  const token = form.get('token');
  if (!token) throw new OAuthError('invalid_request', 'The token parameter is missing');
  const found = await core.tokens.find(token, form.get('token_type_hint'));
  if (found) {
    if (found.record.clientId !== client.clientId) {
      // RFC 7009 §2.1: the token must have been issued to the requesting client.
      throw new OAuthError('unauthorized_client', 'The token was not issued to this client');
    }
    if (found.kind === 'refresh')
      await core.tokens.revokeGrant(found.record.grantId, 'refresh token revoked');
    else await core.tokens.revokeAccess(found, token);
    core.config.onEvent({ type: 'token_revoked', clientId: client.clientId, grantId: found.record.grantId });
  }
  return new Response(null, { status: 200, headers: { 'Cache-Control': 'no-store' } });
}
