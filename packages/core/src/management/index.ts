import { Core } from '../context.js';
import { KeyRing } from '../crypto/keys.js';
import { type CoreOptions, resolveConfig } from '../options.js';
import { type ClientSummary, listClients } from './clients.js';
import { allGrants, everyGrantOf, type GrantSummary, indexedGrants, revokeAll, summarize } from './grants.js';

export type { ClientSummary } from './clients.js';
export type { GrantSummary } from './grants.js';

/** Which grants to list: all of them, a user's, or a client's. */
export type GrantFilter = { readonly userId?: string; readonly clientId?: string };

/** What {@link Management.purge} removed. */
export interface PurgeResult {
  /** Expired records the storage's housekeeping deleted (`null` when it has none). */
  readonly expired: number | null;
  /** Index entries whose grant is gone. */
  readonly danglingIndexEntries: number;
}

/** How far a secret rotation has come: which configured key sealed how many live grants. */
export interface SecretStatus {
  readonly keys: readonly { readonly keyId: string; readonly current: boolean; readonly grants: number }[];
  /** Live grants sealed by a key that is no longer configured (their tokens already fail). */
  readonly unknownKeyGrants: number;
  /** `true` when no live grant needs a previous secret: the previous ones can be dropped. */
  readonly previousSecretsUnused: boolean;
}

/** The effective configuration, safe to print: no secret, PIN or credential, only key ids. */
export interface ConfigurationView {
  readonly issuer: string;
  readonly upstream: string;
  readonly resources: readonly { readonly resource: string; readonly scopes: readonly string[] }[];
  readonly scopesSupported: readonly string[];
  readonly lifetimesSeconds: Readonly<Record<string, number>>;
  readonly registration: {
    readonly enabled: boolean;
    readonly limits: readonly { readonly seconds: number; readonly max: number }[];
    readonly unusedClientSeconds: number | null;
  };
  readonly clientIdMetadataDocuments: boolean;
  readonly tokenCacheSeconds: number | null;
  readonly storageTimeoutMs: number;
  readonly storageAtomic: boolean;
  readonly storageCanList: boolean;
  /** Ids of the keys derived from the configured secrets, current first (never the secrets). */
  readonly secretKeyIds: readonly string[];
}

/**
 * Operating a Portcullis deployment over its storage: who is connected, and cutting them off. Every
 * revocation deletes grants in the shared storage, so it takes effect on every instance at once (an
 * instance with `tokenCache` may accept a revoked access token for at most its `ttlSeconds`).
 * Listing needs a storage with `list` (every storage of this repository has it).
 */
export interface Management {
  /** Registered clients, with their last use and when they expire unused. */
  clients(): Promise<ClientSummary[]>;
  /** Live grants: all, or those of a user or a client (found through the grant index). */
  grants(filter?: GrantFilter): Promise<GrantSummary[]>;
  /** Revokes one grant and every token issued from it; `false` when there was no such live grant. */
  revokeGrant(grantId: string): Promise<boolean>;
  /** Revokes every grant of a user; resolves to how many. */
  revokeUser(userId: string): Promise<number>;
  /** Revokes every grant of a client (it may authorize again); resolves to how many. */
  revokeClient(clientId: string): Promise<number>;
  /** Deletes a registered client (RFC 7592 §2.3) and revokes its grants. */
  deleteClient(clientId: string): Promise<{ readonly deleted: boolean; readonly grantsRevoked: number }>;
  /** Deletes expired records and index entries whose grant is gone. */
  purge(): Promise<PurgeResult>;
  /** Which configured secret sealed how many live grants (docs/upgrading.md: when to drop the old one). */
  secretStatus(): Promise<SecretStatus>;
  /** The effective configuration, secrets masked. */
  configuration(): Promise<ConfigurationView>;
}

/**
 * Creates the management API over the same options as the authorization server (the same storage,
 * secrets and upstream), for the `portcullis admin` commands or an operator's own tooling.
 *
 * @example
 * ```ts
 * const management = createManagement({ issuer, storage, upstream, secret });
 * for (const grant of await management.grants({ userId: 'alice@example.com' })) console.log(grant.clientId);
 * await management.revokeUser('alice@example.com');
 * ```
 * @throws {ConfigurationError} when the options are invalid.
 */
export function createManagement(options: CoreOptions): Management {
  const core = new Core(resolveConfig(options), []);
  const onEvent = core.config.onEvent;
  return {
    clients: () => listClients(core),
    async grants(filter = {}) {
      let grants =
        filter.userId !== undefined
          ? await indexedGrants(core, { userId: filter.userId })
          : filter.clientId !== undefined
            ? await indexedGrants(core, { clientId: filter.clientId })
            : await allGrants(core);
      if (filter.clientId !== undefined) grants = grants.filter((g) => g.clientId === filter.clientId);
      return grants.map(summarize).sort((a, b) => a.createdAt - b.createdAt);
    },
    async revokeGrant(grantId) {
      const grant = await core.grants.get(grantId);
      if (!grant) return false;
      await core.tokens.revokeGrant(grant.id, 'revoked by an operator', grant);
      return true;
    },
    async revokeUser(userId) {
      return revokeAll(core, await everyGrantOf(core, { userId }), 'user revoked by an operator');
    },
    async revokeClient(clientId) {
      return revokeAll(core, await everyGrantOf(core, { clientId }), 'client revoked by an operator');
    },
    async deleteClient(clientId) {
      const existed = (await core.clients.registered(clientId)) !== null;
      if (existed) {
        await core.clients.delete(clientId);
        onEvent({ type: 'client_deleted', clientId });
      }
      const grantsRevoked = await revokeAll(
        core,
        await everyGrantOf(core, { clientId }),
        'client deleted by an operator',
      );
      return { deleted: existed, grantsRevoked };
    },
    async purge() {
      const expired = (await core.config.storage.deleteExpired?.(core.now())) ?? null;
      let dangling = 0;
      for await (const entry of core.records.walk('index')) {
        if (!(await core.grants.get(entry.value))) {
          await core.records.delete('index', entry.key);
          dangling++;
        }
      }
      return { expired, danglingIndexEntries: dangling };
    },
    async secretStatus() {
      const ids = await core.keys.ids();
      const counts = new Map(ids.map((id) => [id, 0]));
      let unknown = 0;
      for (const grant of await allGrants(core)) {
        const by = KeyRing.sealedBy(grant.sealed);
        if (by !== null && counts.has(by)) counts.set(by, (counts.get(by) ?? 0) + 1);
        else unknown++;
      }
      const keys = ids.map((keyId, i) => ({ keyId, current: i === 0, grants: counts.get(keyId) ?? 0 }));
      return {
        keys,
        unknownKeyGrants: unknown,
        previousSecretsUnused: keys.slice(1).every((k) => k.grants === 0),
      };
    },
    async configuration() {
      const c = core.config;
      return {
        issuer: c.issuer,
        upstream: c.upstream.name,
        resources: c.resources.map((r) => ({ resource: r.resource, scopes: r.scopes })),
        scopesSupported: c.scopesSupported,
        lifetimesSeconds: { ...c.lifetimes },
        registration: {
          enabled: c.registration.enabled,
          limits: c.registration.limits,
          unusedClientSeconds:
            c.registration.unusedClientMs === null ? null : c.registration.unusedClientMs / 1000,
        },
        clientIdMetadataDocuments: c.clientIdMetadataDocuments.enabled,
        tokenCacheSeconds: c.tokenCache ? c.tokenCache.ttlMs / 1000 : null,
        storageTimeoutMs: c.storageTimeoutMs,
        storageAtomic: c.storage.capabilities.atomic,
        storageCanList: typeof c.storage.list === 'function',
        secretKeyIds: await core.keys.ids(),
      };
    },
  };
}
