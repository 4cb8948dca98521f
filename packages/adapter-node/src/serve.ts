import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type FetchHandler, type NodeAdapterOptions, toNodeListener } from './http.js';

/** Options of {@link gracefulShutdown}. */
export interface ShutdownOptions {
  /** How long in-flight requests (including open streams) may run before their connections are cut. Default 10 s. */
  readonly timeoutMs?: number;
  /** Runs once the server stopped, e.g. `() => storage.close()`. */
  readonly onClosed?: () => Promise<void> | void;
}

/**
 * Stops a server gracefully: it stops accepting connections at once, closes idle keep-alive
 * connections, lets in-flight requests finish, cuts whatever is still open after `timeoutMs`, then
 * runs `onClosed` (close the storage there).
 *
 * @example
 * ```ts
 * process.once('SIGTERM', () => gracefulShutdown(server, { onClosed: () => storage.close?.() }));
 * ```
 */
export async function gracefulShutdown(server: Server, options: ShutdownOptions = {}): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  await new Promise<void>((resolve) => {
    // Keep-alive connections become idle as their requests finish: close them as they do.
    const idleSweep = setInterval(() => server.closeIdleConnections(), 50);
    const deadline = setTimeout(() => server.closeAllConnections(), timeoutMs);
    idleSweep.unref();
    deadline.unref();
    server.close(() => {
      clearInterval(idleSweep);
      clearTimeout(deadline);
      resolve();
    });
    server.closeIdleConnections();
  });
  await options.onClosed?.();
}

/** Options of {@link serve}. */
export interface ServeOptions extends NodeAdapterOptions {
  /** TCP port; `0` picks a free one. Default 8787. */
  readonly port?: number;
  /** Interface to bind. Default `127.0.0.1`. */
  readonly host?: string;
}

/** A listening server returned by {@link serve}. */
export interface RunningServer {
  readonly server: Server;
  /** The port actually bound. */
  readonly port: number;
  /** `http://host:port` of the listening socket. */
  readonly url: string;
  /** Graceful shutdown, see {@link gracefulShutdown}. */
  close(options?: ShutdownOptions): Promise<void>;
}

/**
 * Starts a `node:http` server for a Web handler.
 *
 * @example
 * ```ts
 * const running = await serve((request) => as.fetch(request), { port: 8787 });
 * console.log(`listening on ${running.url}`);
 * ```
 */
export async function serve(handler: FetchHandler, options: ServeOptions = {}): Promise<RunningServer> {
  const server = createServer(toNodeListener(handler, options));
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8787, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    server,
    port,
    url: `http://${shownHost}:${port}`,
    close: (closeOptions) => gracefulShutdown(server, closeOptions),
  };
}
