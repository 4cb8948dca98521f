import { fieldEntries, fieldOf, headerFields, headerOf } from '../http/header-fields.js';
import type { Authenticator, TokenInfo } from '../types.js';
import {
  type CredentialFunction,
  type CredentialResult,
  customCredentials,
  plainApplier,
  type UpstreamCredentials,
} from './credentials.js';
import {
  jsonRpcError,
  jsonRpcId,
  readJsonRpcBody,
  requiredScopesFor,
  type ScopeRequirements,
} from './jsonrpc.js';
import type { LegacySse } from './legacy-sse.js';
import { insufficientScope } from './step-up.js';
import { sendUpstream, UpstreamFailure, withHeaders } from './upstream-hop.js';

/** Options of {@link mcpProxy}. */
export interface McpProxyOptions {
  /**
   * The upstream MCP endpoint: a Streamable HTTP URL, or a legacy SSE URL (e.g. `https://h/sse`) with
   * the `legacySse` option.
   */
  readonly upstream: string | URL;
  /** Verifies the caller's bearer token: the authorization server or a resource server. */
  readonly authenticator: Authenticator;
  /** How the proxy authenticates upstream: {@link staticToken}, {@link identityHeaders}, {@link upstreamIdpToken} or a function. */
  readonly credentials: UpstreamCredentials | CredentialFunction;
  /** Scopes needed by the route, by JSON-RPC method, or by tool (step-up: 403 `insufficient_scope`). */
  readonly scopes?: ScopeRequirements;
  /** The resource identifier of this route, when the authenticator cannot infer it from the path. */
  readonly resource?: string;
  /** Time allowed for the upstream to answer with headers, in ms; default 30 000. Streams are not cut. */
  readonly timeoutMs?: number;
  /** Largest accepted POST body in bytes; default 4 MiB. */
  readonly maxBodyBytes?: number;
  /** More client headers to strip before forwarding (identity headers are always stripped). */
  readonly stripHeaders?: readonly string[];
  /**
   * Support for a legacy HTTP+SSE upstream (MCP 2024-11-05): `legacySse()`, which rewrites its
   * `endpoint` event to a signed URL on this route. Without it, event streams pass through unchanged.
   */
  readonly legacySse?: LegacySse;
  /**
   * How the proxy reaches the upstream: a `fetch`-compatible function. Default: the transport a runtime
   * adapter registered (`@portcullis/adapter-node` registers a keep-alive connection pool), else the
   * global `fetch` (Workers, Deno, Bun).
   */
  readonly fetch?: typeof fetch;
}

// RFC 9110 §7.6.1: hop-by-hop fields are not forwarded.
const HOP_BY_HOP = [
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
];

/** Identity-bearing headers an upstream might trust: never accepted from clients. */
const IDENTITY_HEADERS = [
  'x-forwarded-user',
  'x-forwarded-email',
  'x-forwarded-name',
  'x-forwarded-groups',
  'x-forwarded-preferred-username',
  'x-forwarded-access-token',
  'x-auth-request-user',
  'x-auth-request-email',
  'x-remote-user',
  'remote-user',
  'cf-access-authenticated-user-email',
  'cf-access-jwt-assertion',
];

// RFC 9110 §10.1.1: the body is read whole before it is forwarded, so `Expect: 100-continue` is answered here.
const STRIPPED_REQUEST = [
  'host',
  'authorization',
  'cookie',
  'content-length',
  'accept-encoding',
  'origin',
  'expect',
];
const STRIPPED_RESPONSE = new Set([...HOP_BY_HOP, 'set-cookie', 'www-authenticate', 'content-encoding']);

/** RFC 9110 §7.6.1: the fields a `Connection` header names are hop-by-hop too. */
function connectionListed(connection: string | null | undefined): ReadonlySet<string> | undefined {
  if (!connection) return undefined;
  // The usual values name only fields that are hop-by-hop anyway.
  const lower = connection.toLowerCase();
  if (lower === 'keep-alive' || lower === 'close') return undefined;
  return new Set(lower.split(',').map((name) => name.trim()));
}

/** The fields of a message, in one pass, without the `dropped` ones and those its `Connection` lists. */
function keptFields(message: Request | Response, dropped: ReadonlySet<string>): Record<string, string> {
  const fields = headerFields(message);
  const listed = connectionListed(fieldOf(fields, 'connection'));
  const out: Record<string, string> = {};
  for (const [name, value] of fieldEntries(fields))
    if (!dropped.has(name) && !listed?.has(name)) out[name] = value;
  return out;
}

/** The client's headers the upstream may see: every stripped and hop-by-hop field left out. */
function forwardedHeaders(request: Request, stripped: ReadonlySet<string>): Record<string, string> {
  const out = keptFields(request, stripped);
  // The body is passed through as it is, so it must arrive unencoded.
  out['accept-encoding'] = 'identity';
  return out;
}

/**
 * The upstream's headers the client may see. `Content-Length` stays when the body is forwarded byte for
 * byte; it goes when the transport decoded a `Content-Encoding` or the body is rewritten.
 */
function returnedHeaders(response: Response, rewritten: boolean): Record<string, string> {
  const out = keptFields(response, STRIPPED_RESPONSE);
  if (rewritten || headerOf(response, 'content-encoding') !== null) delete out['content-length'];
  return out;
}

const ownerOf = (info: TokenInfo): string => JSON.stringify([info.userId, info.clientId]);

/**
 * Proxies authenticated MCP traffic to an upstream MCP server: Streamable HTTP (JSON and SSE answers
 * passed through as they arrive, with their `Content-Length` when the bytes are unchanged,
 * `Mcp-Session-Id` both ways, `DELETE` to end a session), and with the `legacySse` option the legacy
 * HTTP+SSE transport (its `endpoint` event rewritten to a signed URL on this route).
 *
 * The client's `Authorization` header is never forwarded; the upstream gets the configured credentials
 * instead. Unreachable upstreams (or a small answer broken off midway) give 502, slow ones 504, both
 * with a JSON-RPC error body.
 *
 * @example
 * ```ts
 * const proxy = mcpProxy({
 *   upstream: 'https://api.githubcopilot.com/mcp',
 *   authenticator: as,
 *   credentials: staticToken(env.UPSTREAM_TOKEN),
 *   scopes: { tools: { delete_repository: ['admin'] } },
 * });
 * // fetch(request) { return as.handles(request) ? as.fetch(request) : proxy(request); }
 * ```
 */
export function mcpProxy(options: McpProxyOptions): (request: Request) => Promise<Response> {
  // Earlier versions took `sseSecret`: refuse it rather than silently stop rewriting legacy streams.
  if ('sseSecret' in options)
    throw new TypeError('mcpProxy: sseSecret is now legacySse: legacySse({ secret })');
  const upstream = new URL(String(options.upstream));
  const credentials =
    typeof options.credentials === 'function' ? customCredentials(options.credentials) : options.credentials;
  const stripped = new Set(
    [
      ...HOP_BY_HOP,
      ...STRIPPED_REQUEST,
      ...IDENTITY_HEADERS,
      ...credentials.headers,
      ...(options.stripHeaders ?? []),
    ].map((h) => h.toLowerCase()),
  );
  const plain = plainApplier(credentials);
  const timeoutMs = options.timeoutMs ?? 30_000;
  const legacy = options.legacySse;

  // The authenticator's challenge tells the client where to re-authorize.
  const refuseCredentials = (request: Request, description: string): Response =>
    options.authenticator.challenge(request, {
      error: 'invalid_token',
      description,
      ...(options.resource ? { resource: options.resource } : {}),
    });

  const authenticateOptions = {
    ...(options.resource ? { resource: options.resource } : {}),
    ...(options.scopes?.route ? { requiredScopes: options.scopes.route } : {}),
  };

  return async (request: Request): Promise<Response> => {
    const incoming = new URL(request.url);
    // RFC 9728 §3: protected resource metadata lives under /.well-known/.
    if (incoming.pathname.startsWith('/.well-known/')) {
      const metadata = await options.authenticator.protectedResourceMetadata(request);
      if (metadata) return metadata;
    }
    const result = await options.authenticator.authenticate(request, authenticateOptions);
    if (!result.ok) return result.response;
    const info = result.info;

    // Where the request goes: the upstream endpoint, or a legacy message endpoint named by a signed URL.
    let target = upstream;
    const signed = legacy && (await legacy.target(incoming, ownerOf(info), upstream));
    if (signed === false)
      return jsonRpcError(403, -32600, 'The message endpoint URL is invalid for this caller.');
    if (signed) target = signed;
    else if (incoming.search) {
      target = new URL(upstream);
      for (const [key, value] of incoming.searchParams) target.searchParams.append(key, value);
    }

    let body: string | undefined;
    let id: string | number | null = null;
    if (request.method === 'POST') {
      const parsed = await readJsonRpcBody(request, options.maxBodyBytes);
      if (!parsed.ok) return jsonRpcError(parsed.status, parsed.code, parsed.message);
      id = jsonRpcId(parsed.json);
      const needed = requiredScopesFor(parsed.json, options.scopes ?? {});
      const refused = insufficientScope(options.authenticator, request, info, needed, options.resource);
      if (refused) return refused;
      // Forward exactly what was checked, so upstream parsers cannot read a different message.
      body = JSON.stringify(parsed.json);
    } else if (request.method !== 'GET' && request.method !== 'DELETE') {
      return new Response(null, { status: 405, headers: { allow: 'GET, POST, DELETE' } });
    }

    // The built-in strategies set their headers on the plain object; any other gets a `Headers`.
    let headers: Record<string, string> | Headers = forwardedHeaders(request, stripped);
    let applied: CredentialResult;
    if (plain) applied = plain(info, headers);
    else {
      headers = new Headers(headers);
      const applying = credentials.apply(info, headers);
      applied = applying instanceof Promise ? await applying : applying;
    }
    if (applied && 'refuse' in applied) return refuseCredentials(request, applied.refuse);

    let response: Response;
    try {
      response = await sendUpstream(options.fetch, target, {
        method: request.method,
        headers,
        ...(body !== undefined ? { body } : {}),
        timeoutMs,
        caller: request,
      });
    } catch (error) {
      if (error instanceof UpstreamFailure && error.timedOut)
        return jsonRpcError(504, -32603, 'The upstream MCP server timed out.', id);
      return jsonRpcError(502, -32603, 'The upstream MCP server is unreachable or broke off its answer.', id);
    }

    if (
      response.status === 401 ||
      response.status === 403 ||
      (response.status >= 300 && response.status < 400)
    ) {
      await response.body?.cancel();
      // The upstream refused the proxy's own credentials: not something the client can fix by re-authorizing.
      return jsonRpcError(502, -32603, 'The upstream MCP server refused the gateway credentials.', id);
    }
    const isStream = (headerOf(response, 'content-type') ?? '').startsWith('text/event-stream');
    const rewriting = isStream && request.method === 'GET' && response.body ? legacy : undefined;
    const out = returnedHeaders(response, rewriting !== undefined);
    if (isStream) {
      out['cache-control'] = 'no-cache';
      out['x-accel-buffering'] = 'no';
    }
    const init = { status: response.status, statusText: response.statusText, headers: out };
    if (!rewriting) return withHeaders(response, init);
    const events = response.body as ReadableStream<Uint8Array>;
    return new Response(rewriting.rewrite(events, ownerOf(info), incoming.pathname, target, upstream), init);
  };
}
