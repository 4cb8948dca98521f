import type { Core } from '../context.js';
import { AuthorizationRedirectError, OAuthError } from '../errors.js';

/** Ends a pending request with `access_denied` redirected to the client (RFC 6749 §4.1.2.1). */
export async function denyPending(core: Core, pendingId: string, reason: string): Promise<never> {
  const record = await core.pending.load(pendingId);
  if (!record) throw new OAuthError('access_denied', reason);
  await core.pending.delete(pendingId);
  core.config.onEvent({ type: 'authorization_denied', clientId: record.clientId, reason });
  throw new AuthorizationRedirectError('access_denied', reason, record.redirectUri, record.state);
}
