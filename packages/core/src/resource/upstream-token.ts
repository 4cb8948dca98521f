import type { Core } from '../context.js';
import { StorageUnavailableError, storageErrorEvent } from '../errors.js';
import type { TokenInfo, UpstreamToken, UpstreamTokenResult } from '../types.js';

/** Why a caller has no upstream token, for the 401 `error_description`. */
export const UPSTREAM_TOKEN_REFUSALS = {
  invalid: 'The access token is invalid, expired or revoked.',
  none: 'No upstream identity-provider token is attached to this grant.',
  expired: 'The upstream identity-provider token has expired; authorize again.',
} as const;

/** A token is refreshed this long before it expires, so it does not die on its way upstream. */
export const EXPIRY_SKEW_MS = 30_000;

/** Whether an upstream token is still usable at `now` (a token without expiry always is). */
export const upstreamTokenFresh = (token: UpstreamToken, now: number): boolean =>
  token.expiresAt === undefined || token.expiresAt * 1000 > now + EXPIRY_SKEW_MS;

/** What a caller (and a proxy's upstream) may see of an upstream token: never its refresh token. */
export const withoutRefresh = ({ refreshToken: _, ...token }: UpstreamToken): UpstreamToken => token;

/**
 * The current upstream IdP token of a caller `authenticate` verified: what the identity upstream's
 * `upstreamTokens` support gives (refreshed at the IdP when it has expired), else the token captured at
 * login while it has not expired.
 */
export async function currentUpstreamToken(core: Core, info: TokenInfo): Promise<UpstreamTokenResult> {
  try {
    return await (core.upstreamTokens?.current(info) ?? loginUpstreamToken(core, info));
  } catch (error) {
    if (!(error instanceof StorageUnavailableError)) throw error;
    core.config.onEvent(storageErrorEvent(error));
    return { ok: false, reason: 'Token storage is unavailable; try again.' };
  }
}

/** The upstream token captured at login of a live access token, while it has not expired. */
async function loginUpstreamToken(core: Core, info: TokenInfo): Promise<UpstreamTokenResult> {
  const verified = await core.tokens.verifyAccess(info.token);
  if (!verified) return { ok: false, reason: UPSTREAM_TOKEN_REFUSALS.invalid };
  const token = verified.secrets.upstreamToken as UpstreamToken | undefined;
  if (!token?.accessToken) return { ok: false, reason: UPSTREAM_TOKEN_REFUSALS.none };
  return upstreamTokenFresh(token, core.now())
    ? { ok: true, token: withoutRefresh(token) }
    : { ok: false, reason: UPSTREAM_TOKEN_REFUSALS.expired };
}
