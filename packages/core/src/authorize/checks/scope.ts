import { parseScope } from '../../rules/scope.js';
import type { AuthorizeCheck } from '../request.js';

/** RFC 6749 §3.3: requested scopes must be supported, allowed for the client and for the resource. */
export const checkScope: AuthorizeCheck = (req) => {
  const { config } = req.core;
  const scopes = parseScope(req.params.get('scope')) ?? [...config.defaultScopes];
  const allowed = req.client!.scope ? req.client!.scope.split(' ') : config.scopesSupported;
  const refused = scopes.filter((s) => !allowed.includes(s) || !req.resource!.scopes.includes(s));
  if (refused.length > 0) throw req.refuse('invalid_scope', `Unsupported scope: ${refused.join(' ')}`);
  req.scopes = scopes;
};
