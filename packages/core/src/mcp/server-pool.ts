import type { TokenInfo } from '../types.js';

/** Most idle servers kept in all: as many as ran at once at the peak, within this bound. */
export const MAX_IDLE_SERVERS = 256;

interface Idle<S> {
  readonly servers: S[];
  /** When the token expires (epoch ms): its servers go with it. */
  readonly expiresAt: number;
}

/**
 * The idle stateless SDK servers of recent callers, keyed by access token: a server built by the
 * factory for one token serves that token's later requests, one request at a time, and no other
 * token's. A server goes back only after its transport was closed, and goes when its token expires or,
 * past {@link MAX_IDLE_SERVERS}, when it belongs to the token that gave one back the longest ago.
 */
export class StatelessServers<S> {
  /** By token, the token that last gave a server back last. */
  readonly #idle = new Map<string, Idle<S>>();
  #count = 0;

  constructor(readonly now: () => number) {}

  /** An idle server built for this token, taken out of the pool (no other request gets it meanwhile). */
  take(info: TokenInfo): S | undefined {
    const idle = this.#idle.get(info.token);
    if (!idle) return undefined;
    if (idle.expiresAt <= this.now()) {
      this.#drop(info.token, idle);
      return undefined;
    }
    const server = idle.servers.pop();
    // An entry lives only while it holds a server (release makes it again).
    if (idle.servers.length === 0) this.#idle.delete(info.token);
    if (server !== undefined) this.#count--;
    return server;
  }

  /** Puts back a server whose request is over and whose transport is closed. */
  release(info: TokenInfo, server: S): void {
    const idle = this.#idle.get(info.token) ?? { servers: [], expiresAt: info.expiresAt * 1000 };
    this.#idle.delete(info.token);
    this.#idle.set(info.token, idle);
    idle.servers.push(server);
    this.#count++;
    while (this.#count > MAX_IDLE_SERVERS) this.#evictOne();
  }

  /** Idle servers in all. */
  get size(): number {
    return this.#count;
  }

  #evictOne(): void {
    const [token, oldest] = this.#idle.entries().next().value as [string, Idle<S>];
    oldest.servers.shift();
    this.#count--;
    if (oldest.servers.length === 0) this.#idle.delete(token);
  }

  #drop(token: string, idle: Idle<S>): void {
    this.#idle.delete(token);
    this.#count -= idle.servers.length;
  }
}
