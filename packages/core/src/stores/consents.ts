import { sha256 } from '../crypto/hash.js';
import type { StoreContext } from './context.js';
import { consentRecord, type PendingRecord } from './schemas.js';

/** What a consent is about: the client, the scopes and the resource of a pending request. */
type Approval = Pick<PendingRecord, 'clientId' | 'scopes' | 'resource' | 'sharedClient'>;

/**
 * Remembered consent, one record per user and client (asked again when the scopes or resource grow).
 * Never remembered for a shared client, whose every registrant's user must approve.
 */
export class ConsentStore {
  readonly #ctx: StoreContext;

  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
  }

  #key(userId: string, clientId: string): Promise<string> {
    return sha256(`${userId.length}:${userId}|${clientId}`);
  }

  /** Whether the user already approved these scopes and this resource for the client. */
  async covers(userId: string, { clientId, scopes, resource, sharedClient }: Approval): Promise<boolean> {
    if (!this.#ctx.config.rememberConsent || sharedClient) return false;
    const consent = await this.#ctx.records.get('consent', await this.#key(userId, clientId), consentRecord);
    // Consent is asked again when the scopes or the resource grow (confused-deputy protection).
    return (
      consent !== null &&
      scopes.every((s) => consent.scopes.includes(s)) &&
      consent.resources.includes(resource)
    );
  }

  /** Remembers an approval for as long as a refresh token lives. */
  async remember(userId: string, { clientId, scopes, resource, sharedClient }: Approval): Promise<void> {
    const ctx = this.#ctx;
    if (!ctx.config.rememberConsent || sharedClient) return;
    const now = ctx.now();
    await ctx.records.put(
      'consent',
      await this.#key(userId, clientId),
      { scopes: [...scopes], resources: [resource], at: now },
      now + ctx.config.lifetimes.refresh * 1000,
    );
  }
}
