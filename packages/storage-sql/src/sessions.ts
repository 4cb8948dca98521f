import type { StorageCallOptions } from '@portcullis/core';

/** How {@link Sessions} checks connections out of a pool and gives them back. */
export interface ConnectionSource<C> {
  /** Checks out a connection (waiting for a free one, or opening one). */
  acquire(): Promise<C>;
  /** Gives a healthy connection back to the pool. */
  release(connection: C): void;
  /** Takes a connection out of the pool for good and closes its socket: it may be stuck. */
  destroy(connection: C, reason: Error): void;
}

/** Limits of {@link Sessions}. */
export interface SessionLimits {
  /** A statement that has not answered after this long fails and its connection is destroyed; 0: never. */
  readonly queryTimeoutMs: number;
  /** Callers that may wait for a connection at once; the next one fails at once. */
  readonly maxWaiting: number;
}

/** Runs statements on one checked-out connection; see {@link Sessions.run}. */
export interface Session<C> {
  /** The checked-out connection (for listeners; run statements through {@link statement}). */
  readonly connection: C;
  /** Runs one statement on the session's connection, under the query timeout and the call's signal. */
  statement<T>(run: (connection: C) => Promise<T>): Promise<T>;
  /** Destroys the connection at the end instead of returning it (its state is unknown, e.g. a failed ROLLBACK). */
  discard(reason: Error): void;
}

const asError = (reason: unknown): Error =>
  reason instanceof Error ? reason : new Error(typeof reason === 'string' ? reason : 'aborted');

/**
 * Settles like `promise`, or rejects with the abort reason as soon as `signal` aborts. The promise is
 * left to settle on its own (its rejection is handled).
 */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) {
    promise.catch(() => {});
    return Promise.reject(asError(signal.reason));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(asError(signal.reason));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** How long `close()` waits for the connections it opened to say goodbye. */
export const CLOSE_TIMEOUT_MS = 2000;

/**
 * Waits for `closing` (a pool's `end()`) at most `ms`: a black-holed connection never answers its
 * goodbye, and shutting down must not hang on it. The rest of the closing goes on in the background.
 */
export async function closeWithin(closing: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    closing.catch(() => {}),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
    }),
  ]);
  clearTimeout(timer);
}

/**
 * Checks connections out of a pool for one storage call at a time, so that a call the caller abandons
 * (its `signal` aborts) or a statement that stops answering (`queryTimeoutMs`) destroys the connection
 * it ran on instead of returning a stuck connection to the pool. The pool then opens a fresh one: a
 * black-holed connection is replaced and the store recovers by itself once it answers again.
 *
 * Waiting for a connection is bounded: at most `maxWaiting` callers wait at once (the next fails at
 * once), and a caller that aborts stops waiting (the connection, when it comes, goes back to the pool).
 */
export class Sessions<C> {
  #waiting = 0;

  constructor(
    readonly source: ConnectionSource<C>,
    readonly limits: SessionLimits,
  ) {}

  /** Callers waiting for a connection right now. */
  get waiting(): number {
    return this.#waiting;
  }

  /** Checks out a connection, runs `fn` on it, and gives it back, or destroys it if the call was abandoned. */
  async run<T>(options: StorageCallOptions | undefined, fn: (session: Session<C>) => Promise<T>): Promise<T> {
    const signal = options?.signal;
    signal?.throwIfAborted();
    const connection = await this.#acquire(signal);
    let broken: Error | undefined;
    const breakWith = (reason: Error) => {
      if (broken) return;
      broken = reason;
      this.source.destroy(connection, reason);
    };
    const onAbort = () => breakWith(asError(signal?.reason));
    signal?.addEventListener('abort', onAbort, { once: true });
    const { queryTimeoutMs } = this.limits;
    const session: Session<C> = {
      connection,
      discard: breakWith,
      statement: <R>(run: (c: C) => Promise<R>): Promise<R> => {
        if (broken) return Promise.reject<R>(broken);
        const work = run(connection);
        if (queryTimeoutMs <= 0) return work;
        return new Promise<R>((resolve, reject) => {
          const timer = setTimeout(() => {
            const reason = new Error(`the database did not answer within ${queryTimeoutMs} ms`);
            breakWith(reason);
            reject(reason);
          }, queryTimeoutMs);
          work.then(
            (value) => {
              clearTimeout(timer);
              resolve(value);
            },
            (error: unknown) => {
              clearTimeout(timer);
              reject(broken ?? error);
            },
          );
        });
      },
    };
    try {
      return await abortable(fn(session), signal);
    } finally {
      signal?.removeEventListener('abort', onAbort);
      if (!broken) this.source.release(connection);
    }
  }

  async #acquire(signal: AbortSignal | undefined): Promise<C> {
    if (this.#waiting >= this.limits.maxWaiting) {
      throw new Error(`${this.#waiting} calls already wait for a database connection`);
    }
    this.#waiting++;
    const pending = this.source.acquire();
    // Counted until the pool settles it, so the bound covers the pool's own queue.
    pending.then(
      () => this.#waiting--,
      () => this.#waiting--,
    );
    try {
      return await abortable(pending, signal);
    } catch (error) {
      if (signal?.aborted)
        pending.then(
          (c) => this.source.release(c),
          () => {},
        );
      throw error;
    }
  }
}
