import type { ClockOption, ConsumeResult, StorageCallOptions } from '@portcullis/core';
import type { KVBackend, KVEntry } from './backend.js';
import { KVStorage } from './kv-storage.js';
import type { RedisClientLike, RedisModuleLike } from './redis-client.js';
import { REDIS_DEFAULTS, RedisLink, redisClientOptions } from './redis-link.js';

/** Options of {@link redisKV}: a client you own, or a URL the storage opens its own client from. */
export type RedisKVOptions = RedisClientChoice & RedisCallOptions;

/** Where the Redis client comes from. */
export type RedisClientChoice =
  | {
      /** A connected `ioredis` client (or cluster). The caller owns it unless `quitOnClose` is set. */
      readonly client: RedisClientLike;
      /** Call `client.quit()` from `storage.close()`. Default `false`. */
      readonly quitOnClose?: boolean;
      readonly url?: undefined;
    }
  | {
      /**
       * A `redis://` or `rediss://` URL: the storage opens its own client (needs the optional `ioredis`
       * peer) with the timeouts below, TCP keep-alive, no offline queue and quick reconnects, and
       * `storage.close()` closes it.
       */
      readonly url: string;
      /** TCP keep-alive on the connection, first probe after this much idle time. Default 10000 ms. */
      readonly keepAliveInitialDelayMs?: number;
      /** Receives the client's connection errors (they never crash the process); default: ignored. */
      readonly onConnectionError?: (error: Error) => void;
      readonly client?: undefined;
    };

/** Time limits and expiry slack, for either kind of client. */
export interface RedisCallOptions {
  /**
   * Extra time Redis keeps a record after its logical expiry (ms). Reads compare expiry against the
   * storage clock, so this only absorbs clock skew between app servers and Redis. Default 5000.
   */
  readonly expirySlackMs?: number;
  /** How long a call waits for the client to connect and be ready. Default 3000 ms. */
  readonly connectTimeoutMs?: number;
  /**
   * A command unanswered after this long fails, and its connection is destroyed and reopened (a
   * half-open connection never answers). Default 5000 ms; `0` disables it.
   */
  readonly commandTimeoutMs?: number;
  /** Calls that may wait for the connection at once; more fail at once. Default 100. */
  readonly maxWaiting?: number;
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

/** Escapes Redis glob metacharacters so a key prefix matches literally in SCAN MATCH. */
const globEscape = (text: string): string => text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);

const num = (field: string | null | undefined): number | null =>
  field === null || field === undefined || field === '' ? null : Number(field);

/**
 * A {@link KVBackend} over Redis via `ioredis`. `consume` and `increment` are Lua scripts (atomic on
 * the server, single key so Redis Cluster works); `put` is a MULTI transaction. Redis expires records
 * itself, so there is no sweep.
 *
 * Every call runs through a {@link RedisLink}: it waits a bounded time for the connection, and a call
 * that is abandoned (its signal aborts) or unanswered for `commandTimeoutMs` recycles the connection,
 * so a half-open connection is replaced instead of holding every later command.
 *
 * @example
 * ```ts
 * const storage = new KVStorage({ backend: redisKV({ url: process.env.REDIS_URL! }), prefix: 'as:' });
 * ```
 */
export function redisKV(options: RedisKVOptions): KVBackend {
  const limits = {
    connectTimeoutMs: options.connectTimeoutMs ?? REDIS_DEFAULTS.connectTimeoutMs,
    commandTimeoutMs: options.commandTimeoutMs ?? REDIS_DEFAULTS.commandTimeoutMs,
    maxWaiting: options.maxWaiting ?? REDIS_DEFAULTS.maxWaiting,
  };
  const owned = options.url !== undefined;
  const link: Promise<RedisLink> =
    options.url !== undefined
      ? openClient(options.url, limits, options).then((client) => new RedisLink(client, limits))
      : Promise.resolve(new RedisLink(options.client, limits));
  link.catch(() => {}); // surfaced on first use
  const call = async <T>(
    callOptions: StorageCallOptions | undefined,
    send: (c: RedisClientLike) => Promise<T>,
  ) => (await link).call(callOptions, send);
  const slack = options.expirySlackMs ?? 5000;
  const shas = new Map<string, Promise<string>>();
  const run = (
    callOptions: StorageCallOptions | undefined,
    script: string,
    key: string,
    args: (string | number)[],
  ): Promise<unknown> =>
    call(callOptions, async (client) => {
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
    });
  return {
    atomic: true,
    async get(key, callOptions): Promise<KVEntry | null> {
      const [v, e, c] = await call(callOptions, (client) => client.hmget(key, 'v', 'e', 'c'));
      if (v === null || v === undefined) return null;
      return { value: v, expiresAt: num(e), consumedAt: num(c) };
    },
    async set(key, entry, ttlMs, callOptions) {
      const results = await call(callOptions, (client) => {
        const tx = client.multi().del(key);
        if (ttlMs === null || ttlMs > 0) {
          tx.hset(key, 'v', entry.value, 'e', entry.expiresAt ?? '', 'c', entry.consumedAt ?? '');
          if (ttlMs !== null) tx.pexpire(key, Math.ceil(ttlMs) + slack);
        }
        return tx.exec();
      });
      const failed = results?.find(([error]) => error);
      if (failed?.[0]) throw failed[0];
    },
    async delete(key, callOptions) {
      await call(callOptions, (client) => client.del(key));
    },
    async consume(key, now, at, callOptions): Promise<ConsumeResult> {
      const reply = (await run(callOptions, CONSUME, key, [now, at])) as [number, string?, string?];
      if (reply[0] === 1) return { status: 'consumed', value: reply[1] ?? '' };
      if (reply[0] === 2)
        return { status: 'already_consumed', value: reply[1] ?? '', consumedAt: Number(reply[2]) };
      return { status: 'missing' };
    },
    async increment(key, now, expiresAt, callOptions) {
      const ttl = Math.max(1, Math.ceil(expiresAt - now)) + slack;
      return Number(await run(callOptions, INCREMENT, key, [now, expiresAt, ttl]));
    },
    async list(prefix, page, callOptions) {
      // SCAN walks the keyspace with a cursor; a record present for the whole walk is returned at least
      // once. On a Redis Cluster client it walks one node only: management needs a single Redis there.
      const [next, keys] = await call(callOptions, (client) =>
        client.scan(page.cursor ?? '0', 'MATCH', `${globEscape(prefix)}*`, 'COUNT', page.limit),
      );
      const rows =
        keys.length === 0
          ? []
          : await call(callOptions, (client) => {
              const pipeline = client.pipeline();
              for (const key of keys) pipeline.hmget(key, 'v', 'e', 'c');
              return pipeline.exec();
            });
      const entries: { key: string; entry: KVEntry }[] = [];
      keys.forEach((key, i) => {
        const [error, fields] = rows?.[i] ?? [null, null];
        if (error) throw error;
        const [v, e, c] = (fields ?? []) as (string | null)[];
        if (v !== null && v !== undefined) {
          entries.push({ key, entry: { value: v, expiresAt: num(e), consumedAt: num(c) } });
        }
      });
      return { entries, cursor: next === '0' ? null : next };
    },
    async close() {
      const { client } = await link.catch(() => ({ client: undefined }));
      if (!client) return;
      if (owned) client.disconnect();
      else if (options.quitOnClose) await client.quit();
    },
  };
}

async function openClient(
  url: string,
  limits: typeof REDIS_DEFAULTS,
  options: { readonly keepAliveInitialDelayMs?: number; readonly onConnectionError?: (error: Error) => void },
): Promise<RedisClientLike> {
  let mod: RedisModuleLike;
  const name = 'ioredis';
  try {
    mod = (await import(/* @vite-ignore */ name)) as RedisModuleLike;
  } catch (error) {
    throw new Error(
      '@portcullis/storage-kv needs the optional peer dependency "ioredis": npm install ioredis',
      {
        cause: error,
      },
    );
  }
  const client = new mod.Redis(url, redisClientOptions(limits, options.keepAliveInitialDelayMs ?? 10_000));
  const onError = options.onConnectionError;
  client.on('error', (error) => onError?.(error instanceof Error ? error : new Error(String(error))));
  return client;
}

/** Options of {@link redisStorage}: {@link RedisKVOptions} plus a key prefix and a clock. */
export type RedisStorageOptions = RedisKVOptions &
  ClockOption & {
    /** Key prefix; use one per server (and per test run). Default `portcullis:`. */
    readonly prefix?: string;
  };

/**
 * A {@link KVStorage} on Redis: atomic (`capabilities.atomic = true`), shared by every instance. Give
 * it a `url` (the storage opens a client with safe timeouts and owns it) or an `ioredis` `client` you
 * own (then configure `enableOfflineQueue: false` and `autoResendUnfulfilledCommands: false` on it, see
 * the package README).
 *
 * @example
 * ```ts
 * import { redisStorage } from '@portcullis/storage-kv';
 * const storage = redisStorage({ url: process.env.REDIS_URL!, prefix: 'my-as:' });
 * ```
 */
export function redisStorage(options: RedisStorageOptions): KVStorage {
  return new KVStorage({ prefix: options.prefix, now: options.now, backend: redisKV(options) });
}
