import type { Core } from '../context.js';
import { formatScope } from '../rules/scope.js';
import type { GrantRecord } from '../stores/schemas.js';
import type { PresentedCredential } from '../stores/successors.js';
import type { IssueOptions } from '../stores/tokens.js';
import type { TokenResponseBody } from './grants/types.js';

/**
 * Issues tokens for a grant and reports `token_issued`: the RFC 6749 §5.1 response body, a refresh
 * token when `withRefresh`. With the credential the request `presented`, a repeat of the request within
 * the reuse interval gets the same tokens (`token/reuse.ts`). `options` issue them to another client or
 * resource, with an acting party (token exchange); with a DPoP `binding` the access token is bound to
 * its key, and the refresh token too when the binding says so (public clients, RFC 9449 §5).
 */
export async function issueTokenResponse(
  core: Core,
  grant: GrantRecord,
  scopes: readonly string[],
  withRefresh: boolean,
  grantType: string,
  presented?: PresentedCredential,
  options: IssueOptions = {},
): Promise<TokenResponseBody> {
  const issued = await core.tokens.issue(grant, scopes, withRefresh, presented, options);
  core.config.onEvent({
    type: 'token_issued',
    clientId: options.clientId ?? grant.clientId,
    userId: grant.userId,
    grantType,
    grantId: grant.id,
  });
  return {
    access_token: issued.accessToken,
    token_type: issued.tokenType,
    expires_in: issued.expiresIn,
    scope: formatScope(issued.scopes),
    ...(issued.refreshToken ? { refresh_token: issued.refreshToken } : {}),
  };
}
