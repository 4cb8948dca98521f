import { type AuthorizationServer, createAuthorizationServer, withResourceCors } from '@portcullis/core';
import { RequestAuthenticator } from './memo.js';
import type {
  ExecutionContextLike,
  PortcullisWorkerConfig,
  PortcullisWorkerConfigSource,
  WorkerHandler,
} from './types.js';

interface Mounted {
  readonly server: AuthorizationServer;
  readonly authenticator: RequestAuthenticator;
}

interface Instance<Env> {
  readonly config: PortcullisWorkerConfig<Env>;
  readonly routes: readonly string[];
  /** One server per issuer (per request origin when no issuer is configured). */
  readonly servers: Map<string, Mounted>;
}

/** Origins a single isolate serves at most when the issuer comes from the request. */
const MAX_ORIGINS = 16;

const jsonError = (
  status: number,
  error: string,
  description: string,
  headers: Record<string, string> = {},
) =>
  new Response(JSON.stringify({ error, error_description: description }), {
    status,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers },
  });

const normalize = (path: string) => (path.length > 1 ? path.replace(/\/+$/, '') : path);

/**
 * Mounts Portcullis on Cloudflare Workers. Returns the Worker's module handler: authorization-server
 * routes go to the core, the API route is authenticated and handed to `apiHandler` with the verified
 * token, everything else goes to `defaultHandler`. The configuration is built from `env` once per
 * isolate; without `issuer` the issuer is the request's origin.
 *
 * @example
 * ```ts
 * import { portcullis } from '@portcullis/adapter-workers';
 * import { cloudflareStorage, PortcullisCoordinator } from '@portcullis/storage-kv';
 * import { pinUpstream } from '@portcullis/core/upstreams';
 * export { PortcullisCoordinator };
 *
 * export default portcullis((env: Env) => ({
 *   storage: cloudflareStorage({ kv: env.OAUTH_KV, coordinator: env.PORTCULLIS }),
 *   upstream: pinUpstream({ pin: env.AUTH_PIN }),
 *   secret: env.PORTCULLIS_SECRET,
 *   apiRoute: '/mcp',
 *   apiHandler: (request, { info }) => Response.json({ hello: info.userId }),
 * }));
 * ```
 */
export function portcullis<Env>(source: PortcullisWorkerConfigSource<Env>): WorkerHandler<Env> {
  const instances = new WeakMap<object, Promise<Instance<Env>>>();
  const noEnv = {};

  async function build(env: Env): Promise<Instance<Env>> {
    const config = typeof source === 'function' ? await source(env) : source;
    const apiRoute = config.apiRoute ?? '/mcp';
    const routes = (typeof apiRoute === 'string' ? [apiRoute] : [...apiRoute]).map(normalize);
    return { config, routes, servers: new Map() };
  }

  function instanceFor(env: Env): Promise<Instance<Env>> {
    const key = typeof env === 'object' && env !== null ? env : noEnv;
    let instance = instances.get(key);
    if (!instance) {
      instance = build(env);
      instances.set(key, instance);
      // A failed build is not cached: the next request tries again.
      instance.catch(() => instances.delete(key));
    }
    return instance;
  }

  function mount(instance: Instance<Env>, request: Request): Mounted {
    const { config, routes } = instance;
    const issuer = config.issuer ?? new URL(request.url).origin;
    const existing = instance.servers.get(issuer);
    if (existing) return existing;
    const {
      apiRoute: _r,
      apiHandler: _a,
      defaultHandler: _d,
      requiredScopes: _s,
      cleanupRate: _c,
      ...core
    } = config;
    const server = createAuthorizationServer({
      ...core,
      issuer,
      resources: config.resources ?? routes.map((path) => ({ path })),
      clientIp: (r) => r.headers.get('cf-connecting-ip') ?? undefined,
    });
    const mounted = { server, authenticator: new RequestAuthenticator(server) };
    if (instance.servers.size >= MAX_ORIGINS) {
      const oldest = instance.servers.keys().next().value;
      if (oldest !== undefined) instance.servers.delete(oldest);
    }
    instance.servers.set(issuer, mounted);
    return mounted;
  }

  async function handle(request: Request, env: Env, ctx: ExecutionContextLike): Promise<Response> {
    let instance: Instance<Env>;
    let mounted: Mounted;
    try {
      instance = await instanceFor(env);
      mounted = mount(instance, request);
    } catch (error) {
      // The message lists configuration problems, never secret values; it goes to the Worker logs only.
      console.error(`Portcullis is misconfigured: ${error instanceof Error ? error.message : String(error)}`);
      return jsonError(
        500,
        'server_error',
        'The authorization server is not configured correctly; see the Worker logs',
      );
    }
    const { config, routes } = instance;
    const { server, authenticator } = mounted;
    const rate = config.cleanupRate ?? 0.01;
    if (rate > 0 && Math.random() < rate) ctx.waitUntil(server.cleanup().catch(() => 0));

    if (server.handles(request)) return server.fetch(request);

    const path = normalize(new URL(request.url).pathname);
    const isApi = routes.some((route) => path === route || path.startsWith(`${route === '/' ? '' : route}/`));
    if (isApi) {
      return withResourceCors(async (apiRequest) => {
        const result = await server.authenticate(
          apiRequest,
          config.requiredScopes ? { requiredScopes: config.requiredScopes } : {},
        );
        if (!result.ok) return result.response;
        authenticator.remember(apiRequest, result.info);
        return config.apiHandler(apiRequest, {
          env,
          ctx,
          info: result.info,
          authenticator,
          issuer: server.issuer,
        });
      })(request);
    }
    if (config.defaultHandler) return config.defaultHandler(request, env, ctx);
    return jsonError(404, 'not_found', 'Not found');
  }

  return {
    fetch: (request, env, ctx) => handle(request, env, ctx),
  };
}
