import {
  type AuthorizationServer,
  createAuthorizationServer,
  createGateway,
  type Gateway,
  isLoopbackHost,
  oauthErrorResponse,
} from '@portcullis/core';
import { RequestAuthenticator } from './memo.js';
import type {
  ExecutionContextLike,
  PortcullisWorkerConfig,
  PortcullisWorkerConfigSource,
  WorkerHandler,
} from './types.js';

interface Mounted {
  readonly server: AuthorizationServer;
  readonly gateway: Gateway;
}

interface Instance<Env> {
  readonly config: PortcullisWorkerConfig<Env>;
  readonly routes: readonly string[];
  /** One server per issuer (per request origin when no issuer is configured). */
  readonly servers: Map<string, Mounted>;
}

/** Origins a single isolate serves at most when the issuer comes from the request. */
const MAX_ORIGINS = 16;

/** Per request: the Worker's `env` and `ctx`, handed to the API handler through the gateway. */
interface RequestScope<Env> {
  readonly env: Env;
  readonly ctx: ExecutionContextLike;
}

/** The issuer a request's origin can be: https, or http on loopback (`wrangler dev`); else `undefined`. */
function originIssuer(request: Request): string | undefined {
  const url = new URL(request.url);
  return url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname))
    ? url.origin
    : undefined;
}

/**
 * Mounts Portcullis on Cloudflare Workers. Returns the Worker's module handler: authorization-server
 * routes go to the core, the API route is authenticated and handed to `apiHandler` with the verified
 * token, everything else goes to `defaultHandler`. The configuration is built from `env` once per
 * isolate; without `issuer` the issuer is the request's origin. Routing, CORS and background cleanup
 * are the core's `createGateway`; this adapter only binds `env` and `ctx`.
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
  const scopes = new WeakMap<Request, RequestScope<Env>>();

  async function build(env: Env): Promise<Instance<Env>> {
    const config = typeof source === 'function' ? await source(env) : source;
    const apiRoute = config.apiRoute ?? '/mcp';
    const routes = typeof apiRoute === 'string' ? [apiRoute] : [...apiRoute];
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

  function mount(instance: Instance<Env>, issuer: string): Mounted {
    const existing = instance.servers.get(issuer);
    if (existing) return existing;
    const { config, routes } = instance;
    const {
      apiRoute: _r,
      apiHandler,
      defaultHandler: _d,
      requiredScopes,
      cleanupIntervalSeconds,
      ...core
    } = config;
    const server = createAuthorizationServer({
      ...core,
      issuer,
      resources: config.resources ?? routes.map((path) => ({ path })),
      clientIp: (r) => r.headers.get('cf-connecting-ip') ?? undefined,
    });
    const authenticator = new RequestAuthenticator(server);
    const gateway = createGateway(server, {
      ...(cleanupIntervalSeconds !== undefined ? { cleanupIntervalSeconds } : {}),
      routes: routes.map((path) => ({
        path,
        ...(requiredScopes ? { requiredScopes } : {}),
        protected: (request, info) => {
          const { env, ctx } = scopes.get(request)!;
          authenticator.remember(request, info);
          return apiHandler(request, { env, ctx, info, authenticator, issuer: server.issuer });
        },
      })),
    });
    const mounted = { server, gateway };
    if (instance.servers.size >= MAX_ORIGINS) {
      const oldest = instance.servers.keys().next().value;
      if (oldest !== undefined) instance.servers.delete(oldest);
    }
    instance.servers.set(issuer, mounted);
    return mounted;
  }

  async function handle(request: Request, env: Env, ctx: ExecutionContextLike): Promise<Response> {
    let instance: Instance<Env>;
    try {
      instance = await instanceFor(env);
    } catch (error) {
      return misconfigured(error);
    }
    const issuer = instance.config.issuer ?? originIssuer(request);
    // RFC 8414 §2: an issuer is https (http only on loopback); a request from another origin cannot be one.
    if (issuer === undefined) {
      return oauthErrorResponse('invalid_request', 'This host cannot serve as the authorization server', 400);
    }
    let mounted: Mounted;
    try {
      mounted = mount(instance, issuer);
    } catch (error) {
      return misconfigured(error);
    }
    scopes.set(request, { env, ctx });
    const response = await mounted.gateway.route(request, (work) => ctx.waitUntil(work));
    if (response) return response;
    if (instance.config.defaultHandler) return instance.config.defaultHandler(request, env, ctx);
    return oauthErrorResponse('not_found', 'Not found', 404);
  }

  return {
    fetch: (request, env, ctx) => handle(request, env, ctx),
  };
}

function misconfigured(error: unknown): Response {
  // The message lists configuration problems, never secret values; it goes to the Worker logs only.
  console.error(`Portcullis is misconfigured: ${error instanceof Error ? error.message : String(error)}`);
  return oauthErrorResponse(
    'server_error',
    'The authorization server is not configured correctly; see the Worker logs',
    500,
  );
}
