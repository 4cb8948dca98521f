import { type ClockOption, type ConsumeResult, pageSorted } from '@portcullis/core';
import { isExpired, type KVBackend, type KVEntry } from './backend.js';
import { KVStorage } from './kv-storage.js';

/**
 * An in-memory {@link KVBackend}: atomic within one process (every operation runs synchronously),
 * lost on restart. For tests and single-process servers.
 *
 * @example
 * ```ts
 * const storage = new KVStorage({ backend: memoryKV() });
 * ```
 */
export function memoryKV(): KVBackend {
  const entries = new Map<string, KVEntry>();
  const live = (key: string, now: number): KVEntry | undefined => {
    const entry = entries.get(key);
    if (entry && isExpired(entry, now)) {
      entries.delete(key);
      return undefined;
    }
    return entry;
  };
  return {
    atomic: true,
    async get(key) {
      return entries.get(key) ?? null;
    },
    async set(key, entry, ttlMs) {
      if (ttlMs !== null && ttlMs <= 0) entries.delete(key);
      else entries.set(key, { ...entry });
    },
    async delete(key) {
      entries.delete(key);
    },
    async consume(key, now, at): Promise<ConsumeResult> {
      const entry = live(key, now);
      if (!entry) return { status: 'missing' };
      if (entry.consumedAt !== null) {
        return { status: 'already_consumed', value: entry.value, consumedAt: entry.consumedAt };
      }
      entries.set(key, { ...entry, consumedAt: at });
      return { status: 'consumed', value: entry.value };
    },
    async increment(key, now, expiresAt) {
      const entry = live(key, now);
      const next = entry ? Number.parseInt(entry.value, 10) + 1 : 1;
      entries.set(key, {
        value: String(next),
        expiresAt: entry ? entry.expiresAt : expiresAt,
        consumedAt: null,
      });
      return next;
    },
    async list(prefix, page) {
      const records = [...entries].map(([key, entry]) => ({ key, ...entry }));
      const sorted = pageSorted(records, {
        prefix,
        limit: page.limit,
        ...(page.cursor ? { cursor: page.cursor } : {}),
      });
      return {
        entries: sorted.records.map(({ key, value, expiresAt, consumedAt }) => ({
          key,
          entry: { value, expiresAt, consumedAt },
        })),
        cursor: sorted.cursor,
      };
    },
    async sweep(prefix, now) {
      let removed = 0;
      for (const [key, entry] of entries) {
        if (key.startsWith(prefix) && isExpired(entry, now)) {
          entries.delete(key);
          removed++;
        }
      }
      return removed;
    },
  };
}

/** Options of {@link memoryKVStorage}. */
export interface MemoryKVStorageOptions extends ClockOption {
  readonly prefix?: string;
}

/**
 * A {@link KVStorage} over {@link memoryKV}: atomic within this process, lost on restart.
 *
 * @example
 * ```ts
 * const storage = memoryKVStorage();
 * ```
 */
export function memoryKVStorage(options: MemoryKVStorageOptions = {}): KVStorage {
  return new KVStorage({ ...options, backend: memoryKV() });
}
