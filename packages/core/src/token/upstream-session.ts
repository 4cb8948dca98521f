import type { Core } from '../context.js';
import type { GrantRecord } from '../stores/schemas.js';
import { invalidGrant } from './params.js';

/**
 * On the client's own refresh, refreshes the grant's upstream IdP token too (single-flight; skipped when
 * it was obtained within the last minute). An IdP that refuses the refresh token for good (`invalid_grant`:
 * the user signed out, was removed or revoked access there) ends this grant as well, so the client signs
 * in again; an IdP that cannot answer now ends nothing.
 */
export async function refreshUpstreamSession(core: Core, grant: GrantRecord): Promise<void> {
  if (!core.config.upstream.refreshUpstreamToken) return;
  const secrets = await core.grants.open(grant);
  if (!secrets?.upstreamToken) return;
  const refreshed = await core.upstreamTokens.refreshForClient(grant, secrets);
  if (refreshed && !refreshed.ok && refreshed.problem === 'ended') {
    await core.tokens.revokeGrant(grant.id, 'upstream session ended');
    throw invalidGrant('The sign-in at the identity provider has ended; authorize again');
  }
}
