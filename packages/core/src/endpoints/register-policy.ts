import type { Core } from '../context.js';
import { timingSafeEqual } from '../crypto/hash.js';
import { OAuthError } from '../errors.js';
import type { RegistrationRequest } from '../rules/registration-policy.js';

/** The bearer token of a registration or client-management request (RFC 6750 §2.1), if any. */
export const registrationBearer = (request: Request): string | undefined =>
  /^Bearer ([\x21-\x7e]+)$/i.exec(request.headers.get('authorization') ?? '')?.[1];

/**
 * RFC 7591 §3: when initial access tokens are configured, a registration must carry one as a bearer
 * token; without one, or with a wrong one, it gets 401 `invalid_token` (RFC 6750 §3.1).
 */
export async function requireInitialAccessToken(core: Core, request: Request): Promise<void> {
  const accepted = core.config.registration.initialAccessTokens;
  if (accepted.length === 0) return;
  const token = registrationBearer(request);
  let valid = false;
  if (token !== undefined) {
    // Every configured token is compared in constant time, whichever matches.
    for (const candidate of accepted) if (await timingSafeEqual(token, candidate)) valid = true;
  }
  if (!valid) {
    core.config.onEvent({ type: 'registration_refused', reason: 'initial_access_token' });
    throw new OAuthError(
      'invalid_token',
      token === undefined
        ? 'This server requires an initial access token to register a client'
        : 'The initial access token is invalid',
      401,
      { 'WWW-Authenticate': token === undefined ? 'Bearer' : 'Bearer error="invalid_token"' },
    );
  }
}

/** Applies the configured registration policy (RFC 7591 §3.2.2 errors on refusal). */
export async function applyRegistrationPolicy(core: Core, registration: RegistrationRequest): Promise<void> {
  const policy = core.config.registration.policy;
  if (!policy) return;
  const decision = await policy(registration);
  if (decision === true) return;
  core.config.onEvent({ type: 'registration_refused', reason: decision.error });
  throw new OAuthError(decision.error, decision.description);
}
