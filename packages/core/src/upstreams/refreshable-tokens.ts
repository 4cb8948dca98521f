import type { Core } from '../context.js';
import { sha256 } from '../crypto/hash.js';
import { UPSTREAM_TOKEN_REFUSALS, withoutRefresh } from '../resource/upstream-token.js';
import { UpstreamTokenStore } from '../stores/upstream-tokens.js';
import { invalidGrant } from '../token/params.js';
import type { UpstreamTokenIdp, UpstreamTokenKeeper, UpstreamTokenSupport } from '../upstream.js';

const REFUSALS = {
  ...UPSTREAM_TOKEN_REFUSALS,
  ended: 'The sign-in at the identity provider has ended; authorize again.',
  unavailable: 'The identity provider could not refresh the upstream token; try again.',
} as const;

/**
 * Keeps the IdP tokens an identity upstream captured at login current, for its `upstreamTokens`: a
 * token that has expired is refreshed at the IdP (single-flight across instances), the client's own
 * refresh refreshes it too, and revoking a grant revokes its token at the IdP (RFC 7009). An IdP that
 * refuses the refresh token for good ends the grant, so the client authorizes again. The OAuth 2 and
 * OIDC upstreams use it; a custom upstream whose IdP issues refresh tokens can too.
 *
 * @example
 * ```ts
 * const upstream: IdentityUpstream = {
 *   ...myLogin,
 *   upstreamTokens: refreshableUpstreamTokens({ refresh: (token, now) => refreshAtMyIdp(token, now) }),
 * };
 * ```
 */
export function refreshableUpstreamTokens(idp: UpstreamTokenIdp): UpstreamTokenSupport {
  return (core) => keeper(core, new UpstreamTokenStore(core, core.grants, idp));
}

function keeper(core: Core, store: UpstreamTokenStore): UpstreamTokenKeeper {
  const ended = (grantId: string) => core.tokens.revokeGrant(grantId, 'upstream session ended');
  return {
    // The grant's newest token (refreshed or captured at login), remembered in memory for the access
    // token until shortly before it expires.
    async current(info) {
      const accessKey = await sha256(info.token);
      const recalled = store.recall(accessKey);
      if (recalled) return { ok: true, token: withoutRefresh(recalled) };
      const verified = await core.tokens.verifyAccess(info.token);
      if (!verified) return { ok: false, reason: REFUSALS.invalid };
      const current = await store.current(verified.grant, verified.secrets);
      if (current.ok) {
        store.remember(accessKey, verified.grant.id, current.token, verified.record.expiresAt);
        return { ok: true, token: withoutRefresh(current.token) };
      }
      if (current.problem === 'ended') await ended(verified.grant.id);
      return { ok: false, reason: REFUSALS[current.problem] };
    },
    // Skipped when the token was obtained within the last minute; an IdP that cannot answer now ends nothing.
    async clientRefreshed(grant) {
      const secrets = await core.grants.open(grant);
      if (!secrets?.upstreamToken) return;
      const refreshed = await store.refreshForClient(grant, secrets);
      if (refreshed && !refreshed.ok && refreshed.problem === 'ended') {
        await ended(grant.id);
        throw invalidGrant('The sign-in at the identity provider has ended; authorize again');
      }
    },
    async revoking(grantId) {
      const token = await store.forRevocation(grantId);
      return async () => {
        await store.forget(grantId);
        if (token) await store.revokeAtIdp(token);
      };
    },
  };
}
