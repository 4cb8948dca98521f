import { headerOf } from '../http/header-fields.js';
import type { Authenticator, TokenInfo } from '../types.js';
import { type McpAuthInfo, toAuthInfo } from './auth-info.js';
import { jsonRpcError, readJsonRpcBody, requiredScopesFor, type ScopeRequirements } from './jsonrpc.js';
import { StatelessServers } from './server-pool.js';
import { insufficientScope } from './step-up.js';

/**
 * What {@link protectMcpServer} needs of an MCP SDK server: an `McpServer` or low-level `Server` of
 * SDK v1 (`@modelcontextprotocol/sdk`) or SDK v2 (`@modelcontextprotocol/server`).
 */
export interface McpServerLike {
  connect(transport: never): Promise<void>;
  close(): Promise<void>;
}

/** The Web-standard Streamable HTTP server transport, as both SDK lines shape it. */
interface WebTransport {
  sessionId?: string | undefined;
  onclose?: (() => void) | undefined;
  handleRequest(
    request: Request,
    options?: { authInfo?: McpAuthInfo; parsedBody?: unknown },
  ): Promise<Response>;
  close(): Promise<void>;
}
interface WebTransportOptions {
  sessionIdGenerator: (() => string) | undefined;
  enableJsonResponse?: boolean;
  onsessioninitialized?: (id: string) => void;
  onsessionclosed?: (id: string) => void;
}
type WebTransportClass = new (options: WebTransportOptions) => WebTransport;

// The SDKs are optional peers, loaded on first use (so `mcpProxy` works without them): the v2
// transport serves v2 servers, the v1 transport v1 servers; neither line is needed for the other.
let v2: Promise<{ transport: WebTransportClass; owns(server: object): boolean } | null> | undefined;
const loadV2 = () =>
  (v2 ??= import('@modelcontextprotocol/server').then(
    (sdk) => ({
      transport: sdk.WebStandardStreamableHTTPServerTransport as unknown as WebTransportClass,
      owns: (server: object) => server instanceof sdk.McpServer || server instanceof sdk.Server,
    }),
    () => null,
  ));
let v1: Promise<WebTransportClass | null> | undefined;
const loadV1 = () =>
  (v1 ??= import('@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js').then(
    (sdk) => sdk.WebStandardStreamableHTTPServerTransport as unknown as WebTransportClass,
    () => null,
  ));
const transports = new WeakMap<object, WebTransportClass>();

/**
 * The transport class of the SDK line `server` comes from: at once when its server class was seen
 * before, else once the SDKs are loaded.
 */
function transportFor(server: McpServerLike): WebTransportClass | Promise<WebTransportClass> {
  return transports.get(server.constructor) ?? findTransport(server);
}

async function findTransport(server: McpServerLike): Promise<WebTransportClass> {
  const two = await loadV2();
  const found = two?.owns(server) ? two.transport : ((await loadV1()) ?? two?.transport);
  if (!found)
    throw new Error(
      'protectMcpServer needs @modelcontextprotocol/server (v2) or @modelcontextprotocol/sdk (v1)',
    );
  transports.set(server.constructor, found);
  return found;
}

const connect = (server: McpServerLike, transport: WebTransport) =>
  (server.connect as (transport: WebTransport) => Promise<void>)(transport);

/** Session handling of {@link protectMcpServer}. */
export interface McpSessionOptions {
  /** Sessions idle longer than this are closed, in ms; default 30 minutes. */
  readonly idleTimeoutMs?: number;
  /** At most this many live sessions; the least recently used is closed first. Default 1000. */
  readonly maxSessions?: number;
}

/** Options of {@link protectMcpServer}. */
export interface ProtectMcpServerOptions {
  /** Verifies bearer tokens: the authorization server, or a resource server. */
  readonly authenticator: Authenticator;
  /**
   * Builds the SDK server for a caller: once per session, or (stateless) once per access token, the
   * server serving that token's requests one at a time (see `reuseServers`). It receives the caller's
   * token info; tools read it again per call from `extra.authInfo`.
   */
  readonly server: (info: TokenInfo) => McpServerLike | Promise<McpServerLike>;
  /**
   * Stateless mode: keep a server built for an access token, its transport closed after each request,
   * for that token's next requests (never another token's), so the factory runs once per token rather
   * than once per request (a server built with twenty tools costs more than the request itself). At
   * most 256 idle servers are kept; a token's go when it expires.
   * Default `true`; `false` builds a server for every request (for a factory whose result must differ
   * from one request to the next of the same token).
   */
  readonly reuseServers?: boolean;
  /**
   * `false` (default): stateless, a fresh transport per POST, no `Mcp-Session-Id`. `true` or options: the
   * SDK's session mode, sessions kept in memory and bound to the user and client that opened them.
   */
  readonly sessions?: boolean | McpSessionOptions;
  /** Scopes needed by the route, JSON-RPC methods, or tools (403 `insufficient_scope` when missing). */
  readonly scopes?: ScopeRequirements;
  /** The resource identifier of this endpoint, when the authenticator cannot infer it from the path. */
  readonly resource?: string;
  /** Answer POSTs with JSON instead of an SSE stream. Default `false`. */
  readonly enableJsonResponse?: boolean;
  /** Largest accepted POST body in bytes; default 4 MiB. */
  readonly maxBodyBytes?: number;
  /** Clock in epoch ms, for session expiry; default `Date.now`. */
  readonly now?: () => number;
}

interface Session {
  readonly transport: WebTransport;
  readonly server: McpServerLike;
  readonly owner: string;
  lastSeen: number;
}

/** Closes `server` once `response`'s body has been fully sent or cancelled. */
function closeAfter(response: Response, close: () => void): Response {
  if (!response.body) {
    close();
    return response;
  }
  const reader = response.body.getReader();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) {
          controller.close();
          close();
        } else controller.enqueue(value);
      } catch (error) {
        controller.error(error);
        close();
      }
    },
    async cancel(reason) {
      await reader.cancel(reason);
      close();
    },
  });
  return new Response(body, {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
}

/**
 * Closes a stateless server and its transport. Closing, the SDK makes a "Connection closed" error for
 * the requests still pending, even when none is: its stack trace costs more than our part of the close, so
 * errors made during this synchronous part of the close carry none (nothing here reads them).
 */
function closeQuietly(server: McpServerLike, transport: WebTransport, reuse?: () => void): void {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  let closed: Promise<unknown>;
  try {
    closed = Promise.all([transport.close(), server.close()]);
  } catch {
    return; // a server whose close throws is not reused
  } finally {
    Error.stackTraceLimit = limit;
  }
  // Only a server whose transport closed cleanly serves again (the SDK connects one transport at a time).
  closed.then(reuse, () => undefined);
}

const ownerOf = (info: TokenInfo): string => JSON.stringify([info.userId, info.clientId]);

/**
 * Serves an MCP SDK server over Streamable HTTP behind bearer authentication, with the Web-standard
 * transport of the SDK (Node, Workers, Deno, Bun). Unauthenticated requests get the authenticator's
 * 401; tools receive the caller in `extra.authInfo` (`token`, `clientId`, `scopes`, `expiresAt`,
 * `extra: { userId, email, name, props, resource }`).
 *
 * Stateless mode gives every request a fresh transport (the SDK serves one request per stateless
 * transport and one transport per server) on a server built for the caller's access token, reused for
 * that token's later requests one at a time (`reuseServers`). Pass every server the same
 * `jsonSchemaValidator` (otherwise each SDK server compiles its own Ajv instance).
 *
 * @example
 * ```ts
 * const jsonSchemaValidator = new AjvJsonSchemaValidator(); // '@modelcontextprotocol/sdk/validation/ajv'
 * const handler = protectMcpServer({
 *   authenticator: as,
 *   server: () => {
 *     const server = new McpServer({ name: 'demo', version: '1.0.0' }, { jsonSchemaValidator });
 *     server.registerTool('whoami', {}, async (_args, extra) => ({
 *       content: [{ type: 'text', text: String(extra.authInfo?.extra?.email) }],
 *     }));
 *     return server;
 *   },
 * });
 * // in fetch(request): if (new URL(request.url).pathname === '/mcp') return handler(request);
 * ```
 */
export function protectMcpServer(options: ProtectMcpServerOptions): (request: Request) => Promise<Response> {
  const sessionOptions: McpSessionOptions | null =
    options.sessions === true ? {} : options.sessions ? options.sessions : null;
  const idleTimeoutMs = sessionOptions?.idleTimeoutMs ?? 30 * 60_000;
  const maxSessions = sessionOptions?.maxSessions ?? 1000;
  const now = options.now ?? Date.now;
  const sessions = new Map<string, Session>();
  const enableJsonResponse = options.enableJsonResponse ?? false;
  const pool = options.reuseServers === false ? undefined : new StatelessServers<McpServerLike>(now);
  const authOptions = {
    ...(options.resource ? { resource: options.resource } : {}),
    ...(options.scopes?.route ? { requiredScopes: options.scopes.route } : {}),
  };

  function dropSession(id: string): void {
    const session = sessions.get(id);
    if (!session) return;
    sessions.delete(id);
    void session.transport.close().catch(() => undefined);
    void session.server.close().catch(() => undefined);
  }

  function sweep(): void {
    const limit = now() - idleTimeoutMs;
    for (const [id, session] of sessions) if (session.lastSeen < limit) dropSession(id);
    while (sessions.size >= maxSessions) {
      const oldest = [...sessions.entries()].sort((a, b) => a[1].lastSeen - b[1].lastSeen)[0];
      if (!oldest) break;
      dropSession(oldest[0]);
    }
  }

  async function stateless(request: Request, info: TokenInfo, parsedBody: unknown): Promise<Response> {
    if (request.method !== 'POST') {
      // Streamable HTTP: a server without sessions may refuse GET streams and DELETE with 405.
      return new Response(null, { status: 405, headers: { allow: 'POST' } });
    }
    // The SDK serves one request per stateless transport and one transport per server at a time.
    const made = pool?.take(info) ?? options.server(info);
    const server = made instanceof Promise ? await made : made;
    const Transport = await transportFor(server);
    const transport = new Transport({ sessionIdGenerator: undefined, enableJsonResponse });
    await connect(server, transport);
    let response: Response;
    try {
      response = await transport.handleRequest(request, { authInfo: toAuthInfo(info), parsedBody });
    } catch (error) {
      closeQuietly(server, transport);
      throw error;
    }
    const close = () => closeQuietly(server, transport, pool && (() => pool.release(info, server)));
    // A JSON answer is complete when it is returned: close without re-wrapping its body, once the
    // SDK has finished its own bookkeeping of the request (closing before it aborts the finished
    // handler's AbortController: a DOMException with a stack trace, a tenth of the request's time).
    if (!(headerOf(response, 'content-type') ?? '').startsWith('text/event-stream')) {
      setTimeout(close, 0);
      return response;
    }
    return closeAfter(response, close);
  }

  async function withSessions(request: Request, info: TokenInfo, parsedBody: unknown): Promise<Response> {
    sweep();
    const owner = ownerOf(info);
    const sessionId = request.headers.get('mcp-session-id');
    if (sessionId !== null) {
      const session = sessions.get(sessionId);
      // A session belongs to the user and client that opened it; anyone else sees it as unknown.
      if (!session || session.owner !== owner) return jsonRpcError(404, -32001, 'Session not found.');
      session.lastSeen = now();
      return session.transport.handleRequest(request, { authInfo: toAuthInfo(info), parsedBody });
    }
    if (request.method !== 'POST')
      return jsonRpcError(400, -32000, 'Bad Request: Mcp-Session-Id header is required.');
    const server = await options.server(info);
    let created: Session | undefined;
    const transport = new (await transportFor(server))({
      sessionIdGenerator: () => crypto.randomUUID(),
      enableJsonResponse,
      onsessioninitialized: (id) => {
        created = { transport, server, owner, lastSeen: now() };
        sessions.set(id, created);
      },
      onsessionclosed: (id) => {
        sessions.delete(id);
      },
    });
    transport.onclose = () => {
      if (transport.sessionId) sessions.delete(transport.sessionId);
    };
    await connect(server, transport);
    const response = await transport.handleRequest(request, { authInfo: toAuthInfo(info), parsedBody });
    if (!created) {
      void transport.close().catch(() => undefined);
      void server.close().catch(() => undefined);
    }
    return response;
  }

  return async (request: Request): Promise<Response> => {
    const metadata = await options.authenticator.protectedResourceMetadata(request);
    if (metadata) return metadata;
    const result = await options.authenticator.authenticate(request, authOptions);
    if (!result.ok) return result.response;
    let parsedBody: unknown;
    if (request.method === 'POST') {
      const body = await readJsonRpcBody(request, options.maxBodyBytes);
      if (!body.ok) return jsonRpcError(body.status, body.code, body.message);
      parsedBody = body.json;
      const needed = requiredScopesFor(body.json, options.scopes ?? {});
      const refused = insufficientScope(
        options.authenticator,
        request,
        result.info,
        needed,
        options.resource,
      );
      if (refused) return refused;
    }
    return sessionOptions
      ? withSessions(request, result.info, parsedBody)
      : stateless(request, result.info, parsedBody);
  };
}
