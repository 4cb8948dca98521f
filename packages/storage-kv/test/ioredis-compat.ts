/**
 * Compile-time check (run by `pnpm typecheck`): the structural client type of the public API accepts
 * both kinds of `ioredis` client, so the package's `.d.ts` needs no `ioredis` import.
 */
import type { Cluster, Redis } from 'ioredis';
import type { RedisClientLike, RedisModuleLike } from '../src/index.js';

export type Accepts<T extends RedisClientLike> = T;
export type StandaloneClient = Accepts<Redis>;
export type ClusterClient = Accepts<Cluster>;
export type IoredisModule = typeof import('ioredis') extends RedisModuleLike ? true : never;
export const ioredisModuleMatches: IoredisModule = true;
