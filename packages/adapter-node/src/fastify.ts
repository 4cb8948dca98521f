import type { IncomingMessage, ServerResponse } from 'node:http';
import { handleNodeRequest, type NodeAdapterOptions } from './http.js';
import { type MountOptions, portcullisRoutes, type RoutableServer } from './mount.js';

/** Options of the {@link portcullisFastify} plugin. */
export interface FastifyMountOptions extends MountOptions, NodeAdapterOptions {
  /** The authorization server to serve. */
  readonly server: RoutableServer;
}

/**
 * The parts of a Fastify instance the plugin uses, declared structurally so that the package's types do
 * not import `fastify` (an optional peer): an Express-only install type-checks without it.
 */
export interface FastifyInstanceLike {
  addHook(
    name: 'onRequest',
    hook: (
      request: { readonly raw: IncomingMessage },
      reply: { readonly raw: ServerResponse; readonly sent: boolean; hijack(): unknown },
    ) => Promise<unknown>,
  ): unknown;
}

/** An async Fastify plugin: what `app.register()` accepts. */
export type FastifyPluginLike<Options> = (fastify: FastifyInstanceLike, options: Options) => Promise<void>;

const plugin: FastifyPluginLike<FastifyMountOptions> = async (fastify, options) => {
  const { server, ...rest } = options;
  const routes = portcullisRoutes(server, rest);
  // Runs before Fastify parses the body, so the raw stream reaches the handler untouched and the
  // response is streamed straight to the socket (hijacked: Fastify does not buffer or serialize it).
  fastify.addHook('onRequest', async (request, reply) => {
    const handled = await handleNodeRequest(
      request.raw,
      reply.raw,
      async (webRequest) => {
        const response = await routes(webRequest);
        if (response !== null) reply.hijack();
        return response;
      },
      { ...rest, url: request.raw.url, fallthrough: true },
    );
    if (!handled) return undefined;
    if (!reply.sent) reply.hijack();
    return reply;
  });
};

// Like fastify-plugin: do not encapsulate, so the hook sees every request of the application.
Object.assign(plugin, {
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: 'portcullis',
});

/**
 * Fastify plugin serving the authorization-server routes and the protected MCP endpoint. Requests it
 * answers skip Fastify's body parsing and are streamed; all others continue to your routes.
 *
 * @example
 * ```ts
 * import Fastify from 'fastify';
 * const app = Fastify();
 * await app.register(portcullisFastify, { server: as, mcp: mcpHandler });
 * await app.listen({ port: 8787 });
 * ```
 */
export const portcullisFastify: FastifyPluginLike<FastifyMountOptions> = plugin;
