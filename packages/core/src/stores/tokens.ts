import { sha256, sha256Now } from '../crypto/hash.js';
import { ExpiringLru } from '../crypto/lru.js';
import type { TokenBinding } from '../token/binding.js';
import type { UpstreamTokenKeeper } from '../upstream.js';
import type { ClientStore } from './clients.js';
import { PREFIX, type StoreContext } from './context.js';
import { deepFreeze } from './frozen.js';
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
  /** `Bearer`, or `DPoP` for a DPoP-bound access token (RFC 9449 §5). */
  readonly tokenType: 'Bearer' | 'DPoP';
  readonly refreshToken?: string;
  /** Seconds until the access token expires. */
  readonly expiresIn: number;
  readonly scopes: readonly string[];
}

/**
 * How issued tokens differ from their grant's defaults (token exchange, grants without a user's
 * authorization code): another client or resource, an acting party, an earlier end.
 */
export interface IssueOptions {
  /** The client the tokens are issued to; default the grant's client. */
  readonly clientId?: string;
  /** The resource (audience) of the tokens; default the grant's resource. */
  readonly resource?: string;
  /** The acting party (RFC 8693 §4.1 `act`). */
  readonly act?: Readonly<Record<string, unknown>>;
  /** The tokens expire at the latest then (epoch ms), e.g. with the token they were exchanged for. */
  readonly notAfter?: number;
  /** The DPoP key the tokens are bound to (RFC 9449 §5), from the token request's proof. */
  readonly binding?: TokenBinding;
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
  readonly #upstreamTokens: UpstreamTokenKeeper | undefined;
  readonly #verified: ExpiringLru<string, VerifiedToken> | undefined;

  constructor(
    ctx: StoreContext,
    grants: GrantStore,
    clients: ClientStore,
    upstreamTokens: UpstreamTokenKeeper | undefined,
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
    options: IssueOptions = {},
  ): Promise<IssuedTokens> {
    const ctx = this.#ctx;
    // One instant for the whole response, so `expires_in` is the lifetime the records were given.
    const now = ctx.now();
    if (presented === undefined || ctx.config.reuseIntervalMs === 0) {
      const values = {
        accessToken: ctx.token(PREFIX.access),
        refreshToken: withRefresh ? ctx.token(PREFIX.refresh) : '',
      };
      const planned = await this.#plan(grant, scopes, withRefresh, values, now, options);
      return this.#issued(grant, values, await writeTokens(ctx, planned), now);
    }
    let values = await deriveSuccessor(ctx.keys, presented);
    let stored = await writeSuccessorOnce(
      ctx,
      presented,
      await this.#plan(grant, scopes, withRefresh, values, now, options),
    );
    // A repeat that comes after the successor was itself rotated gets the family's newest pair: every
    // link was rotated after the first use, so within the interval; the walk is bounded all the same.
    for (let link = 0; stored.refresh && stored.refreshConsumed && link < MAX_CHAIN_WALK; link++) {
      const next: PresentedCredential = { value: values.refreshToken, salt: stored.refresh.salt };
      values = await deriveSuccessor(ctx.keys, next);
      stored = await writeSuccessorOnce(
        ctx,
        next,
        await this.#plan(grant, stored.refresh.scopes, true, values, now, options),
      );
    }
    return this.#issued(grant, values, stored, now);
  }

  /** The response of stored tokens: a token in an extension's format carries the stored value as its handle. */
  async #issued(
    grant: GrantRecord,
    values: TokenValues,
    stored: StoredTokens,
    now: number,
  ): Promise<IssuedTokens> {
    const format = this.#ctx.accessTokenFormat;
    const accessToken =
      stored.access.format && format
        ? await format.encode({ handle: values.accessToken, record: stored.access, subject: grant.userId })
        : values.accessToken;
    return {
      accessToken,
      tokenType: stored.access.jkt ? 'DPoP' : 'Bearer',
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
    options: IssueOptions,
  ): Promise<PlannedTokens> {
    const ctx = this.#ctx;
    const { refresh } = ctx.config.lifetimes;
    const resource = options.resource ?? grant.resource;
    const format = ctx.accessTokenFormat?.appliesTo(resource) ? ctx.accessTokenFormat : undefined;
    const access = format
      ? Math.min(format.lifetimeSeconds, ctx.config.lifetimes.access)
      : ctx.config.lifetimes.access;
    const end = Math.min(grant.expiresAt, options.notAfter ?? grant.expiresAt);
    const binding = options.binding;
    const base = {
      grantId: grant.id,
      clientId: options.clientId ?? grant.clientId,
      scopes: [...scopes],
      resource,
      ...(options.act ? { act: { ...options.act } } : {}),
    };
    // Tokens never outlive their grant; the grant itself is never extended or rewritten.
    const record: TokenRecord = {
      ...base,
      expiresAt: Math.min(now + access * 1000, end),
      ...(format ? { format: 'jwt' as const } : {}),
      ...(binding ? { jkt: binding.jkt } : {}),
    };
    const planned: PlannedTokens = { values, access: { key: await sha256(values.accessToken), record } };
    if (!withRefresh) return planned;
    const refreshRecord: TokenRecord = {
      ...base,
      expiresAt: Math.min(now + refresh * 1000, end),
      salt: ctx.token('', 16),
      ...(binding?.refresh ? { jkt: binding.jkt } : {}),
    };
    return { ...planned, refresh: { key: await sha256(values.refreshToken), record: refreshRecord } };
  }

  /** Finds a live access or refresh token, trying the hinted kind first (RFC 7009 §2.1). */
  async find(token: string, hint: string | undefined): Promise<FoundToken | null> {
    const order: ('access' | 'refresh')[] =
      hint === 'refresh_token' ? ['refresh', 'access'] : ['access', 'refresh'];
    for (const kind of order) {
      const found = kind === 'access' ? await this.#findAccess(token) : await this.#findRefresh(token);
      if (found && found.record.expiresAt > this.#ctx.now()) return found;
    }
    return null;
  }

  async #findRefresh(token: string): Promise<FoundToken | null> {
    const key = await sha256(token);
    const record = await this.#ctx.records.get('refresh', key, tokenRecord);
    return record ? { kind: 'refresh', key, record } : null;
  }

  /**
   * An access token's record: a token in the extension's format is found by the handle it carries once
   * it verifies, an opaque one by its value; neither can stand for the other.
   */
  async #findAccess(token: string, tokenHash?: string): Promise<FoundToken | null> {
    const format = this.#ctx.accessTokenFormat;
    const handle = format ? await format.decode(token) : undefined;
    if (handle === null) return null;
    const key = handle === undefined && tokenHash !== undefined ? tokenHash : await sha256(handle ?? token);
    const record = await this.#ctx.records.get('access', key, tokenRecord);
    if (!record || (record.format !== undefined) !== (handle !== undefined)) return null;
    return { kind: 'access', key, record };
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
    const cacheKey = sha256Now(token) ?? (await sha256(token));
    const now = ctx.now();
    const cached = this.#verified?.get(cacheKey);
    if (cached) return cached.record.expiresAt > now ? cached : null;
    const found = await this.#findAccess(token, cacheKey);
    const record = found?.record;
    if (!found || !record || record.expiresAt <= now) return null;
    // RFC 7592 §2.3: deleting a client invalidates its tokens, so the client must still exist (read in parallel).
    const [grant, clientExists] = await Promise.all([
      this.#grants.get(record.grantId),
      this.#clients.exists(record.clientId),
    ]);
    if (!grant || !clientExists) return null;
    const secrets = this.#grants.opened(grant) ?? (await this.#grants.open(grant));
    if (!secrets) return null;
    const verified = { record, grant, secrets };
    const ttl = ctx.config.tokenCache?.ttlMs;
    if (ttl) this.#verified?.set(cacheKey, deepFreeze(verified), Math.min(now + ttl, record.expiresAt));
    return verified;
  }

  /** Revokes one access token (RFC 7009 §2.1). */
  async revokeAccess(found: FoundToken, token: string): Promise<void> {
    await this.#ctx.records.delete('access', found.key);
    this.#verified?.delete(await sha256(token));
  }

  /**
   * Revokes a grant and so every token issued from it, effective at once on this instance; its upstream
   * IdP token is revoked at the IdP too where the upstream can (RFC 7009). Given the grant record, its
   * index entries (by user, by client) are removed too.
   */
  async revokeGrant(grantId: string, reason: string, grant?: GrantRecord): Promise<void> {
    const revoked = await this.#upstreamTokens?.revoking(grantId);
    await this.#grants.delete(grantId, grant);
    this.#verified?.deleteWhere((verified) => verified.grant.id === grantId);
    this.#ctx.config.onEvent({ type: 'grant_revoked', grantId, reason });
    await revoked?.();
  }

  /** Drops the cached tokens of a deleted client (RFC 7592 §2.3); stored ones fail verification anyway. */
  forgetClient(clientId: string): void {
    this.#verified?.deleteWhere((verified) => verified.record.clientId === clientId);
  }
}
