import { sha256 } from '../crypto/hash.js';
import { ExpiringLru } from '../crypto/lru.js';
import type { ClientStore } from './clients.js';
import { PREFIX, type StoreContext } from './context.js';
import type { GrantStore } from './grants.js';
import { type GrantRecord, type GrantSecrets, type TokenRecord, tokenRecord } from './schemas.js';

/** A verified access token: its record, its live grant and the grant's opened secrets. */
export interface VerifiedToken {
  readonly record: TokenRecord;
  readonly grant: GrantRecord;
  readonly secrets: GrantSecrets;
}

/** Tokens issued for one grant, as the token endpoint returns them. */
export interface IssuedTokens {
  readonly accessToken: string;
  readonly refreshToken?: string;
  /** Seconds until the access token expires. */
  readonly expiresIn: number;
  readonly scopes: readonly string[];
}

/** A token found by its value: which kind, its at-rest key and its record. */
export interface FoundToken {
  readonly kind: 'access' | 'refresh';
  readonly key: string;
  readonly record: TokenRecord;
}

/**
 * Access and refresh tokens, stored under the SHA-256 of their value. Owns the optional in-memory cache
 * of verified access tokens and keeps it consistent with every revocation made through this instance.
 */
export class TokenStore {
  readonly #ctx: StoreContext;
  readonly #grants: GrantStore;
  readonly #clients: ClientStore;
  readonly #verified: ExpiringLru<string, VerifiedToken> | undefined;

  constructor(ctx: StoreContext, grants: GrantStore, clients: ClientStore) {
    this.#ctx = ctx;
    this.#grants = grants;
    this.#clients = clients;
    const cache = ctx.config.tokenCache;
    this.#verified = cache ? new ExpiringLru(cache.maxEntries, () => ctx.now()) : undefined;
  }

  /** Issues an access token, and a refresh token when asked; neither outlives the grant. */
  async issue(grant: GrantRecord, scopes: readonly string[], withRefresh: boolean): Promise<IssuedTokens> {
    const ctx = this.#ctx;
    const now = ctx.now();
    const { access, refresh } = ctx.config.lifetimes;
    const accessToken = ctx.token(PREFIX.access);
    // Tokens never outlive their grant; the grant itself is never extended or rewritten.
    const record: TokenRecord = {
      grantId: grant.id,
      clientId: grant.clientId,
      scopes: [...scopes],
      resource: grant.resource,
      expiresAt: Math.min(now + access * 1000, grant.expiresAt),
    };
    await ctx.records.put('access', await sha256(accessToken), record, record.expiresAt);
    let refreshToken: string | undefined;
    if (withRefresh) {
      refreshToken = ctx.token(PREFIX.refresh);
      const refreshExpires = Math.min(now + refresh * 1000, grant.expiresAt);
      await ctx.records.put(
        'refresh',
        await sha256(refreshToken),
        { ...record, expiresAt: refreshExpires },
        refreshExpires,
      );
    }
    return {
      accessToken,
      ...(refreshToken ? { refreshToken } : {}),
      expiresIn: Math.floor((record.expiresAt - now) / 1000),
      scopes: record.scopes,
    };
  }

  /** Finds a live access or refresh token, trying the hinted kind first (RFC 7009 §2.1). */
  async find(token: string, hint: string | undefined): Promise<FoundToken | null> {
    const key = await sha256(token);
    const order: ('access' | 'refresh')[] =
      hint === 'refresh_token' ? ['refresh', 'access'] : ['access', 'refresh'];
    for (const kind of order) {
      const record = await this.#ctx.records.get(kind, key, tokenRecord);
      if (record && record.expiresAt > this.#ctx.now()) return { kind, key, record };
    }
    return null;
  }

  /** A live refresh token's record without consuming it, or `null`. */
  async peekRefresh(token: string): Promise<TokenRecord | null> {
    const record = await this.#ctx.records.get('refresh', await sha256(token), tokenRecord);
    return record && record.expiresAt > this.#ctx.now() ? record : null;
  }

  /** Consumes a refresh token once (rotation): exactly one caller gets `consumed` under any concurrency. */
  async consumeRefresh(token: string) {
    return this.#ctx.records.consume('refresh', await sha256(token), this.#ctx.now(), tokenRecord);
  }

  /**
   * Verifies an access token (or takes it from the cache): live record, live grant, existing client and
   * opened secrets; `null` otherwise.
   */
  async verifyAccess(token: string): Promise<VerifiedToken | null> {
    const ctx = this.#ctx;
    const key = await sha256(token);
    const now = ctx.now();
    const cached = this.#verified?.get(key);
    if (cached) return cached.record.expiresAt > now ? cached : null;
    const record = await ctx.records.get('access', key, tokenRecord);
    if (!record || record.expiresAt <= now) return null;
    // RFC 7592 §2.3: deleting a client invalidates its tokens, so the client must still exist (read in parallel).
    const [grant, clientExists] = await Promise.all([
      this.#grants.get(record.grantId),
      this.#clients.exists(record.clientId),
    ]);
    if (!grant || !clientExists) return null;
    const secrets = await this.#grants.open(grant);
    if (!secrets) return null;
    const verified = { record, grant, secrets };
    const ttl = ctx.config.tokenCache?.ttlMs;
    if (ttl) this.#verified?.set(key, verified, Math.min(now + ttl, record.expiresAt));
    return verified;
  }

  /** Revokes one access token (RFC 7009 §2.1). */
  async revokeAccess(found: FoundToken): Promise<void> {
    await this.#ctx.records.delete('access', found.key);
    this.#verified?.delete(found.key);
  }

  /** Revokes a grant and so every token issued from it, effective at once on this instance. */
  async revokeGrant(grantId: string, reason: string): Promise<void> {
    await this.#grants.delete(grantId);
    this.#verified?.deleteWhere((verified) => verified.grant.id === grantId);
    this.#ctx.config.onEvent({ type: 'grant_revoked', grantId, reason });
  }

  /** Drops the cached tokens of a deleted client (RFC 7592 §2.3); stored ones fail verification anyway. */
  forgetClient(clientId: string): void {
    this.#verified?.deleteWhere((verified) => verified.record.clientId === clientId);
  }
}
