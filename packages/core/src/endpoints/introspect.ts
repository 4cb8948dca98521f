import { authenticateClient } from '../clients/authenticate.js';
import type { Core } from '../context.js';
import { jsonResponse, OAuthError } from '../errors.js';
import { readForm } from '../http/body.js';
import { formatScope } from '../rules/scope.js';

/**
 * RFC 7662 introspection for confidential clients, answering only about tokens issued to the caller;
 * everything else is `{ active: false }` (§2.2).
 */
export async function introspect(core: Core, request: Request): Promise<Response> {
  const form = await readForm(request);
  // RFC 7662 §2.1: the caller authenticates; a public client cannot.
  const client = await authenticateClient(core, request, form, { allowPublic: false });
  const token = form.get('token');
  if (!token) throw new OAuthError('invalid_request', 'The token parameter is missing');
  const found = await core.tokens.find(token, form.get('token_type_hint'));
  const grant = found ? await core.grants.get(found.record.grantId) : null;
  if (!found || !grant || found.record.clientId !== client.clientId) return jsonResponse({ active: false });
  return jsonResponse({
    active: true,
    scope: formatScope(found.record.scopes),
    client_id: found.record.clientId,
    sub: grant.userId,
    aud: found.record.resource,
    iss: core.config.issuer,
    exp: Math.floor(found.record.expiresAt / 1000),
    token_type: found.kind === 'refresh' ? 'refresh_token' : found.record.jkt ? 'DPoP' : 'Bearer',
    // RFC 8693 §4.1: a delegated token names its acting party.
    ...(found.record.act ? { act: found.record.act } : {}),
    // RFC 9449 §6.2: the key a bound token is confirmed by.
    ...(found.record.jkt ? { cnf: { jkt: found.record.jkt } } : {}),
  });
}
