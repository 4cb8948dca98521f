import { bearerErrorResponse } from '../resource-server/challenge.js';
import type { Authenticator, TokenInfo } from '../types.js';

/**
 * Checks that the caller's token carries `needed` scopes. When some are missing, asks the
 * authenticator for its 403 `insufficient_scope` answer (RFC 6750 §3.1), so the challenge carries the
 * same `resource_metadata` as its 401s; returns `null` when the token suffices.
 */
export async function insufficientScope(
  authenticator: Authenticator,
  request: Request,
  info: TokenInfo,
  needed: readonly string[],
  resource?: string,
): Promise<Response | null> {
  const missing = needed.filter((scope) => !info.scopes.includes(scope));
  if (missing.length === 0) return null;
  // Re-run authentication with only the headers: the body has been read already.
  const headersOnly = new Request(request.url, { method: 'GET', headers: request.headers });
  const result = await authenticator.authenticate(headersOnly, {
    requiredScopes: needed,
    ...(resource ? { resource } : {}),
  });
  if (!result.ok) return result.response;
  return bearerErrorResponse({
    error: 'insufficient_scope',
    description: `This request needs the scope(s): ${missing.join(' ')}.`,
    scope: [...new Set([...info.scopes, ...needed])].join(' '),
  });
}
