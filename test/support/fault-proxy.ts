/**
 * A TCP proxy on 127.0.0.1 that sits between a client (a gateway) and a store (PostgreSQL, Redis,
 * MariaDB) and injects the network faults a database client meets in production:
 *
 * | call          | what the client sees                                                                 |
 * | ------------- | ------------------------------------------------------------------------------------ |
 * | `cut()`       | every open connection is reset (RST), as when the store restarts or a firewall kills it |
 * | `refuse()`    | `cut()`, and every new connection is reset at once: the store is down                 |
 * | `stall()`     | a black hole: open and new sockets stay open, writes succeed, nothing ever answers    |
 * | `cutIdle(ms)` | connections without traffic for `ms` are reset (an idle timeout on the way)           |
 * | `heal()`      | new connections are forwarded again                                                   |
 *
 * A connection that was stalled stays black-holed after `heal()` (like a NAT or load balancer that
 * lost its state): only a client that abandons it and reconnects recovers. So a test that heals and
 * then sees answers proves the client replaced its stuck connections.
 *
 * @example
 * ```ts
 * const proxy = await startFaultProxy({ host: '127.0.0.1', port: 5432 });
 * const url = `postgres://postgres@127.0.0.1:${proxy.port}/test`;
 * proxy.stall(); // …requests now time out…
 * proxy.heal();
 * await proxy.close();
 * ```
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';

/** How the proxy treats new connections. */
export type FaultMode = 'forward' | 'refuse' | 'stall';

/** Counters of what the proxy has seen (for assertions and reports). */
export interface FaultProxyStats {
  /** Connections accepted since the start. */
  readonly accepted: number;
  /** Client connections open right now. */
  readonly open: number;
  /** Connections the proxy reset (cut, refused or idle). */
  readonly reset: number;
}

/** A running fault proxy; see the module documentation. */
export interface FaultProxy {
  /** The loopback port clients connect to. */
  readonly port: number;
  /** How new connections are treated now. */
  readonly mode: FaultMode;
  readonly stats: FaultProxyStats;
  /** Resets every open connection; new connections are treated per {@link mode}. */
  cut(): void;
  /** Store down: resets every open connection and every new one until {@link heal}. */
  refuse(): void;
  /** Black hole: stops forwarding on every open and new connection, keeping the sockets open. */
  stall(): void;
  /** Forwards new connections again (stalled connections stay black-holed). */
  heal(): void;
  /** Resets the connections that carried no bytes for at least `idleMs`; returns how many. */
  cutIdle(idleMs: number): number;
  /** Resets every connection and stops listening. */
  close(): Promise<void>;
}

interface Pair {
  readonly client: Socket;
  upstream: Socket | undefined;
  /** Once set, bytes in both directions are read and dropped. */
  blackholed: boolean;
  lastActivity: number;
}

/**
 * Starts a fault proxy forwarding to `target`, listening on a random loopback port (or `port`).
 * Starts in `forward` mode.
 */
export async function startFaultProxy(
  target: { readonly host: string; readonly port: number },
  options: { readonly port?: number } = {},
): Promise<FaultProxy> {
  const pairs = new Set<Pair>();
  let mode: FaultMode = 'forward';
  let accepted = 0;
  let reset = 0;

  const kill = (pair: Pair) => {
    pairs.delete(pair);
    reset++;
    pair.client.resetAndDestroy();
    pair.upstream?.resetAndDestroy();
  };

  const forward = (pair: Pair, from: Socket, to: () => Socket | undefined) => {
    from.on('data', (chunk: Buffer) => {
      if (pair.blackholed) return; // read and drop: the sender never hears back
      pair.lastActivity = Date.now();
      to()?.write(chunk);
    });
  };

  const server: Server = createServer((client) => {
    accepted++;
    const pair: Pair = {
      client,
      upstream: undefined,
      blackholed: mode === 'stall',
      lastActivity: Date.now(),
    };
    client.on('error', () => {});
    if (mode === 'refuse') {
      reset++;
      client.resetAndDestroy();
      return;
    }
    pairs.add(pair);
    const closeBoth = () => {
      if (!pairs.delete(pair)) return;
      client.destroy();
      pair.upstream?.destroy();
    };
    client.on('close', closeBoth);
    forward(pair, client, () => pair.upstream);
    if (pair.blackholed) return; // accepted, never connected upstream
    const upstream = createConnection({ host: target.host, port: target.port });
    pair.upstream = upstream;
    upstream.on('error', () => {});
    upstream.on('close', closeBoth);
    client.pause();
    upstream.on('connect', () => client.resume());
    forward(pair, upstream, () => client);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  return {
    port,
    get mode() {
      return mode;
    },
    get stats() {
      return { accepted, open: pairs.size, reset };
    },
    cut() {
      for (const pair of [...pairs]) kill(pair);
    },
    refuse() {
      mode = 'refuse';
      for (const pair of [...pairs]) kill(pair);
    },
    stall() {
      mode = 'stall';
      for (const pair of pairs) pair.blackholed = true;
    },
    heal() {
      mode = 'forward';
    },
    cutIdle(idleMs) {
      const before = Date.now() - idleMs;
      let count = 0;
      for (const pair of [...pairs]) {
        if (pair.lastActivity <= before) {
          kill(pair);
          count++;
        }
      }
      return count;
    },
    async close() {
      for (const pair of [...pairs]) kill(pair);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
