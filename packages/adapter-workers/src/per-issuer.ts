import type { Authenticator } from '@portcullis/core';
import type { ApiHandler } from './types.js';

/**
 * An {@link ApiHandler} built once per issuer from that issuer's authenticator — typically an
 * `mcpProxy` or `protectMcpServer` from `@portcullis/core/mcp`, which authenticate requests themselves
 * (at no extra cost: the adapter's authenticator remembers the token it just verified).
 *
 * @example
 * ```ts
 * apiHandler: perIssuer((authenticator) =>
 *   mcpProxy({ upstream: env.UPSTREAM_MCP, authenticator, credentials: staticToken(env.UPSTREAM_TOKEN) }),
 * ),
 * ```
 */
export function perIssuer<Env>(
  build: (authenticator: Authenticator) => (request: Request) => Promise<Response>,
): ApiHandler<Env> {
  const handlers = new WeakMap<Authenticator, (request: Request) => Promise<Response>>();
  return (request, { authenticator }) => {
    let handler = handlers.get(authenticator);
    if (!handler) {
      handler = build(authenticator);
      handlers.set(authenticator, handler);
    }
    return handler(request);
  };
}
