import { OAuthError } from '../errors.js';
import { CORS_HEADERS, withHeaders } from './cors.js';
import { type ErrorStyle, type RenderContext, renderError } from './render.js';

/** A route of the authorization server. */
export interface Route {
  /** Methods the route answers; HEAD is answered like GET on JSON routes only. */
  readonly methods: readonly string[];
  /** An exact path, or a pattern whose first group is handed to the handler. */
  readonly path: string | RegExp;
  /** How errors are shown: JSON for API routes, a page for the routes browsers navigate to. */
  readonly errors: ErrorStyle;
  /** Browser-based clients call it cross-origin: CORS headers and preflights. */
  readonly cors?: boolean;
  /**
   * A form the user submits from a page of this server: a POST that a browser marks as cross-site is
   * refused (defence in depth beside the CSRF token).
   */
  readonly sameOriginForm?: boolean;
  /** Reports every refusal as this audit event (the token endpoint's `token_refused`). */
  readonly refusalEvent?: 'token_refused';
  readonly handler: (request: Request, match: string) => Promise<Response> | Response;
}

/** Methods HTTP defines that a route may name; anything else is 501 (RFC 9110 §9.1, §15.6.2). */
const KNOWN_METHODS = new Set([
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'DELETE',
  'OPTIONS',
  'PATCH',
  'CONNECT',
  'TRACE',
]);

/**
 * Whether a form POST comes from another site: `Sec-Fetch-Site` (Fetch Metadata) says so, or an
 * `Origin` other than this server's is sent (`Origin: null` is what our own no-referrer pages send).
 */
function crossSiteForm(request: Request, origin: string): boolean {
  const site = request.headers.get('sec-fetch-site');
  if (site === 'cross-site' || site === 'same-site') return true;
  const from = request.headers.get('origin');
  return from !== null && from !== 'null' && from !== origin;
}

/** The routes of the server, matched by path, with method handling, CORS and error rendering in one place. */
export class Router {
  readonly #routes: readonly Route[];
  readonly #ctx: RenderContext;
  readonly #origin: string;

  constructor(routes: readonly Route[], ctx: RenderContext) {
    this.#routes = routes;
    this.#ctx = ctx;
    this.#origin = new URL(ctx.issuer).origin;
  }

  /** The route for a path and the text its pattern captured, or `undefined`. */
  find(pathname: string): { route: Route; match: string } | undefined {
    for (const route of this.#routes) {
      if (typeof route.path === 'string') {
        if (route.path === pathname) return { route, match: '' };
      } else {
        const m = route.path.exec(pathname);
        if (m) return { route, match: m[1] ?? '' };
      }
    }
    return undefined;
  }

  /** Answers a request for a known route, or `null` when no route has its path. */
  async handle(request: Request, pathname = new URL(request.url).pathname): Promise<Response | null> {
    const found = this.find(pathname);
    if (!found) return null;
    const { route, match } = found;
    const response = await this.#dispatch(route, request, match);
    return route.cors ? withHeaders(response, CORS_HEADERS) : response;
  }

  async #dispatch(route: Route, request: Request, match: string): Promise<Response> {
    const method = request.method;
    if (method === 'OPTIONS' && route.cors) return new Response(null, { status: 204, headers: CORS_HEADERS });
    try {
      if (!KNOWN_METHODS.has(method)) {
        throw new OAuthError('not_implemented', 'This HTTP method is not supported', 501);
      }
      // HEAD is answered like GET on JSON routes only: a HEAD of /authorize must not start a flow.
      const headAsGet = method === 'HEAD' && route.methods.includes('GET') && route.errors === 'json';
      if (!route.methods.includes(method) && !headAsGet) {
        throw new OAuthError(
          'method_not_allowed',
          `Use ${route.methods.join(' or ')} for this endpoint`,
          405,
          {
            Allow: route.methods.join(', '),
          },
        );
      }
      if (route.sameOriginForm && method === 'POST' && crossSiteForm(request, this.#origin)) {
        throw new OAuthError(
          'invalid_request',
          "This form must be submitted from this server's own page",
          403,
        );
      }
      return await route.handler(request, match);
    } catch (error) {
      const { response, code } = renderError(error, route.errors, this.#ctx);
      if (route.refusalEvent) this.#ctx.onEvent({ type: route.refusalEvent, reason: code });
      return response;
    }
  }
}
