import type { StorageCallOptions } from '@portcullis/core';
import type { RedisClientLike, RedisConnectionOptions, RedisSocketLike } from './redis-client.js';

/** Time limits of Redis calls; see {@link RedisLink}. */
export interface RedisLimits {
  /** How long a call waits for the client to be connected and ready. */
  readonly connectTimeoutMs: number;
  /** How long a command may go unanswered before its connection is recycled; 0: never. */
  readonly commandTimeoutMs: number;
  /** Calls that may wait for the client to be ready at once; more fail at once. */
  readonly maxWaiting: number;
}

/** The default limits, below the core's 8000 ms storage timeout. */
export const REDIS_DEFAULTS: RedisLimits = {
  connectTimeoutMs: 3000,
  commandTimeoutMs: 5000,
  maxWaiting: 100,
};

const asError = (reason: unknown): Error =>
  reason instanceof Error ? reason : new Error(typeof reason === 'string' ? reason : 'aborted');

/**
 * The `ioredis` options the storage uses for a client it opens from a URL: no offline queue (a call
 * while disconnected waits for the connection within `connectTimeoutMs`, bounded by `maxWaiting`,
 * instead of piling up in an unbounded queue), no replay of unanswered commands after a reconnect (a
 * timed-out consume must not run again later), every unanswered command failed when a connection
 * closes, a socket timeout and TCP keep-alive to notice half-open connections, and quick reconnects.
 */
export function redisClientOptions(
  limits: RedisLimits,
  keepAliveInitialDelayMs: number,
): RedisConnectionOptions {
  return {
    lazyConnect: false,
    connectTimeout: limits.connectTimeoutMs,
    ...(limits.commandTimeoutMs > 0 ? { socketTimeout: limits.commandTimeoutMs } : {}),
    keepAlive: keepAliveInitialDelayMs,
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 0,
    retryStrategy: (attempt: number) => Math.min(attempt * 100, 1000),
  };
}

/** What every link on one client shares: who waits for it to be ready, and since when it is connected. */
interface Readiness {
  /** Calls waiting for the client to be ready; each entry wakes one. */
  readonly waiters: Set<() => void>;
  /** When the current connection was established (its handshake then runs until `ready`). */
  connectedAt: number;
}

/** One tracker (and one pair of listeners) per client, however many storages share it. */
const readiness = new WeakMap<RedisClientLike, Readiness>();

function readinessOf(client: RedisClientLike): Readiness {
  let state = readiness.get(client);
  if (!state) {
    // When the status is already `connect`, its handshake started at most now.
    const created: Readiness = { waiters: new Set(), connectedAt: Date.now() };
    client.on('connect', () => {
      created.connectedAt = Date.now();
    });
    client.on('ready', () => {
      for (const waiter of [...created.waiters]) waiter();
    });
    readiness.set(client, created);
    state = created;
  }
  return state;
}

/**
 * Runs the storage's commands on one `ioredis` client so that an abandoned call is abandoned for real.
 *
 * A call first waits (up to `connectTimeoutMs`, at most `maxWaiting` callers) for the client to be
 * ready. When the call's signal aborts, or a command goes unanswered for `commandTimeoutMs`, the
 * connection it was sent on is destroyed: ioredis fails every command queued on it and reconnects, so a
 * black-holed connection is replaced and the storage recovers by itself once Redis answers again.
 * (A Redis Cluster client is only waited for: it has no single connection to recycle.)
 */
export class RedisLink {
  readonly #ready: Readiness;

  constructor(
    readonly client: RedisClientLike,
    readonly limits: RedisLimits,
  ) {
    this.#ready = readinessOf(client);
  }

  /** Sends the command(s) of one storage call once the client is ready, under the call's signal. */
  async call<T>(options: StorageCallOptions | undefined, send: (client: RedisClientLike) => Promise<T>) {
    const signal = options?.signal;
    signal?.throwIfAborted();
    if (!this.#usable()) await this.#whenReady(signal);
    const stream = this.#stream();
    const work = send(this.client);
    return new Promise<T>((resolve, reject) => {
      const fail = (reason: Error) => {
        settle();
        this.#recycle(stream, reason);
        reject(reason);
      };
      const onAbort = () => fail(asError(signal?.reason));
      const { commandTimeoutMs } = this.limits;
      const timer =
        commandTimeoutMs > 0
          ? setTimeout(
              () => fail(new Error(`Redis did not answer within ${commandTimeoutMs} ms`)),
              commandTimeoutMs,
            )
          : undefined;
      const settle = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      work.then(
        (value) => {
          settle();
          resolve(value);
        },
        (error: unknown) => {
          settle();
          reject(error);
        },
      );
    });
  }

  /**
   * Ready, on a socket that can still be written: right after a recycle, the status stays `ready` until
   * ioredis has handled the socket's close, and a command sent then fails at once.
   */
  #usable(): boolean {
    const stream = this.#stream();
    return this.client.status === 'ready' && (stream === undefined || (stream.writable && !stream.destroyed));
  }

  #stream(): RedisSocketLike | undefined {
    return this.client.stream;
  }

  /** Destroys the connection a stuck command was sent on, if it is still the client's connection. */
  #recycle(stream: RedisSocketLike | undefined, reason: Error): void {
    if (stream && stream === this.#stream() && !stream.destroyed) stream.destroy(reason);
  }

  /**
   * Waits until the client is ready. Waiters are kept in a set and removed when they give up: a
   * long-lived shared promise raced by every call would keep each caller alive until Redis returns.
   */
  #whenReady(signal: AbortSignal | undefined): Promise<void> {
    const { client } = this;
    if (client.status === 'end') return Promise.reject(new Error('the Redis connection is closed'));
    const { waiters } = this.#ready;
    if (waiters.size >= this.limits.maxWaiting) {
      return Promise.reject(new Error(`${waiters.size} calls already wait for the Redis connection`));
    }
    if (client.status === 'wait') client.connect().catch(() => {});
    return new Promise<void>((resolve, reject) => {
      const { connectTimeoutMs } = this.limits;
      const done = () => {
        waiters.delete(wake);
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      const timer = setTimeout(() => {
        done();
        // Connected long ago but never ready: the handshake is stuck on a half-open connection.
        const reason = new Error(`Redis was not ready within ${connectTimeoutMs} ms`);
        const stuck = client.status === 'connect' && Date.now() - this.#ready.connectedAt >= connectTimeoutMs;
        if (stuck) this.#recycle(this.#stream(), reason);
        reject(reason);
      }, connectTimeoutMs);
      const onAbort = () => {
        done();
        reject(asError(signal?.reason));
      };
      const wake = () => {
        done();
        resolve();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      waiters.add(wake);
    });
  }
}
