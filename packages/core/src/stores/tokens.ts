import { sha256 } from '../crypto/hash.js';
import { ExpiringLru } from '../crypto/lru.js';
import type { ClientStore } from './clients.js';
import { PREFIX, type StoreContext } from './context.js';
import type { GrantStore } from './grants.js';
import type { Consumed } from './records.js';
import { type GrantRecord, type GrantSecrets, type TokenRecord, tokenRecord } from './schemas.js';
import {
  deriveSuccessor,
  type PlannedTokens,
  type PresentedCredential,
  type StoredTokens,
  type TokenValues,
  writeSuccessorOnce,
  writeTokens,
} from './successors.js';
import type { UpstreamTokenStore } from './upstream-tokens.js';

/** How many rotated successors a repeat follows to the family's newest pair. */
const MAX_CHAIN_WALK = 10;

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
  readonly #upstreamTokens: UpstreamTokenStore;
  readonly #verified: ExpiringLru<string, VerifiedToken> | undefined;

  constructor(
    ctx: StoreContext,
    grants: GrantStore,
    clients: ClientStore,
    upstreamTokens: UpstreamTokenStore,
  ) {
    this.#ctx = ctx;
    this.#grants = grants;
    this.#clients = clients;
    this.#upstreamTokens = upstreamTokens;
    const cache = ctx.config.tokenCache;
    this.#verified = cache ? new ExpiringLru(cache.maxEntries, () => ctx.now()) : undefined;
  }

  /**
   * Issues an access token, and a refresh token when asked; neither outlives the grant. Given the
   * credential the request `presented` (refresh token or code) and a reuse interval, the tokens are
   * derived from it and written once, so a repeat of the request gets the same ones (OAuth 2.1 §4.3.1).
   */
  async issue(
    grant: GrantRecord,
    scopes: readonly string[],
    withRefresh: boolean,
    presented?: PresentedCredential,
  ): Promise<IssuedTokens> {
    const ctx = this.#ctx;
    // One instant for the whole response, so `expires_in` is the lifetime the records were given.
    const now = ctx.now();
    if (presented === undefined || ctx.config.reuseIntervalMs === 0) {
      const values = {
        accessToken: ctx.token(PREFIX.access),
        refreshToken: withRefresh ? ctx.token(PREFIX.refresh) : '',
      };
      const planned = await this.#plan(grant, scopes, withRefresh, values, now);
      return this.#issued(values, await writeTokens(ctx, planned), now);
    }
    let values = await deriveSuccessor(ctx.keys, presented);
    let stored = await writeSuccessorOnce(
      ctx,
      presented,
      await this.#plan(grant, scopes, withRefresh, values, now),
    );
    // A repeat that comes after the successor was itself rotated gets the family's newest pair: every
    // link was rotated after the first use, so within the interval; the walk is bounded all the same.
    for (let link = 0; stored.refresh && stored.refreshConsumed && link < MAX_CHAIN_WALK; link++) {
      const next: PresentedCredential = { value: values.refreshToken, salt: stored.refresh.salt };
      values = await deriveSuccessor(ctx.keys, next);
      stored = await writeSuccessorOnce(
        ctx,
        next,
        await this.#plan(grant, stored.refresh.scopes, true, values, now),
      );
    }
    return this.#issued(values, stored, now);
  }

  #issued(values: TokenValues, stored: StoredTokens, now: number): IssuedTokens {
    return {
      accessToken: values.accessToken,
      ...(stored.refresh ? { refreshToken: values.refreshToken } : {}),
      expiresIn: Math.max(0, Math.floor((stored.access.expiresAt - now) / 1000)),
      scopes: stored.access.scopes,
    };
  }

  /** The records of new tokens: scopes and resource of the grant, lifetimes capped at the grant's end. */
  async #plan(
    grant: GrantRecord,
    scopes: readonly string[],
    withRefresh: boolean,
    values: TokenValues,
    now: number,
  ): Promise<PlannedTokens> {
    const ctx = this.#ctx;
    const { access, refresh } = ctx.config.lifetimes;
    // Tokens never outlive their grant; the grant itself is never extended or rewritten.
    const record: TokenRecord = {
      grantId: grant.id,
      clientId: grant.clientId,
      scopes: [...scopes],
      resource: grant.resource,
      expiresAt: Math.min(now + access * 1000, grant.expiresAt),
    };
    const planned: PlannedTokens = { values, access: { key: await sha256(values.accessToken), record } };
    if (!withRefresh) return planned;
    const refreshRecord: TokenRecord = {
      ...record,
      expiresAt: Math.min(now + refresh * 1000, grant.expiresAt),
      salt: ctx.token('', 16),
    };
    return { ...planned, refresh: { key: await sha256(values.refreshToken), record: refreshRecord } };
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

  /**
   * Consumes a refresh token once (rotation): exactly one caller gets `consumed` under any concurrency;
   * the others get `already_consumed` with the time of the first use.
   */
  async consumeRefresh(token: string): Promise<Consumed<TokenRecord> | null> {
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

  /**
   * Revokes a grant and so every token issued from it, effective at once on this instance; its upstream
   * IdP token is revoked at the IdP too where the upstream can (RFC 7009). Given the grant record, its
   * index entries (by user, by client) are removed too.
   */
  async revokeGrant(grantId: string, reason: string, grant?: GrantRecord): Promise<void> {
    const upstreamToken = await this.#upstreamTokens.forRevocation(grantId);
    await this.#grants.delete(grantId, grant);
    this.#verified?.deleteWhere((verified) => verified.grant.id === grantId);
    this.#ctx.config.onEvent({ type: 'grant_revoked', grantId, reason });
    await this.#upstreamTokens.forget(grantId);
    if (upstreamToken) await this.#upstreamTokens.revokeAtIdp(upstreamToken);
  }

  /** Drops the cached tokens of a deleted client (RFC 7592 §2.3); stored ones fail verification anyway. */
  forgetClient(clientId: string): void {
    this.#verified?.deleteWhere((verified) => verified.record.clientId === clientId);
  }
}
