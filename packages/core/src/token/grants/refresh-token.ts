import { issueTokenResponse } from '../issue.js';
import { checkTokenResource, invalidGrant, refreshedScopes, requiredParam } from '../params.js';
import { acceptRefreshRepeat, presentedCredential } from '../reuse.js';
import type { GrantType } from './types.js';

/**
 * The refresh token grant (RFC 6749 §6, OAuth 2.1 §4.3): refresh tokens rotate on every use. Replay
 * rule: reuse of a rotated refresh token revokes the whole grant (RFC 9700 §4.14.2), except a repeat by
 * the same client within the reuse interval, which gets the same successor tokens (`../reuse.ts`).
 */
export const refreshTokenGrant: GrantType = {
  name: 'refresh_token',
  enabled: () => true,
  async handle({ core, form, client, binding }) {
    const refreshToken = requiredParam(form, 'refresh_token');
    // Check the client before consuming, so a token replayed by a stranger cannot burn the real client's.
    const peek = await core.tokens.peekRefresh(refreshToken);
    if (!peek) throw invalidGrant('The refresh token is invalid or expired');
    if (peek.clientId !== client.clientId)
      throw invalidGrant('The refresh token was issued to another client');
    // RFC 9449 §5: a DPoP-bound refresh token is used only with a proof of the same key.
    if (peek.jkt !== undefined && peek.jkt !== binding?.jkt)
      throw invalidGrant('The refresh token is DPoP-bound: send a DPoP proof made with its key');

    const consumed = await core.tokens.consumeRefresh(refreshToken);
    if (!consumed) throw invalidGrant('The refresh token is invalid or expired');
    const repeat = acceptRefreshRepeat(core, consumed, client);
    if (consumed.status === 'already_consumed' && !repeat) {
      // OAuth 2.1 §4.3.1 / RFC 9700 §4.14.2: reuse of a rotated refresh token revokes the whole grant.
      core.config.onEvent({
        type: 'replay_detected',
        what: 'refresh_token',
        clientId: client.clientId,
        grantId: peek.grantId,
      });
      await core.tokens.revokeGrant(peek.grantId, 'refresh token reuse');
      throw invalidGrant('The refresh token was already used; the authorization has been revoked');
    }
    const grant = await core.grants.get(consumed.record.grantId);
    if (!grant) throw invalidGrant('The authorization was revoked');
    checkTokenResource(form, grant.resource);
    const scopes = refreshedScopes(core, form, grant.scopes, consumed.record.scopes);
    await core.upstreamTokens?.clientRefreshed(grant);
    const presented = presentedCredential(refreshToken, consumed.record);
    return issueTokenResponse(core, grant, scopes, true, 'refresh_token', presented, {
      binding,
    });
  },
};
