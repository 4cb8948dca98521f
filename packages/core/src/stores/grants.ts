import { ExpiringLru } from '../crypto/lru.js';
import type { StoreContext } from './context.js';
import { deepFreeze } from './frozen.js';
import { indexGrant, unindexGrant } from './grant-index.js';
import { type GrantRecord, type GrantSecrets, grantRecord } from './schemas.js';

/** What a new grant is made of. */
export interface NewGrant {
  readonly clientId: string;
  readonly userId: string;
  readonly scopes: readonly string[];
  readonly resource: string;
  readonly secrets: GrantSecrets;
  /** Seconds until the grant ends; default `lifetimes.grant` (a grant without refresh tokens ends sooner). */
  readonly lifetimeSeconds?: number;
}

/**
 * Grants: one authorization of a user for a client, scopes and resource. Grants are immutable once
 * written, so deleting one is a final revocation no concurrent request can undo, and their opened
 * secrets can be cached without going stale.
 */
export class GrantStore {
  readonly #ctx: StoreContext;
  readonly #opened: ExpiringLru<string, { sealed: string; secrets: GrantSecrets }>;

  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
    this.#opened = new ExpiringLru(1000, () => ctx.now());
  }

  /** Creates and stores a grant with an absolute lifetime; its secrets are sealed (AES-GCM, bound to its id). */
  async create(input: NewGrant): Promise<GrantRecord> {
    const ctx = this.#ctx;
    const now = ctx.now();
    const id = ctx.token('', 18);
    const grant: GrantRecord = {
      id,
      clientId: input.clientId,
      userId: input.userId,
      scopes: [...input.scopes],
      resource: input.resource,
      sealed: await ctx.keys.seal(JSON.stringify(input.secrets), `grant:${id}`),
      createdAt: now,
      expiresAt: now + (input.lifetimeSeconds ?? ctx.config.lifetimes.grant) * 1000,
    };
    // The index first: a grant is never written without the entries that find it by user and by client.
    await indexGrant(ctx, grant);
    await ctx.records.put('grant', id, grant, grant.expiresAt);
    return grant;
  }

  /** A live grant, or `null` when it was revoked or has expired. */
  async get(id: string): Promise<GrantRecord | null> {
    const grant = await this.#ctx.records.get('grant', id, grantRecord);
    return grant && grant.expiresAt > this.#ctx.now() ? grant : null;
  }

  /** A grant's secrets if this instance opened them recently, else `undefined` (then {@link open}). */
  opened(grant: GrantRecord): GrantSecrets | undefined {
    const cached = this.#opened.get(grant.id);
    return cached?.sealed === grant.sealed ? cached.secrets : undefined;
  }

  /** Opens a grant's sealed secrets; `null` when no configured key can open them. */
  async open(grant: GrantRecord): Promise<GrantSecrets | null> {
    const cached = this.opened(grant);
    if (cached) return cached;
    const opened = await this.#ctx.keys.open(grant.sealed, `grant:${grant.id}`);
    if (!opened) return null;
    // Shared by every request of this grant while cached: frozen (see deepFreeze).
    const secrets = deepFreeze(JSON.parse(opened) as GrantSecrets);
    this.#opened.set(grant.id, { sealed: grant.sealed, secrets }, this.#ctx.now() + 60_000);
    return secrets;
  }

  /**
   * Deletes a grant: every token issued from it stops working. Given the grant, its index entries go
   * too (after it); otherwise they dangle harmlessly until they expire with it.
   */
  async delete(id: string, grant?: GrantRecord): Promise<void> {
    await this.#ctx.records.delete('grant', id);
    this.#opened.delete(id);
    if (grant) await unindexGrant(this.#ctx, grant);
  }
}
