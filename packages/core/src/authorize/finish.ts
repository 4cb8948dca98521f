import type { Core } from '../context.js';
import { OAuthError } from '../errors.js';
import { redirectToClient } from '../http/redirect.js';
import type { PendingRecord } from '../stores/schemas.js';
import type { Identity } from '../types.js';

/**
 * Issues the authorization code for an approved request: claims the pending request (single use),
 * creates the grant, remembers consent and redirects with `code`, `state` and `iss` (RFC 6749 §4.1.2,
 * RFC 9207 §2).
 */
export async function finishAuthorization(
  core: Core,
  pendingId: string,
  pending: PendingRecord,
  identity: Identity,
): Promise<Response> {
  // Of two concurrent submits of one form, only one mints a code.
  if (!(await core.pending.claim(pendingId))) {
    throw new OAuthError(
      'invalid_request',
      'This authorization request was already completed; start again from the application',
    );
  }
  const grant = await core.grants.create({
    clientId: pending.clientId,
    userId: identity.userId,
    scopes: pending.scopes,
    resource: pending.resource,
    secrets: {
      email: identity.email,
      name: identity.name,
      props: { ...(identity.props ?? {}) },
      upstreamToken: identity.upstreamToken ? { ...identity.upstreamToken } : undefined,
    },
  });
  const code = await core.codes.create({
    grantId: grant.id,
    clientId: pending.clientId,
    redirectUri: pending.redirectUri,
    redirectUriSent: pending.redirectUriSent !== false,
    codeChallenge: pending.codeChallenge,
  });
  await core.consents.remember(identity.userId, pending);
  core.config.onEvent({
    type: 'authorization_granted',
    clientId: pending.clientId,
    userId: identity.userId,
    scopes: pending.scopes,
    resource: pending.resource,
  });
  return redirectToClient(core.config.issuer, pending.redirectUri, { code, state: pending.state });
}
