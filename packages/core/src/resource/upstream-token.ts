import type { Core } from '../context.js';
import { sha256 } from '../crypto/hash.js';
import { StorageUnavailableError, storageErrorEvent } from '../errors.js';
import type { TokenInfo, UpstreamToken, UpstreamTokenResult } from '../types.js';

const REFUSALS = {
  none: 'No upstream identity-provider token is attached to this grant.',
  expired: 'The upstream identity-provider token has expired; authorize again.',
  ended: 'The sign-in at the identity provider has ended; authorize again.',
  unavailable: 'The identity provider could not refresh the upstream token; try again.',
} as const;

/** What a caller (and a proxy's upstream) may see of an upstream token: never its refresh token. */
export const withoutRefresh = ({ refreshToken: _, ...token }: UpstreamToken): UpstreamToken => token;

/**
 * The current upstream IdP token of a caller `authenticate` verified: the grant's newest one (refreshed
 * or captured at login), refreshed at the IdP (single-flight) when it has expired, then remembered in
 * memory for that access token until shortly before it expires. An IdP that refuses the refresh token
 * for good ends the grant, so the client authorizes again.
 */
export async function currentUpstreamToken(core: Core, info: TokenInfo): Promise<UpstreamTokenResult> {
  const accessKey = await sha256(info.token);
  const recalled = core.upstreamTokens.recall(accessKey);
  if (recalled) return { ok: true, token: withoutRefresh(recalled) };
  try {
    const verified = await core.tokens.verifyAccess(info.token);
    if (!verified) return { ok: false, reason: 'The access token is invalid, expired or revoked.' };
    const current = await core.upstreamTokens.current(verified.grant, verified.secrets);
    if (current.ok) {
      core.upstreamTokens.remember(accessKey, verified.grant.id, current.token, verified.record.expiresAt);
      return { ok: true, token: withoutRefresh(current.token) };
    }
    if (current.problem === 'ended') {
      await core.tokens.revokeGrant(verified.grant.id, 'upstream session ended');
    }
    return { ok: false, reason: REFUSALS[current.problem] };
  } catch (error) {
    if (!(error instanceof StorageUnavailableError)) throw error;
    core.config.onEvent(storageErrorEvent(error));
    return { ok: false, reason: 'Token storage is unavailable; try again.' };
  }
}
