import type { Core } from '../../context.js';
import { OAuthError } from '../../errors.js';
import { verifierMatches, verifierProblem } from '../../rules/pkce.js';
import type { ClientRecord, CodeRecord, GrantRecord } from '../../stores/schemas.js';
import { issueTokenResponse } from '../issue.js';
import { checkTokenResource, invalidGrant, requiredParam } from '../params.js';
import { acceptRedemptionRetry, presentedCredential } from '../reuse.js';
import type { GrantType } from './types.js';

/**
 * The authorization code grant (RFC 6749 §4.1.3, OAuth 2.1 §4.1.3): a single-use code, bound to the
 * client, the redirect URI and the PKCE challenge. Replay rule: a code used twice revokes its grant,
 * except a retry of a lost redemption within the reuse interval (same client, redirect URI and PKCE
 * verifier), which gets the same tokens (`../reuse.ts`).
 */
export const authorizationCodeGrant: GrantType = {
  name: 'authorization_code',
  enabled: () => true,
  async handle({ core, form, client, binding }) {
    const code = requiredParam(form, 'code');
    const redirectUri = form.get('redirect_uri');
    const verifier = form.get('code_verifier');
    const problem = verifierProblem(verifier);
    if (problem) throw new OAuthError('invalid_request', problem);

    const consumed = await core.codes.consume(code);
    if (!consumed) throw invalidGrant('The authorization code is invalid or expired');
    const record = consumed.record;
    const retry = await acceptRedemptionRetry(core, code, consumed, client, redirectUri, verifier);
    if (consumed.status === 'already_consumed' && !retry) {
      // RFC 6749 §4.1.2: a code used twice revokes the tokens it issued.
      core.config.onEvent({
        type: 'replay_detected',
        what: 'authorization_code',
        clientId: record.clientId,
        grantId: record.grantId,
      });
      await core.tokens.revokeGrant(record.grantId, 'authorization code replay');
      throw invalidGrant('The authorization code was already used');
    }
    // A redemption refused once the code is consumed leaves it burnt: no later attempt is a retry.
    const grant = await redeemableGrant(core, record, client, form).catch(async (error: unknown) => {
      await core.codes.refuseRetries(code);
      throw error;
    });
    const withRefresh = client.grantTypes.includes('refresh_token');
    const presented = presentedCredential(code, record);
    return issueTokenResponse(core, grant, grant.scopes, withRefresh, 'authorization_code', presented, {
      binding,
    });
  },
};

/** Checks a consumed code against the request (expiry, client, redirect URI, PKCE) and finds its grant. */
async function redeemableGrant(
  core: Core,
  record: CodeRecord,
  client: ClientRecord,
  form: ReadonlyMap<string, string>,
): Promise<GrantRecord> {
  const redirectUri = form.get('redirect_uri');
  if (record.expiresAt <= core.now()) throw invalidGrant('The authorization code is expired');
  if (record.clientId !== client.clientId) {
    await core.tokens.revokeGrant(record.grantId, 'authorization code presented by another client');
    throw invalidGrant('The authorization code was issued to another client');
  }
  // RFC 6749 §4.1.3: redirect_uri is required when the authorization request had it, and must be identical.
  if (record.redirectUriSent !== false && redirectUri === undefined) {
    throw new OAuthError('invalid_request', 'The redirect_uri parameter is missing');
  }
  if (redirectUri !== undefined && redirectUri !== record.redirectUri) {
    throw invalidGrant('The redirect_uri does not match the authorization request');
  }
  if (!(await verifierMatches(form.get('code_verifier') ?? '', record.codeChallenge)))
    throw invalidGrant('PKCE verification failed');

  const grant = await core.grants.get(record.grantId);
  if (!grant) throw invalidGrant('The authorization was revoked');
  checkTokenResource(form, grant.resource);
  return grant;
}
