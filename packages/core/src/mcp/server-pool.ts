import { ExpiringLru } from '../crypto/lru.js';
import type { TokenInfo } from '../types.js';

/** Most idle servers kept for one access token (as many as its requests that ran at the same time). */
const PER_TOKEN = 4;

/**
 * The idle stateless SDK servers of recent callers, keyed by access token: a server built by the
 * factory for one token serves that token's later requests, one request at a time, and no other
 * token's. A server goes back only after its transport was closed, and goes when its token expires.
 */
export class StatelessServers<S> {
  readonly #idle: ExpiringLru<string, S[]>;

  constructor(maxTokens: number, now: () => number) {
    this.#idle = new ExpiringLru(maxTokens, now);
  }

  /** An idle server built for this token, taken out of the pool (no other request gets it meanwhile). */
  take(info: TokenInfo): S | undefined {
    return this.#idle.get(info.token)?.pop();
  }

  /** Puts back a server whose request is over and whose transport is closed. */
  release(info: TokenInfo, server: S): void {
    const idle = this.#idle.get(info.token);
    if (!idle) this.#idle.set(info.token, [server], info.expiresAt * 1000);
    else if (idle.length < PER_TOKEN) idle.push(server);
  }
}
