import type { ClockOption, ConsumeResult } from '@portcullis/core';
import type { Cluster, Redis } from 'ioredis';
import type { KVBackend, KVEntry } from './backend.js';
import { KVStorage } from './kv-storage.js';

/** Options of {@link redisKV}. */
export interface RedisKVOptions {
  /** A connected `ioredis` client (or cluster). The caller owns it unless `quitOnClose` is set. */
  readonly client: Redis | Cluster;
  /** Call `client.quit()` from `storage.close()`. Default `false`. */
  readonly quitOnClose?: boolean;
  /**
   * Extra time Redis keeps a record after its logical expiry (ms). Reads compare expiry against the
   * storage clock, so this only absorbs clock skew between app servers and Redis. Default 5000.
   */
  readonly expirySlackMs?: number;
}

// Entries are hashes {v: value, e: expiresAt|'' , c: consumedAt|''}.
// KEYS[1]; ARGV: now, consumedAt. Returns {0} missing, {1, v} consumed, {2, v, c} already consumed.
const CONSUME = `
local r = redis.call('HMGET', KEYS[1], 'v', 'e', 'c')
if not r[1] then return {0} end
if r[2] and r[2] ~= '' and tonumber(r[2]) <= tonumber(ARGV[1]) then return {0} end
if r[3] and r[3] ~= '' then return {2, r[1], r[3]} end
redis.call('HSET', KEYS[1], 'c', ARGV[2])
return {1, r[1]}`;

// KEYS[1]; ARGV: now, expiresAt, pexpire. Returns the new count.
const INCREMENT = `
local r = redis.call('HMGET', KEYS[1], 'v', 'e')
if r[1] and (not r[2] or r[2] == '' or tonumber(r[2]) > tonumber(ARGV[1])) then
  return redis.call('HINCRBY', KEYS[1], 'v', 1)
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'v', '1', 'e', ARGV[2], 'c', '')
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1`;

async function sha1Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-1', new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

const num = (field: string | null | undefined): number | null =>
  field === null || field === undefined || field === '' ? null : Number(field);

/**
 * A {@link KVBackend} over Redis via `ioredis`. `consume` and `increment` are Lua scripts (atomic on
 * the server, single key so Redis Cluster works); `put` is a MULTI transaction. Redis expires records
 * itself, so there is no sweep.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * const storage = new KVStorage({ backend: redisKV({ client: new Redis(process.env.REDIS_URL!) }), prefix: 'as:' });
 * ```
 */
export function redisKV(options: RedisKVOptions): KVBackend {
  const { client } = options;
  const slack = options.expirySlackMs ?? 5000;
  const shas = new Map<string, Promise<string>>();
  const run = async (script: string, key: string, args: (string | number)[]): Promise<unknown> => {
    let sha = shas.get(script);
    if (!sha) {
      sha = sha1Hex(script);
      shas.set(script, sha);
    }
    try {
      return await client.evalsha(await sha, 1, key, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.includes('NOSCRIPT')) throw error;
      return client.eval(script, 1, key, ...args);
    }
  };
  return {
    atomic: true,
    async get(key): Promise<KVEntry | null> {
      const [v, e, c] = await client.hmget(key, 'v', 'e', 'c');
      if (v === null || v === undefined) return null;
      return { value: v, expiresAt: num(e), consumedAt: num(c) };
    },
    async set(key, entry, ttlMs) {
      const tx = client.multi().del(key);
      if (ttlMs === null || ttlMs > 0) {
        tx.hset(key, 'v', entry.value, 'e', entry.expiresAt ?? '', 'c', entry.consumedAt ?? '');
        if (ttlMs !== null) tx.pexpire(key, Math.ceil(ttlMs) + slack);
      }
      const results = await tx.exec();
      const failed = results?.find(([error]) => error);
      if (failed?.[0]) throw failed[0];
    },
    async delete(key) {
      await client.del(key);
    },
    async consume(key, now, at): Promise<ConsumeResult> {
      const reply = (await run(CONSUME, key, [now, at])) as [number, string?, string?];
      if (reply[0] === 1) return { status: 'consumed', value: reply[1] ?? '' };
      if (reply[0] === 2)
        return { status: 'already_consumed', value: reply[1] ?? '', consumedAt: Number(reply[2]) };
      return { status: 'missing' };
    },
    async increment(key, now, expiresAt) {
      const ttl = Math.max(1, Math.ceil(expiresAt - now)) + slack;
      return Number(await run(INCREMENT, key, [now, expiresAt, ttl]));
    },
    async close() {
      if (options.quitOnClose) await client.quit();
    },
  };
}

/** Options of {@link redisStorage}. */
export interface RedisStorageOptions extends RedisKVOptions, ClockOption {
  /** Key prefix; use one per server (and per test run). Default `portcullis:`. */
  readonly prefix?: string;
}

/**
 * A {@link KVStorage} on Redis: atomic (`capabilities.atomic = true`), shared by every instance.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { redisStorage } from '@portcullis/storage-kv';
 * const storage = redisStorage({ client: new Redis(process.env.REDIS_URL!), prefix: 'my-as:' });
 * ```
 */
export function redisStorage(options: RedisStorageOptions): KVStorage {
  return new KVStorage({ prefix: options.prefix, now: options.now, backend: redisKV(options) });
}
