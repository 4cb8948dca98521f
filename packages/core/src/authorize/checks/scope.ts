import { clientScopePolicy, grantScopes, parseScope } from '../../rules/scope.js';
import type { AuthorizeCheck } from '../request.js';

/**
 * RFC 6749 §3.3: the granted scopes are supported, allowed for the client and accepted by the resource;
 * the others are dropped (or refuse the request in strict mode). `offline_access` is accepted and set
 * aside; an absent or empty `scope` means the default scopes.
 */
export const checkScope: AuthorizeCheck = (req) => {
  const policy = clientScopePolicy(req.core.config, req.client!.scope, req.resource!.scopes);
  const decision = grantScopes(parseScope(req.params.get('scope')), policy);
  if (!decision.ok)
    throw req.refuse('invalid_scope', `Unsupported scope: ${decision.refused.join(' ').slice(0, 200)}`);
  req.scopes = decision.scopes;
};
