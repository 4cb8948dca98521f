import { withResourceCors } from '@portcullis/core';
import type { FetchHandler, OptionalFetchHandler } from './http.js';

/** The part of a Portcullis authorization server (`createAuthorizationServer`) the mounts use. */
export interface RoutableServer {
  /** Serves the authorization-server routes. */
  fetch(request: Request): Promise<Response>;
  /** `true` when the request is for one of the authorization-server routes. */
  handles(request: Request): boolean;
}

/** A protected MCP endpoint served next to the authorization server. */
export interface McpMount {
  /** Path of the endpoint; requests to it and below it go to `handler`. Default `/mcp`. */
  readonly path?: string;
  /** The handler, e.g. from `@portcullis/core/mcp` (it authenticates the bearer token itself). */
  readonly handler: FetchHandler;
}

/** What the Node mounts serve besides the authorization-server routes. */
export interface MountOptions {
  /** The protected MCP endpoint: a handler (served at `/mcp`) or a {@link McpMount}. */
  readonly mcp?: FetchHandler | McpMount;
}

function normalizePath(path: string): string {
  const withSlash = path.startsWith('/') ? path : `/${path}`;
  return withSlash.length > 1 && withSlash.endsWith('/') ? withSlash.slice(0, -1) : withSlash;
}

/**
 * Combines the authorization server and an optional MCP endpoint into one handler that answers its
 * own routes and returns `null` for everything else (so a framework can pass the request on).
 *
 * @example
 * ```ts
 * const handler = portcullisRoutes(as, { mcp: { path: '/mcp', handler: mcpHandler } });
 * const response = (await handler(request)) ?? new Response('not found', { status: 404 });
 * ```
 */
export function portcullisRoutes(server: RoutableServer, options: MountOptions = {}): OptionalFetchHandler {
  const mcp = typeof options.mcp === 'function' ? { handler: options.mcp } : options.mcp;
  const mcpPath = mcp ? normalizePath(mcp.path ?? '/mcp') : undefined;
  // Browser-based MCP clients call the resource cross-origin: preflights and exposed headers.
  const mcpHandler = mcp ? withResourceCors(mcp.handler) : undefined;
  return async (request) => {
    if (server.handles(request)) return server.fetch(request);
    if (mcpHandler && mcpPath !== undefined) {
      const { pathname } = new URL(request.url);
      if (pathname === mcpPath || pathname.startsWith(`${mcpPath}/`)) return mcpHandler(request);
    }
    return null;
  };
}

/** Like {@link portcullisRoutes}, but answers everything else with a JSON 404 (for a bare `node:http` server). */
export function portcullisHandler(server: RoutableServer, options: MountOptions = {}): FetchHandler {
  const routes = portcullisRoutes(server, options);
  return async (request) =>
    (await routes(request)) ??
    new Response(JSON.stringify({ error: 'not_found', error_description: 'No such endpoint' }), {
      status: 404,
      headers: { 'content-type': 'application/json' },
    });
}
