import type { KVBackend, KVEntry } from './backend.js';
import type { KVNamespaceLike } from './cloudflare-types.js';

/** Metadata stored with each KV value: logical expiry and consumed mark (epoch ms). */
interface EntryMetadata {
  readonly e: number | null;
  readonly c: number | null;
}

/** Reads one time field of the metadata, tolerating keys written by something else. */
function timeOf(metadata: unknown, field: 'e' | 'c'): number | null {
  if (typeof metadata !== 'object' || metadata === null) return null;
  const t = (metadata as Record<string, unknown>)[field];
  return typeof t === 'number' ? t : null;
}

/** Cloudflare KV refuses expirations less than 60 seconds away. */
const MIN_KV_TTL_SECONDS = 60;

/** Options of {@link cloudflareKV}. */
export interface CloudflareKVOptions {
  /** The KV namespace binding, e.g. `env.OAUTH_KV`. */
  readonly namespace: KVNamespaceLike;
}

/**
 * A {@link KVBackend} over a Cloudflare KV namespace. The value is stored as is; expiry and the
 * consumed mark travel in the key's metadata, and KV's own TTL (at least 60 s) removes the key later.
 *
 * KV is eventually consistent: a write can take 60 seconds or more to be visible in other locations
 * and a key accepts about one write per second. It has no compare-and-set, so this backend has no
 * atomic primitive and a {@link KVStorage} over it reports `capabilities.atomic = false`: two
 * locations could both redeem the same authorization code. Use {@link cloudflareStorage} (KV plus the
 * {@link PortcullisCoordinator} Durable Object) in production.
 *
 * @example
 * ```ts
 * const storage = new KVStorage({ backend: cloudflareKV({ namespace: env.OAUTH_KV }) });
 * ```
 */
export function cloudflareKV(options: CloudflareKVOptions): KVBackend {
  const kv = options.namespace;
  return {
    atomic: false,
    async get(key): Promise<KVEntry | null> {
      const { value, metadata } = await kv.getWithMetadata(key, 'text');
      if (value === null) return null;
      return { value, expiresAt: timeOf(metadata, 'e'), consumedAt: timeOf(metadata, 'c') };
    },
    async set(key, entry, ttlMs) {
      if (ttlMs !== null && ttlMs <= 0) {
        await kv.delete(key);
        return;
      }
      const metadata: EntryMetadata = { e: entry.expiresAt, c: entry.consumedAt };
      await kv.put(
        key,
        entry.value,
        ttlMs === null
          ? { metadata }
          : { metadata, expirationTtl: Math.max(MIN_KV_TTL_SECONDS, Math.ceil(ttlMs / 1000)) },
      );
    },
    async delete(key) {
      await kv.delete(key);
    },
    async list(prefix, page) {
      const listed = await kv.list({ prefix, cursor: page.cursor ?? null, limit: page.limit });
      // KV lists keys and metadata only: the values are read one by one (eventually consistent).
      const entries = await Promise.all(
        listed.keys.map(async (k) => {
          const { value, metadata } = await kv.getWithMetadata(k.name, 'text');
          if (value === null) return null;
          const entry: KVEntry = {
            value,
            expiresAt: timeOf(metadata, 'e'),
            consumedAt: timeOf(metadata, 'c'),
          };
          return { key: k.name, entry };
        }),
      );
      return {
        entries: entries.filter((e) => e !== null),
        cursor: listed.list_complete ? null : (listed.cursor ?? null),
      };
    },
    async sweep(prefix, now) {
      let removed = 0;
      let cursor: string | undefined;
      do {
        const page = await kv.list({ prefix, cursor: cursor ?? null, limit: 1000 });
        const expired = page.keys.filter((k) => {
          const e = timeOf(k.metadata, 'e');
          return e !== null && e <= now;
        });
        await Promise.all(expired.map((k) => kv.delete(k.name)));
        removed += expired.length;
        cursor = page.list_complete ? undefined : page.cursor;
      } while (cursor);
      return removed;
    },
  };
}
