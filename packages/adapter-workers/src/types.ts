import type { Authenticator, AuthorizationServerOptions, TokenInfo } from '@portcullis/core';

/** The part of the Workers `ExecutionContext` the adapter uses. */
export interface ExecutionContextLike {
  waitUntil(promise: Promise<unknown>): void;
}

/** A Workers module handler, as `export default` expects (`ExportedHandler<Env>`). */
export interface WorkerHandler<Env> {
  fetch(request: Request, env: Env, ctx: ExecutionContextLike): Promise<Response>;
}

/** What the protected API handler receives besides the request. */
export interface ApiContext<Env> {
  readonly env: Env;
  readonly ctx: ExecutionContextLike;
  /** The verified caller. */
  readonly info: TokenInfo;
  /**
   * The authenticator of this issuer. Authenticating the same request again returns `info` without a
   * storage round trip, so it can be handed to `mcpProxy` or `protectMcpServer`.
   */
  readonly authenticator: Authenticator;
  /** The issuer serving this request. */
  readonly issuer: string;
}

/** Serves the protected API route once the bearer token is verified. */
export type ApiHandler<Env> = (request: Request, api: ApiContext<Env>) => Response | Promise<Response>;

/** Serves every request that is neither an authorization-server route nor the API route. */
export type DefaultHandler<Env> = (
  request: Request,
  env: Env,
  ctx: ExecutionContextLike,
) => Response | Promise<Response>;

/** Configuration of {@link portcullis}: the core options plus the Worker's routing. */
export interface PortcullisWorkerConfig<Env> extends Omit<AuthorizationServerOptions, 'issuer' | 'clientIp'> {
  /** The issuer; default the origin of each request (so `workers.dev` and custom domains both work). */
  readonly issuer?: string;
  /**
   * Path(s) of the protected API; a request to the path or below it is authenticated first. Default
   * `/mcp`. Unless `resources` is set, each path is also a protected resource (RFC 9728).
   */
  readonly apiRoute?: string | readonly string[];
  /** Handles authenticated API requests. */
  readonly apiHandler: ApiHandler<Env>;
  /** Scopes every API request needs (403 `insufficient_scope` otherwise). */
  readonly requiredScopes?: readonly string[];
  /** Handles all other requests; default a JSON 404. */
  readonly defaultHandler?: DefaultHandler<Env>;
  /**
   * Expired records are swept in the background (`ctx.waitUntil`) at most this often per isolate,
   * triggered by traffic; default 3600 seconds. Set 0 to disable.
   */
  readonly cleanupIntervalSeconds?: number;
}

/** The configuration, or a function building it from the Worker's `env` (called once per isolate). */
export type PortcullisWorkerConfigSource<Env> =
  | PortcullisWorkerConfig<Env>
  | ((env: Env) => PortcullisWorkerConfig<Env> | Promise<PortcullisWorkerConfig<Env>>);
