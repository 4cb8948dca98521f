import { ownResourceGuard } from './authenticate.js';
import { CONSENT_PATH, consentDecision } from './authorize/consent.js';
import { authorize } from './authorize/endpoint.js';
import { settleOutcome } from './authorize/settle.js';
import { upstreamContext } from './authorize/upstream-context.js';
import { CLIENT_AUTHENTICATION, type ClientAuthMethod } from './clients/authenticate.js';
import { Core } from './context.js';
import { introspect } from './endpoints/introspect.js';
import {
  authorizationServerMetadata,
  metadataPaths,
  PRM_PREFIX,
  protectedResourceMetadata,
} from './endpoints/metadata.js';
import { manageClient, register } from './endpoints/register.js';
import { revoke } from './endpoints/revoke.js';
import { oauthErrorResponse } from './errors.js';
import type { Extension } from './extension.js';
import { type Route, Router } from './http/router.js';
import { type CoreOptions, invalidOptions, resolveConfig } from './options.js';
import { type ChallengeOptions, challengeResponse } from './resource/challenge.js';
import { guardRequest } from './resource/guard.js';
import { currentUpstreamToken } from './resource/upstream-token.js';
import { tokenEndpoint } from './token/endpoint.js';
import { GRANT_TYPES } from './token/grants/index.js';
import type { GrantType } from './token/grants/types.js';
import type { AuthenticateOptions, AuthenticateResult, Authenticator, UpstreamTokenSource } from './types.js';

/** Options of {@link createAuthorizationServer}. */
export interface AuthorizationServerOptions extends CoreOptions {
  /**
   * Optional features, each made by a factory of `@portcullis/core/extensions` (grant types, token
   * formats, client authentication methods). None by default.
   */
  readonly extensions?: readonly Extension[];
}

/** An OAuth 2.1 authorization server for MCP: a fetch handler plus the resource-side {@link authenticate}. */
export interface AuthorizationServer extends Authenticator, UpstreamTokenSource {
  /** Answers the authorization server's routes; anything else gets a JSON 404. */
  fetch(request: Request): Promise<Response>;
  /** `true` when the request targets one of the authorization server's routes (incl. metadata). */
  handles(request: Request): boolean;
  /** Verifies the bearer token of a request to a protected resource. */
  authenticate(request: Request, options?: AuthenticateOptions): Promise<AuthenticateResult>;
  /** The RFC 6750 challenge of the resource a request is for (a 401 without error by default). */
  challenge(request: Request, options?: ChallengeOptions): Response;
  /** A 401 challenge for a resource path, for handlers that refuse before `authenticate`. */
  unauthorized(request: Request): Response;
  /** Deletes expired records when the storage supports it; resolves to how many were removed. */
  cleanup(): Promise<number>;
  /** The issuer identifier. */
  readonly issuer: string;
}

const escapeRegExp = (value: string) => value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A list of named features whose names must be unique (each grant type or method added once). */
function uniqueNames<T extends { readonly name: string }>(items: readonly T[], what: string): readonly T[] {
  const names = items.map((item) => item.name);
  const repeated = names.find((name, i) => names.indexOf(name) !== i);
  if (repeated) throw invalidOptions(`extensions: the ${what} ${repeated} is added twice`);
  return items;
}

/** The grant types of a server: the built-in ones, then those its extensions add. */
const grantTypesOf = (extensions: readonly Extension[]): readonly GrantType[] =>
  uniqueNames([...GRANT_TYPES, ...extensions.flatMap((e) => e.grantTypes ?? [])], 'grant type');

/** The client authentication methods of a server: the built-in ones, then its extensions'. */
const authMethodsOf = (extensions: readonly Extension[]): readonly ClientAuthMethod[] =>
  uniqueNames(
    [...CLIENT_AUTHENTICATION, ...extensions.flatMap((e) => e.clientAuthentication ?? [])],
    'client authentication method',
  );

/** The routes of the authorization server: every endpoint, its methods, error style and CORS. */
function routes(core: Core, grants: readonly GrantType[], extensions: readonly Extension[]): Route[] {
  const base = core.basePath;
  const sources = {
    grantTypes: core.grantTypes,
    authMethods: core.clientAuthentication.map((method) => method.name),
    extra: () => Object.assign({}, ...extensions.map((e) => e.metadata?.(core) ?? {})),
  };
  const { upstream } = core.config;
  const list: Route[] = [
    {
      methods: ['GET'],
      path: new RegExp(`^${escapeRegExp(PRM_PREFIX)}(/.*)?$`),
      errors: 'json',
      cors: true,
      handler: (request) => protectedResourceMetadata(core, new URL(request.url).pathname),
    },
    ...metadataPaths(core).map(
      (path): Route => ({
        methods: ['GET'],
        path,
        errors: 'json',
        cors: true,
        handler: () => authorizationServerMetadata(core, sources),
      }),
    ),
    { methods: ['GET'], path: `${base}/authorize`, errors: 'page', handler: (r) => authorize(core, r) },
    {
      methods: ['POST'],
      path: `${base}${CONSENT_PATH}`,
      errors: 'page',
      sameOriginForm: true,
      handler: (r) => consentDecision(core, r),
    },
    {
      methods: ['POST'],
      path: `${base}/token`,
      errors: 'json',
      cors: true,
      refusalEvent: 'token_refused',
      handler: tokenEndpoint(core, grants),
    },
    {
      methods: ['POST'],
      path: `${base}/revoke`,
      errors: 'json',
      cors: true,
      handler: (r) => revoke(core, r),
    },
    { methods: ['POST'], path: `${base}/introspect`, errors: 'json', handler: (r) => introspect(core, r) },
    ...upstream.routes.map(
      (route): Route => ({
        methods: [route.method],
        path: `${base}${route.path}`,
        errors: 'page',
        sameOriginForm: route.method === 'POST' && route.crossSite !== true,
        handler: async (r) => settleOutcome(core, r, await upstream.handle(r, upstreamContext(core, r))),
      }),
    ),
  ];
  list.push(...extensions.flatMap((e) => e.routes?.(core) ?? []));
  if (core.config.registration.enabled) {
    list.push(
      {
        methods: ['POST'],
        path: `${base}/register`,
        errors: 'json',
        cors: true,
        handler: (r) => register(core, r),
      },
      {
        methods: ['GET', 'PUT', 'DELETE'],
        path: new RegExp(`^${escapeRegExp(base)}/register/([A-Za-z0-9_-]{1,64})$`),
        errors: 'json',
        cors: true,
        handler: (r, id) => manageClient(core, r, id),
      },
    );
  }
  return list;
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
  const extensions = options.extensions ?? [];
  const config = resolveConfig(options);
  const grants = grantTypesOf(extensions).filter((grant) => grant.enabled(config));
  const core = new Core(
    config,
    grants.map((grant) => grant.name),
    extensions,
    authMethodsOf(extensions),
  );
  const router = new Router(routes(core, grants, extensions), core.config);
  const guard = ownResourceGuard(core);
  const challenge = (request: Request, challengeOptions: ChallengeOptions = {}) =>
    challengeResponse(guard.target(request, challengeOptions.resource), challengeOptions);

  return {
    issuer: core.config.issuer,
    handles: (request) => router.find(new URL(request.url).pathname) !== undefined,
    async fetch(request) {
      return (await router.handle(request)) ?? oauthErrorResponse('not_found', 'Not found', 404);
    },
    authenticate: (request, authOptions) => guardRequest(guard, request, authOptions),
    challenge,
    unauthorized: (request) => challenge(request),
    upstreamToken: (info) => currentUpstreamToken(core, info),
    async protectedResourceMetadata(request) {
      const { pathname } = new URL(request.url);
      return pathname === PRM_PREFIX || pathname.startsWith(`${PRM_PREFIX}/`) ? router.handle(request) : null;
    },
    async cleanup() {
      return (await core.config.storage.deleteExpired?.(core.now())) ?? 0;
    },
  };
}
