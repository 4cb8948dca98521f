import type { ClockOption, RecordKind, Storage } from '@portcullis/core';
import { cloudflareKV } from './cloudflare-kv.js';
import type { DurableObjectNamespaceLike, KVNamespaceLike } from './cloudflare-types.js';
import { durableObjectKV } from './durable-object.js';
import { KVStorage } from './kv-storage.js';
import { COORDINATOR_KINDS, RoutedStorage } from './routed.js';

/** Options of {@link cloudflareStorage}. */
export interface CloudflareStorageOptions extends ClockOption {
  /** Binding of the {@link PortcullisCoordinator} Durable Object class. Required: it makes the storage atomic. */
  readonly coordinator: DurableObjectNamespaceLike;
  /**
   * KV namespace for long-lived records (clients, grants, access tokens, consents, caches). When
   * omitted, every record lives in the coordinator: revocation is then instant everywhere, at the cost
   * of one Durable Object round trip per token check.
   */
  readonly kv?: KVNamespaceLike;
  /** Key prefix in both KV and the coordinator. Default `portcullis:`. */
  readonly prefix?: string;
  /** Coordinator instance name. Default `portcullis`. */
  readonly coordinatorName?: string;
  /**
   * Kinds kept in the coordinator when `kv` is given. Default {@link COORDINATOR_KINDS} (codes, refresh
   * tokens, counters, pending authorizations and grants); leaving any single-use kind out makes the
   * storage non-atomic.
   */
  readonly coordinatorKinds?: readonly RecordKind[];
  /**
   * Let `deleteExpired` also list and delete expired KV keys. Default `false`: KV drops keys itself
   * (at most 60 s after their expiry) and list operations are billed.
   */
  readonly sweepKV?: boolean;
}

/**
 * The production storage for Cloudflare Workers: single-use records and grants in the
 * {@link PortcullisCoordinator} Durable Object (atomic consume and counters, instant revocation), clients,
 * access tokens, consents and caches in Cloudflare KV (fast replicated reads) — or everything in the
 * coordinator when no KV namespace is given. `capabilities.atomic` is `true`.
 *
 * @example
 * ```ts
 * import { cloudflareStorage, PortcullisCoordinator } from '@portcullis/storage-kv';
 * export { PortcullisCoordinator };
 * const storage = cloudflareStorage({ kv: env.OAUTH_KV, coordinator: env.PORTCULLIS });
 * ```
 */
export function cloudflareStorage(options: CloudflareStorageOptions): Storage {
  const base = { prefix: options.prefix, now: options.now };
  const coordinated = new KVStorage({
    ...base,
    backend: durableObjectKV({ namespace: options.coordinator, name: options.coordinatorName }),
  });
  if (!options.kv) return coordinated;
  const kv = new KVStorage({ ...base, backend: cloudflareKV({ namespace: options.kv }) });
  const kinds = options.coordinatorKinds ?? COORDINATOR_KINDS;
  const routes: Partial<Record<RecordKind, Storage>> = {};
  for (const kind of kinds) routes[kind] = coordinated;
  return new RoutedStorage({
    fallback: kv,
    routes,
    sweep: options.sweepKV ? [coordinated, kv] : [coordinated],
  });
}

/** Options of {@link cloudflareKVStorage}. */
export interface CloudflareKVStorageOptions extends ClockOption {
  readonly namespace: KVNamespaceLike;
  readonly prefix?: string;
}

/**
 * A storage wholly in Cloudflare KV. Not atomic (`capabilities.atomic = false`): KV is eventually
 * consistent and has no compare-and-set, so two locations can redeem one code. Only for a single
 * instance or development; prefer {@link cloudflareStorage}.
 *
 * @example
 * ```ts
 * const storage = cloudflareKVStorage({ namespace: env.OAUTH_KV });
 * ```
 */
export function cloudflareKVStorage(options: CloudflareKVStorageOptions): KVStorage {
  return new KVStorage({ prefix: options.prefix, now: options.now, backend: cloudflareKV(options) });
}
