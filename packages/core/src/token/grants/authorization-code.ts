import { OAuthError } from '../../errors.js';
import { verifierMatches, verifierProblem } from '../../rules/pkce.js';
import { issueTokenResponse } from '../issue.js';
import { checkTokenResource, invalidGrant, requiredParam } from '../params.js';
import type { GrantType } from './types.js';

/**
 * The authorization code grant (RFC 6749 §4.1.3, OAuth 2.1 §4.1.3): a single-use code, bound to the
 * client, the redirect URI and the PKCE challenge. Replay rule: a code used twice revokes its grant.
 */
export const authorizationCodeGrant: GrantType = {
  name: 'authorization_code',
  enabled: () => true,
  async handle({ core, form, client }) {
    const code = requiredParam(form, 'code');
    const redirectUri = form.get('redirect_uri');
    const verifier = form.get('code_verifier');
    const problem = verifierProblem(verifier);
    if (problem) throw new OAuthError('invalid_request', problem);

    const consumed = await core.codes.consume(code);
    if (!consumed) throw invalidGrant('The authorization code is invalid or expired');
    const record = consumed.record;
    if (consumed.status === 'already_consumed') {
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
    if (!(await verifierMatches(verifier!, record.codeChallenge)))
      throw invalidGrant('PKCE verification failed');

    const grant = await core.grants.get(record.grantId);
    if (!grant) throw invalidGrant('The authorization was revoked');
    checkTokenResource(form, grant.resource);
    const withRefresh = client.grantTypes.includes('refresh_token');
    return issueTokenResponse(core, grant, grant.scopes, withRefresh, 'authorization_code');
  },
};
