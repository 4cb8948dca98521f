import type { Core } from '../context.js';
import { OAuthError } from '../errors.js';
import type { Identity } from '../types.js';
import type { UpstreamOutcome } from '../upstream.js';
import { consentPage } from './consent.js';
import { denyPending } from './deny.js';
import { finishAuthorization } from './finish.js';

/**
 * Turns an identity upstream's outcome into the response: pass its page through, end the request with
 * `access_denied`, or continue with the identity it established.
 *
 * @param browser the flow cookie value when it was set by this very response (the first page of a flow).
 */
export async function settleOutcome(
  core: Core,
  request: Request,
  outcome: UpstreamOutcome,
  browser?: string,
): Promise<Response> {
  if (outcome.type === 'response') return outcome.response;
  if (outcome.type === 'denied') return denyPending(core, outcome.pendingId, outcome.reason);
  return completeWithIdentity(core, request, outcome.pendingId, outcome.identity, browser);
}

/** The user is known: check the browser binding, then finish at once or ask for consent. */
async function completeWithIdentity(
  core: Core,
  request: Request,
  pendingId: string,
  identity: Identity,
  browser: string | undefined,
): Promise<Response> {
  const record = await core.pending.load(pendingId);
  if (!record) {
    throw new OAuthError(
      'invalid_request',
      'This authorization request has expired or was already used; start again from the application',
    );
  }
  const bound =
    browser !== undefined
      ? await core.browser.matchesValue(browser, record)
      : await core.browser.matches(request, record);
  if (!bound)
    throw new OAuthError(
      'invalid_request',
      'This authorization must be finished in the browser that started it',
    );
  if (typeof identity.userId !== 'string' || identity.userId.length === 0) {
    throw new OAuthError('server_error', 'The identity upstream returned no user id', 500);
  }
  if (identity.consented) return finishAuthorization(core, pendingId, record, identity);
  if (await core.consents.covers(identity.userId, record)) {
    return finishAuthorization(core, pendingId, record, identity);
  }
  const withIdentity = { ...record, identity: await core.pending.seal(pendingId, 'identity', identity) };
  await core.pending.save(pendingId, withIdentity);
  return consentPage(core, pendingId, withIdentity);
}
