import { insufficientScope as insufficientScopeChallenge } from '../resource/guard.js';
import type { Authenticator, TokenInfo } from '../types.js';

/**
 * Checks that the caller's token carries `needed` scopes. When some are missing, answers with the
 * authenticator's 403 `insufficient_scope` challenge (RFC 6750 §3.1). The challenge names the scopes
 * the caller keeps using plus those the operation needs, each once (the MCP authorization spec's
 * recommended approach, so a client that does not accumulate scopes itself loses nothing); `null`
 * when the token suffices.
 */
export function insufficientScope(
  authenticator: Authenticator,
  request: Request,
  info: TokenInfo,
  needed: readonly string[],
  resource?: string,
): Response | null {
  const missing = needed.filter((scope) => !info.scopes.includes(scope));
  if (missing.length === 0) return null;
  return authenticator.challenge(request, {
    ...insufficientScopeChallenge([...new Set(missing)], [...info.scopes, ...needed]),
    ...(resource ? { resource } : {}),
  });
}
