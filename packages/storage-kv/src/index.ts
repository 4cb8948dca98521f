/**
 * Key-value storage for Portcullis: Redis, in-memory, Cloudflare KV, and a Durable Object
 * ({@link PortcullisCoordinator}) that makes single-use records atomic on Cloudflare.
 *
 * @example
 * ```ts
 * // Cloudflare Workers: KV for long-lived records, the Durable Object for codes and refresh tokens.
 * import { cloudflareStorage, PortcullisCoordinator } from '@portcullis/storage-kv';
 * export { PortcullisCoordinator };
 * const storage = cloudflareStorage({ kv: env.OAUTH_KV, coordinator: env.PORTCULLIS });
 * ```
 * @module
 */
export type { KVBackend, KVEntry } from './backend.js';
export type { CloudflareKVStorageOptions, CloudflareStorageOptions } from './cloudflare.js';
export { cloudflareKVStorage, cloudflareStorage } from './cloudflare.js';
export type { CloudflareKVOptions } from './cloudflare-kv.js';
export { cloudflareKV } from './cloudflare-kv.js';
export type {
  DurableObjectNamespaceLike,
  DurableObjectStateLike,
  DurableObjectStorageLike,
  DurableObjectStubLike,
  KVNamespaceLike,
} from './cloudflare-types.js';
export type { CoordinatorCall } from './coordinator.js';
export { PortcullisCoordinator, parseCoordinatorCall } from './coordinator.js';
export type { DurableObjectKVOptions } from './durable-object.js';
export { durableObjectKV } from './durable-object.js';
export type { KVStorageOptions } from './kv-storage.js';
export { KVStorage } from './kv-storage.js';
export type { MemoryKVStorageOptions } from './memory.js';
export { memoryKV, memoryKVStorage } from './memory.js';
export type { RedisCallOptions, RedisClientChoice, RedisKVOptions, RedisStorageOptions } from './redis.js';
export { redisKV, redisStorage } from './redis.js';
export type {
  RedisArgument,
  RedisClientLike,
  RedisConnectionOptions,
  RedisModuleLike,
  RedisPipelineLike,
  RedisSocketLike,
  RedisTransactionLike,
} from './redis-client.js';
export type { RedisLimits } from './redis-link.js';
export { REDIS_DEFAULTS, RedisLink, redisClientOptions } from './redis-link.js';
export type { RoutedStorageOptions } from './routed.js';
export { COORDINATOR_KINDS, RoutedStorage, SINGLE_USE_KINDS } from './routed.js';
