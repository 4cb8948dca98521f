import { authenticate, challenge, resourceFor } from './authenticate.js';
import { consentDecision } from './consent.js';
import { Core } from './context.js';
import { authorize } from './endpoints/authorize.js';
import {
  authorizationServerMetadata,
  metadataPaths,
  protectedResourceMetadata,
} from './endpoints/metadata.js';
import { manageClient, register } from './endpoints/register.js';
import { introspect, revoke } from './endpoints/revoke.js';
import { token } from './endpoints/token.js';
import { errorResponse, OAuthError, StorageUnavailableError } from './errors.js';
import { settleOutcome, upstreamContext } from './flow.js';
import { CORS_HEADERS, withHeaders } from './http.js';
import type { AuthorizationServerOptions } from './options.js';
import { errorPage } from './pages/html.js';
import type { AuthenticateOptions, AuthenticateResult, Authenticator } from './types.js';

type Handler = (request: Request, match: string) => Promise<Response> | Response;
interface Route {
  readonly methods: readonly string[];
  readonly path: string | RegExp;
  readonly handler: Handler;
  /** Routes browsers navigate to: errors are pages, not JSON. */
  readonly page?: boolean;
  /** Routes browser-based clients call cross-origin. */
  readonly cors?: boolean;
}

/** An OAuth 2.1 authorization server for MCP: a fetch handler plus the resource-side {@link authenticate}. */
export interface AuthorizationServer extends Authenticator {
  /** Answers the authorization server's routes; anything else gets a JSON 404. */
  fetch(request: Request): Promise<Response>;
  /** `true` when the request targets one of the authorization server's routes (incl. metadata). */
  handles(request: Request): boolean;
  /** Verifies the bearer token of a request to a protected resource. */
  authenticate(request: Request, options?: AuthenticateOptions): Promise<AuthenticateResult>;
  /** A 401 challenge for a resource path, for handlers that refuse before `authenticate`. */
  unauthorized(request: Request): Response;
  /** Deletes expired records when the storage supports it; call it now and then. */
  cleanup(): Promise<number>;
  /** The issuer identifier. */
  readonly issuer: string;
}

/**
 * Creates an OAuth 2.1 authorization server for MCP servers.
 *
 * @example
 * ```ts
 * import { createAuthorizationServer, MemoryStorage } from '@portcullis/core';
 * import { pinUpstream } from '@portcullis/core/upstreams';
 *
 * const server = createAuthorizationServer({
 *   issuer: 'https://mcp.example.com',
 *   storage: new MemoryStorage(),
 *   upstream: pinUpstream({ pin: process.env.AUTH_PIN! }),
 *   secret: process.env.PORTCULLIS_SECRET!,
 * });
 * // In any fetch-style runtime:
 * const handle = async (request: Request) => {
 *   if (server.handles(request)) return server.fetch(request);
 *   const auth = await server.authenticate(request);
 *   if (!auth.ok) return auth.response;
 *   return new Response(`hello ${auth.info.userId}`);
 * };
 * ```
 * @throws {ConfigurationError} when the options are invalid (the message lists every problem).
 */
export function createAuthorizationServer(options: AuthorizationServerOptions): AuthorizationServer {
  const core = new Core(options);
  const base = core.basePath;
  const wellKnown = metadataPaths(core);
  const routes: Route[] = [
    {
      methods: ['GET'],
      path: /^\/\.well-known\/oauth-protected-resource(\/.*)?$/,
      handler: (r) => prm(r),
      cors: true,
    },
    { methods: ['GET'], path: `${base}/authorize`, handler: (r) => authorize(core, r), page: true },
    {
      methods: ['POST'],
      path: `${base}/authorize/consent`,
      handler: (r) => consentDecision(core, r),
      page: true,
    },
    { methods: ['POST'], path: `${base}/token`, handler: (r) => token(core, r), cors: true },
    { methods: ['POST'], path: `${base}/revoke`, handler: (r) => revoke(core, r), cors: true },
    { methods: ['POST'], path: `${base}/introspect`, handler: (r) => introspect(core, r) },
    ...core.config.upstream.routes.map(
      (route): Route => ({
        methods: [route.method],
        path: `${base}${route.path}`,
        page: true,
        handler: async (r) =>
          settleOutcome(core, r, await core.config.upstream.handle(r, upstreamContext(core, r))),
      }),
    ),
  ];
  if (core.config.registration.enabled) {
    routes.push(
      { methods: ['POST'], path: `${base}/register`, handler: (r) => register(core, r), cors: true },
      {
        methods: ['GET', 'PUT', 'DELETE'],
        path: new RegExp(`^${escapeRegExp(base)}/register/([A-Za-z0-9_-]{1,64})$`),
        handler: (r, id) => manageClient(core, r, id),
        cors: true,
      },
    );
  }
  for (const path of wellKnown)
    routes.push({ methods: ['GET'], path, handler: () => authorizationServerMetadata(core), cors: true });

  async function prm(request: Request): Promise<Response> {
    return (
      protectedResourceMetadata(core, new URL(request.url).pathname) ??
      errorResponse(new OAuthError('not_found', 'No protected resource at this path', 404))
    );
  }

  const find = (pathname: string) => {
    for (const route of routes) {
      if (typeof route.path === 'string') {
        if (route.path === pathname) return { route, match: '' };
      } else {
        const m = route.path.exec(pathname);
        if (m) return { route, match: m[1] ?? '' };
      }
    }
    return undefined;
  };

  async function run(route: Route, request: Request, match: string): Promise<Response> {
    try {
      return await route.handler(request, match);
    } catch (error) {
      return failure(route, request, error);
    }
  }

  function failure(route: Route, request: Request, error: unknown): Response {
    let oauth: OAuthError;
    if (error instanceof OAuthError) {
      oauth = error;
    } else if (error instanceof StorageUnavailableError) {
      core.config.onEvent({
        type: 'storage_error',
        operation: error.operation,
        message: 'storage unavailable',
      });
      oauth = new OAuthError(
        'temporarily_unavailable',
        'The authorization server storage is unavailable; try again',
        503,
        {
          'Retry-After': '5',
        },
      );
    } else {
      core.config.onEvent({
        type: 'storage_error',
        operation: 'internal',
        message: error instanceof Error ? error.name : 'error',
      });
      oauth = new OAuthError('server_error', 'The authorization server encountered an unexpected error', 500);
    }
    if (new URL(request.url).pathname === `${base}/token`) {
      core.config.onEvent({ type: 'token_refused', reason: oauth.code });
    }
    // RFC 9110 §10.2.3: a 503 page says when to retry, like the JSON routes.
    return route.page
      ? withHeaders(errorPage(oauth.code, oauth.description, oauth.status), oauth.headers)
      : errorResponse(oauth);
  }

  return {
    issuer: core.config.issuer,
    handles: (request) => find(new URL(request.url).pathname) !== undefined,
    async fetch(request) {
      const { pathname } = new URL(request.url);
      const found = find(pathname);
      if (!found) return errorResponse(new OAuthError('not_found', 'Not found', 404));
      const { route, match } = found;
      if (request.method === 'OPTIONS' && route.cors)
        return new Response(null, { status: 204, headers: CORS_HEADERS });
      // HEAD is answered like GET on metadata only: a HEAD of /authorize must not start a flow.
      const headAsGet = request.method === 'HEAD' && route.methods.includes('GET') && !route.page;
      if (!route.methods.includes(request.method) && !headAsGet) {
        return errorResponse(
          new OAuthError('method_not_allowed', `Use ${route.methods.join(' or ')} for this endpoint`, 405, {
            Allow: route.methods.join(', '),
          }),
        );
      }
      const response = await run(route, request, match);
      return route.cors ? withHeaders(response, CORS_HEADERS) : response;
    },
    authenticate: (request, opts) => authenticate(core, request, opts),
    async protectedResourceMetadata(request) {
      const { pathname } = new URL(request.url);
      return pathname.startsWith('/.well-known/oauth-protected-resource') ? prm(request) : null;
    },
    unauthorized: (request) => challenge(core, resourceFor(core, request), 401),
    async cleanup() {
      return (await core.config.storage.deleteExpired?.(core.now())) ?? 0;
    },
  };
}

const escapeRegExp = (value: string) => value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
