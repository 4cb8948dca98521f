import { createGateway, type GatewayServer } from '@portcullis/core';
import type { FetchHandler, OptionalFetchHandler } from './http.js';

/** The part of a Portcullis authorization server (`createAuthorizationServer`) the mounts use. */
export type RoutableServer = GatewayServer;

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
  /** Removes expired records at most this often, triggered by traffic; default 3600 s, `0` disables. */
  readonly cleanupIntervalSeconds?: number;
}

function gatewayFor(server: RoutableServer, options: MountOptions) {
  const mcp = typeof options.mcp === 'function' ? { handler: options.mcp } : options.mcp;
  return createGateway(server, {
    routes: mcp ? [{ path: mcp.path ?? '/mcp', handler: mcp.handler }] : [],
    ...(options.cleanupIntervalSeconds !== undefined
      ? { cleanupIntervalSeconds: options.cleanupIntervalSeconds }
      : {}),
  });
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
  const gateway = gatewayFor(server, options);
  return (request) => gateway.route(request);
}

/** Like {@link portcullisRoutes}, but answers everything else with a JSON 404 (for a bare `node:http` server). */
export function portcullisHandler(server: RoutableServer, options: MountOptions = {}): FetchHandler {
  const gateway = gatewayFor(server, options);
  return (request) => gateway.fetch(request);
}
