import { oauthErrorResponse } from './errors.js';
import { withResourceCors } from './http/cors.js';
import { withoutTrailingSlash } from './rules/resource.js';
import type { AuthenticateOptions, AuthenticateResult, TokenInfo } from './types.js';

/** The part of an authorization server a gateway uses (`createAuthorizationServer` returns one). */
export interface GatewayServer {
  /** Answers the authorization server's routes. */
  fetch(request: Request): Promise<Response>;
  /** `true` when the request is for one of the authorization server's routes. */
  handles(request: Request): boolean;
  /** Verifies bearer tokens; needed for {@link ProtectedRoute}s. */
  authenticate?(request: Request, options?: AuthenticateOptions): Promise<AuthenticateResult>;
  /** Deletes expired records; called in the background now and then when present. */
  cleanup?(): Promise<number>;
}

/** A route that authenticates itself (e.g. `protectMcpServer` or `mcpProxy` from `@portcullis/core/mcp`). */
export interface SelfProtectedRoute {
  /** Path of the route; requests to it and below it go to `handler`. */
  readonly path: string;
  readonly handler: (request: Request) => Promise<Response>;
}

/** A route the gateway authenticates before calling `handler` with the verified token. */
export interface ProtectedRoute {
  /** Path of the route; requests to it and below it are authenticated, then go to `protected`. */
  readonly path: string;
  /** Called only for requests with a valid token (`authenticate` answers everything else). */
  readonly protected: (request: Request, info: TokenInfo) => Promise<Response> | Response;
  /** Scopes every request of the route needs (403 `insufficient_scope` otherwise). */
  readonly requiredScopes?: readonly string[];
}

/** Options of {@link createGateway}. */
export interface GatewayOptions {
  /** Protected resources served beside the authorization server, each with resource CORS. */
  readonly routes?: readonly (SelfProtectedRoute | ProtectedRoute)[];
  /** Removes expired records at most this often, triggered by traffic; default 3600 s, `0` disables. */
  readonly cleanupIntervalSeconds?: number;
  /** Told about a failed background cleanup. */
  readonly onCleanupError?: (error: unknown) => void;
  /** Clock in epoch ms (tests); default `Date.now`. */
  readonly now?: () => number;
  /**
   * Liveness and readiness routes, answered before everything else: pass `healthRoutes({ storage })`
   * (opt-in by import, so a Worker without them does not carry them). Off unless given.
   */
  readonly health?: (request: Request) => Promise<Response | null>;
}

/** Hands background work to the runtime (`ctx.waitUntil` on Workers); by default it just runs. */
export type WaitUntil = (work: Promise<unknown>) => void;

/** The authorization server and its protected routes as one handler, the same on every runtime. */
export interface Gateway {
  /** Answers a request for one of its routes, or `null` so a framework can pass it on. */
  route(request: Request, waitUntil?: WaitUntil): Promise<Response | null>;
  /** Answers every request: its routes, else a JSON 404. */
  fetch(request: Request, waitUntil?: WaitUntil): Promise<Response>;
}

const inside = (pathname: string, base: string) =>
  base === '/' || pathname === base || pathname.startsWith(`${base}/`);

/**
 * Composes a gateway: the authorization server's routes, protected routes (answered with the resource
 * CORS browser-based MCP clients need), a 404 for anything else, and background cleanup of expired
 * records. Both adapters use it; they only translate requests and responses.
 *
 * @example
 * ```ts
 * const gateway = createGateway(as, {
 *   routes: [{ path: '/mcp', handler: protectMcpServer({ authenticator: as, server: makeServer }) }],
 * });
 * export default { fetch: (request: Request) => gateway.fetch(request) };
 * ```
 */
export function createGateway(server: GatewayServer, options: GatewayOptions = {}): Gateway {
  const routes = (options.routes ?? []).map((route) => {
    const path = withoutTrailingSlash(route.path.startsWith('/') ? route.path : `/${route.path}`);
    let handler: (request: Request) => Promise<Response>;
    if ('handler' in route) handler = route.handler;
    else {
      const authenticate = server.authenticate?.bind(server);
      if (!authenticate) {
        throw new TypeError(`createGateway: the route ${path} needs a server that can authenticate`);
      }
      const auth: AuthenticateOptions = route.requiredScopes ? { requiredScopes: route.requiredScopes } : {};
      handler = async (request) => {
        const result = await authenticate(request, auth);
        return result.ok ? route.protected(request, result.info) : result.response;
      };
    }
    return { path, handler: withResourceCors(handler) };
  });
  const interval = (options.cleanupIntervalSeconds ?? 3600) * 1000;
  const now = options.now ?? Date.now;
  const cleanup = server.cleanup?.bind(server);
  let nextCleanup = interval > 0 && cleanup ? now() : Number.POSITIVE_INFINITY;

  function maybeCleanup(waitUntil: WaitUntil | undefined): void {
    const at = now();
    if (at < nextCleanup) return;
    nextCleanup = at + interval;
    const work = cleanup!().catch((error: unknown) => options.onCleanupError?.(error));
    waitUntil?.(work);
  }

  const health = options.health;

  async function route(request: Request, waitUntil?: WaitUntil): Promise<Response | null> {
    const probe = health ? await health(request) : null;
    if (probe) return probe;
    maybeCleanup(waitUntil);
    if (server.handles(request)) return server.fetch(request);
    const { pathname } = new URL(request.url);
    // The most specific route wins: `/mcp/admin` before `/mcp`.
    let found: (typeof routes)[number] | undefined;
    for (const r of routes)
      if (inside(pathname, r.path) && (!found || r.path.length > found.path.length)) found = r;
    return found ? found.handler(request) : null;
  }

  return {
    route,
    async fetch(request, waitUntil) {
      return (await route(request, waitUntil)) ?? oauthErrorResponse('not_found', 'No such endpoint', 404);
    },
  };
}
