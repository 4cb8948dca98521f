import type { Core } from '../context.js';
import { verifierMatches } from '../rules/pkce.js';
import type { Consumed } from '../stores/records.js';
import type { ClientRecord, CodeRecord, TokenRecord } from '../stores/schemas.js';
import type { PresentedCredential } from '../stores/successors.js';

/**
 * The reuse interval (OAuth 2.1 §4.3.1, RFC 9700 §4.14.2): when a single-use credential is presented again
 * shortly after its first use, by the same client with the same proof, the request is a repeat (several
 * processes of one client refreshing at once, a retry after a lost response or a 503) and gets the same
 * tokens, derived from the credential (see `stores/successors.ts`). Anything else stays a replay.
 */

/** Whether a credential first used at `consumedAt` is still within the reuse interval. */
export function withinReuseInterval(core: Core, consumedAt: number): boolean {
  const interval = core.config.reuseIntervalMs;
  return interval > 0 && core.now() - consumedAt <= interval;
}

/** The credential a token response is derived from, when the reuse interval is on. */
export const presentedCredential = (
  value: string,
  record: TokenRecord | CodeRecord,
): PresentedCredential => ({ value, salt: record.salt });

/**
 * A rotated refresh token presented again within the interval by the client it was issued to is a
 * repeat of its refresh; reports it. (The client was checked before consuming, so a stranger never burns
 * the token.)
 */
export function acceptRefreshRepeat(
  core: Core,
  consumed: Consumed<TokenRecord>,
  client: ClientRecord,
): boolean {
  if (consumed.status !== 'already_consumed') return false;
  if (consumed.record.clientId !== client.clientId || !withinReuseInterval(core, consumed.consumedAt))
    return false;
  reportRepeat(core, 'refresh_token', consumed.record);
  return true;
}

/**
 * RFC 6749 §4.1.2 allows no second redemption, except this one: the same client presenting the same code
 * within the interval with the same redirect URI and a PKCE verifier that matches its challenge (proof
 * only the party that started the flow holds), when no attempt was refused after consuming the code,
 * gets the tokens of the first redemption again. Reports it.
 */
export async function acceptRedemptionRetry(
  core: Core,
  code: string,
  consumed: Consumed<CodeRecord>,
  client: ClientRecord,
  redirectUri: string | undefined,
  verifier: string | undefined,
): Promise<boolean> {
  if (consumed.status !== 'already_consumed' || !withinReuseInterval(core, consumed.consumedAt)) return false;
  const record = consumed.record;
  if (record.clientId !== client.clientId) return false;
  const sameRedirect =
    redirectUri === undefined ? record.redirectUriSent === false : redirectUri === record.redirectUri;
  if (!sameRedirect || verifier === undefined) return false;
  if (!(await verifierMatches(verifier, record.codeChallenge))) return false;
  // A redemption refused after the code was consumed (e.g. a wrong verifier) burnt it for good.
  if (await core.codes.retriesRefused(code)) return false;
  reportRepeat(core, 'authorization_code', record);
  return true;
}

function reportRepeat(
  core: Core,
  what: 'authorization_code' | 'refresh_token',
  record: TokenRecord | CodeRecord,
): void {
  core.config.onEvent({ type: 'repeat_accepted', what, clientId: record.clientId, grantId: record.grantId });
}
