/**
 * The parts of an `ioredis` client (`Redis` or `Cluster`) this package uses, declared structurally so
 * that its public types do not import `ioredis`, an optional peer: a Worker-only or in-memory install
 * type-checks without it, and a real `ioredis` client satisfies them.
 */

/** A value Redis accepts as a key or an argument. */
export type RedisArgument = string | number;

/** A MULTI transaction being built: the commands the storage queues, then `exec()`. */
export interface RedisTransactionLike {
  del(key: string): RedisTransactionLike;
  hset(key: string, ...fieldsAndValues: RedisArgument[]): RedisTransactionLike;
  pexpire(key: string, milliseconds: number): RedisTransactionLike;
  /** Each queued command's `[error, result]`; `null` when the transaction was discarded. */
  exec(): Promise<[error: Error | null, result: unknown][] | null>;
}

/** A pipeline being built: the reads the storage batches, then `exec()`. */
export interface RedisPipelineLike {
  hmget(key: string, ...fields: string[]): RedisPipelineLike;
  /** Each queued command's `[error, result]`; `null` when nothing ran. */
  exec(): Promise<[error: Error | null, result: unknown][] | null>;
}

/** The socket of a standalone client (a cluster client has none). */
export interface RedisSocketLike {
  readonly destroyed: boolean;
  readonly writable: boolean;
  destroy(error?: Error): void;
}

/** An `ioredis` `Redis` or `Cluster` client, as far as the storage uses it. */
export interface RedisClientLike {
  /** `wait`, `connecting`, `connect`, `ready`, `reconnecting`, `end`, … */
  readonly status: string;
  /** The current connection of a standalone client. */
  readonly stream?: RedisSocketLike;
  connect(): Promise<void>;
  disconnect(): void;
  quit(): Promise<unknown>;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  hmget(key: string, ...fields: string[]): Promise<(string | null)[]>;
  del(key: string): Promise<number>;
  multi(): RedisTransactionLike;
  pipeline(): RedisPipelineLike;
  /** `SCAN cursor MATCH pattern COUNT n`: the next cursor and a page of keys. */
  scan(
    cursor: string | number,
    match: 'MATCH',
    pattern: string,
    count: 'COUNT',
    howMany: number,
  ): Promise<[cursor: string, keys: string[]]>;
  evalsha(sha: string, keyCount: number, ...keysAndArgs: RedisArgument[]): Promise<unknown>;
  eval(script: string, keyCount: number, ...keysAndArgs: RedisArgument[]): Promise<unknown>;
}

/** The `ioredis` options the storage sets on a client it opens from a URL (see `redisClientOptions`). */
export interface RedisConnectionOptions {
  readonly lazyConnect: boolean;
  readonly connectTimeout: number;
  readonly socketTimeout?: number;
  readonly keepAlive: number;
  readonly enableOfflineQueue: boolean;
  readonly autoResendUnfulfilledCommands: boolean;
  readonly maxRetriesPerRequest: number;
  readonly retryStrategy: (attempt: number) => number;
}

/** The `ioredis` module, as far as the storage loads it to open a client from a URL. */
export interface RedisModuleLike {
  readonly Redis: new (url: string, options: RedisConnectionOptions) => RedisClientLike;
}
