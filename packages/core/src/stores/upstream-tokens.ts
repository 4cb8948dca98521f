import { ExpiringLru } from '../crypto/lru.js';
import { EXPIRY_SKEW_MS, upstreamTokenFresh } from '../resource/upstream-token.js';
import type { UpstreamToken } from '../types.js';
import type { UpstreamRefresh, UpstreamTokenIdp } from '../upstream.js';
import type { StoreContext } from './context.js';
import type { GrantStore } from './grants.js';
import { type GrantRecord, type GrantSecrets, upstreamTokenRecord } from './schemas.js';

/** An upstream token with its version: 0 is the one captured at login, each refresh adds one. */
export interface VersionedUpstreamToken {
  readonly token: UpstreamToken;
  readonly version: number;
  /** When the IdP issued it (epoch ms). */
  readonly obtainedAt: number;
}

/**
 * The current upstream token of a grant, or why there is none: the grant never had one, it expired and
 * cannot be refreshed, the IdP ended the session (`invalid_grant`), or the IdP could not refresh it now.
 */
export type CurrentUpstreamToken =
  | { readonly ok: true; readonly token: UpstreamToken }
  | { readonly ok: false; readonly problem: 'none' | 'expired' | 'ended' | 'unavailable' };

/** How long one refresh at the IdP holds the lock (the IdP call itself times out after 10 s). */
const REFRESH_LOCK_MS = 30_000;
/** How long other requests wait for the refresh that holds the lock. */
const REFRESH_WAIT_MS = 15_000;
/** The client's own refresh refreshes the IdP token too, unless it was obtained this recently. */
const CLIENT_REFRESH_AFTER_MS = 60_000;

/**
 * The refreshable upstream IdP token of each grant. Grants are immutable, so a refreshed token lives in
 * its own record (kind `grant`, key `upstream-token:<grant id>`, sealed with AES-GCM bound to that key)
 * until the grant is revoked. Refreshes are single-flight across instances: an atomic `increment` on the
 * version being replaced elects the one request that calls the IdP; the others wait for its record.
 */
export class UpstreamTokenStore {
  readonly #ctx: StoreContext;
  readonly #grants: GrantStore;
  readonly #idp: UpstreamTokenIdp;
  /** Current tokens by access-token hash, so a proxy does not read the storage on every request. */
  readonly #recent: ExpiringLru<string, { grantId: string; token: UpstreamToken }>;

  constructor(ctx: StoreContext, grants: GrantStore, idp: UpstreamTokenIdp) {
    this.#ctx = ctx;
    this.#grants = grants;
    this.#idp = idp;
    this.#recent = new ExpiringLru(10_000, () => ctx.now());
  }

  /** The newest upstream token of a grant: the refreshed one when there is one, else the login one. */
  async latest(grant: GrantRecord, secrets: GrantSecrets): Promise<VersionedUpstreamToken | null> {
    const ctx = this.#ctx;
    const record = await ctx.records.get('grant', recordKey(grant.id), upstreamTokenRecord);
    const opened = record ? await ctx.keys.open(record.sealed, recordKey(grant.id)) : null;
    if (record && opened) {
      const token = JSON.parse(opened) as UpstreamToken;
      return { token, version: record.version, obtainedAt: record.obtainedAt };
    }
    const login = secrets.upstreamToken as UpstreamToken | undefined;
    return login?.accessToken ? { token: login, version: 0, obtainedAt: grant.createdAt } : null;
  }

  /** The current upstream token of a grant, refreshed at the IdP when it has expired. */
  async current(grant: GrantRecord, secrets: GrantSecrets): Promise<CurrentUpstreamToken> {
    const latest = await this.latest(grant, secrets);
    if (!latest) return { ok: false, problem: 'none' };
    if (upstreamTokenFresh(latest.token, this.#ctx.now())) return { ok: true, token: latest.token };
    return this.#refresh(grant, secrets, latest);
  }

  /**
   * On the client's own refresh: refreshes the upstream token too (unless it was obtained within the last
   * minute), so an upstream session that ended shows at once; `null` when there is nothing to refresh.
   */
  async refreshForClient(grant: GrantRecord, secrets: GrantSecrets): Promise<CurrentUpstreamToken | null> {
    const latest = await this.latest(grant, secrets);
    if (!latest?.token.refreshToken || !this.#idp.refresh) return null;
    if (this.#ctx.now() - latest.obtainedAt < CLIENT_REFRESH_AFTER_MS) return null;
    return this.#refresh(grant, secrets, latest);
  }

  /** The current token remembered for an access token (by its hash). */
  recall(accessKey: string): UpstreamToken | undefined {
    return this.#recent.get(accessKey)?.token;
  }

  /** Remembers the current token for an access token until `until` (epoch ms) or shortly before it expires. */
  remember(accessKey: string, grantId: string, token: UpstreamToken, until: number): void {
    const expires = token.expiresAt === undefined ? until : token.expiresAt * 1000 - EXPIRY_SKEW_MS;
    this.#recent.set(accessKey, { grantId, token }, Math.min(until, expires));
  }

  /** Before a grant is revoked: its newest upstream token, if the upstream can revoke it. Never throws. */
  async forRevocation(grantId: string): Promise<UpstreamToken | null> {
    if (!this.#idp.revoke) return null;
    try {
      const grant = await this.#grants.get(grantId);
      const secrets = grant ? await this.#grants.open(grant) : null;
      return grant && secrets ? ((await this.latest(grant, secrets))?.token ?? null) : null;
    } catch {
      return null;
    }
  }

  /** Revokes a grant's upstream token at the IdP (RFC 7009), best effort. */
  async revokeAtIdp(token: UpstreamToken): Promise<void> {
    await this.#idp.revoke?.(token).catch(() => undefined);
  }

  /** Deletes the refreshed token of a revoked grant. */
  async forget(grantId: string): Promise<void> {
    this.#recent.deleteWhere((entry) => entry.grantId === grantId);
    await this.#ctx.records.delete('grant', recordKey(grantId));
  }

  /** Refreshes `base` at the IdP once across instances; the others wait for the winner's record. */
  async #refresh(
    grant: GrantRecord,
    secrets: GrantSecrets,
    base: VersionedUpstreamToken,
  ): Promise<CurrentUpstreamToken> {
    const ctx = this.#ctx;
    const idp = this.#idp;
    if (!base.token.refreshToken || !idp.refresh) return { ok: false, problem: 'expired' };
    const lock = `upstream-refresh:${grant.id}:${base.version}`;
    if ((await ctx.records.increment('counter', lock, ctx.now() + REFRESH_LOCK_MS)) > 1) {
      return this.#awaitRefresh(grant, secrets, base, lock);
    }
    const now = ctx.now();
    const failed: UpstreamRefresh = { ok: false, ended: false, reason: 'the upstream refresh failed' };
    const result = await idp.refresh(base.token, now).catch(() => failed);
    if (!result.ok) {
      if (result.ended) return { ok: false, problem: 'ended' };
      // Released, so a later request may try again.
      await ctx.records.delete('counter', lock).catch(() => undefined);
      return { ok: false, problem: 'unavailable' };
    }
    const key = recordKey(grant.id);
    const sealed = await ctx.keys.seal(JSON.stringify(result.token), key);
    const record = { sealed, version: base.version + 1, obtainedAt: now };
    await ctx.records.put('grant', key, record, grant.expiresAt);
    return { ok: true, token: result.token };
  }

  /** Waits (bounded, wall clock) for the request holding the lock to store a newer version. */
  async #awaitRefresh(
    grant: GrantRecord,
    secrets: GrantSecrets,
    base: VersionedUpstreamToken,
    lock: string,
  ): Promise<CurrentUpstreamToken> {
    const ctx = this.#ctx;
    const started = Date.now();
    for (let attempt = 0; Date.now() - started < REFRESH_WAIT_MS; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(25 * 2 ** attempt, 250)));
      const [latest, locked, live] = await Promise.all([
        this.latest(grant, secrets),
        ctx.records.exists('counter', lock),
        this.#grants.get(grant.id),
      ]);
      if (latest && latest.version > base.version) return { ok: true, token: latest.token };
      if (!live) return { ok: false, problem: 'ended' };
      if (!locked) return { ok: false, problem: 'unavailable' };
    }
    return { ok: false, problem: 'unavailable' };
  }
}

const recordKey = (grantId: string) => `upstream-token:${grantId}`;
