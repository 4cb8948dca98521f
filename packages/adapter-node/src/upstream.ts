import { EventEmitter } from 'node:events';
import { pipeline, type Readable, type Transform } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import type { UpstreamExchange, UpstreamTransport } from '@portcullis/core/mcp';
import { Agent, type Dispatcher } from 'undici';
import { NodeRequest } from './node-request.js';
import { isPlainField, NodeResponse, NULL_BODY_STATUS } from './node-response.js';

/** Where `@portcullis/core`'s proxy looks for the exchange form of an upstream `fetch` (see there). */
const UPSTREAM_TRANSPORT = Symbol.for('portcullis.upstreamTransport');

/** Options of {@link nodeUpstreamFetch}. */
export interface NodeUpstreamOptions {
  /** Most connections open to one upstream origin at once; default 256. */
  readonly maxSockets?: number;
  /** How long an idle keep-alive connection stays open, in ms; default 30 000. */
  readonly idleTimeoutMs?: number;
}

/** A `fetch`-compatible function (the subset the MCP proxy uses). */
export type UpstreamFetch = (input: string | URL, init?: RequestInit) => Promise<Response>;

/** `Headers` (or any headers init) as a plain object; a `Headers` is read, not copied. */
function headerObject(headers: HeadersInit | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  (headers instanceof Headers ? headers : new Headers(headers)).forEach((value, name) => {
    out[name] = value;
  });
  return out;
}

/**
 * An upstream response's headers as `Headers` would hold them: lower-case names, repeated fields joined
 * with ", " (Fetch standard §2.2.2). A plain object while every field is plain; else a `Headers`
 * (`Set-Cookie` is never joined, and values `Headers` would change or refuse go through it).
 */
function responseHeaders(fields: Dispatcher.ResponseData['headers']): Record<string, string> | Headers {
  const plain: Record<string, string> = {};
  for (const name in fields) {
    const value = fields[name];
    if (value === undefined) continue;
    const joined = typeof value === 'string' ? value : value.join(', ');
    if (name === 'set-cookie' || !isPlainField(name, joined)) return webHeaders(fields);
    plain[name] = joined;
  }
  return plain;
}

function webHeaders(fields: Dispatcher.ResponseData['headers']): Headers {
  const headers = new Headers();
  for (const name in fields) {
    for (const value of [fields[name] ?? []].flat()) {
      try {
        headers.append(name, value);
      } catch {
        // A value Headers refuses is dropped, as fetch would refuse the whole response.
      }
    }
  }
  return headers;
}

// Fetch standard §4.6 (HTTP-network fetch): the content codings a fetch decodes.
const DECODERS: Record<string, () => Transform> = {
  gzip: () => createGunzip(),
  'x-gzip': () => createGunzip(),
  deflate: () => createInflate(),
  br: () => createBrotliDecompress(),
};

/** Bodies up to this size with a declared length are read whole, then sent in one write. */
const BUFFERED_BODY_BYTES = 64 * 1024;

/**
 * What an upstream answer's head says about how its body is to be passed on: read whole, streamed as
 * it is, or streamed through the decoder of its content coding.
 */
function bodyHandling(fields: Dispatcher.ResponseData['headers']): 'whole' | 'stream' | (() => Transform) {
  const coding = fields['content-encoding'];
  const decoder = typeof coding === 'string' ? DECODERS[coding.trim().toLowerCase()] : undefined;
  if (decoder) return decoder;
  const type = fields['content-type'];
  const declared = Number(fields['content-length'] ?? Number.NaN);
  const events = typeof type === 'string' && type.startsWith('text/event-stream');
  return coding === undefined && !events && declared <= BUFFERED_BODY_BYTES ? 'whole' : 'stream';
}

/**
 * The `Response` for an upstream answer. A small body of declared length that is neither coded nor an
 * event stream (a JSON-RPC answer) is read whole first: one message the client cannot use in part,
 * then sent in a single write. A coded body is decoded as `fetch` does (the proxy asks for `identity`;
 * an upstream may ignore it). Any other body is the upstream stream itself, piped through as it arrives
 * (SSE and Streamable HTTP streams stay live).
 */
async function upstreamResponse(data: Dispatcher.ResponseData): Promise<Response> {
  const init = { status: data.statusCode, headers: responseHeaders(data.headers) };
  const handling = bodyHandling(data.headers);
  if (handling === 'whole') {
    const bytes = new Uint8Array(await data.body.arrayBuffer());
    if (NULL_BODY_STATUS.has(init.status)) return new NodeResponse(null, init) as unknown as Response;
    return NodeResponse.ofBytes(bytes, init);
  }
  let body: Readable = data.body;
  if (handling !== 'stream') {
    const decoder = handling();
    pipeline(data.body, decoder, () => undefined);
    body = decoder;
  }
  return NodeResponse.fromNode(body, init);
}

/** One request over the pool: the head waits as long as the caller lets it, bodies are never cut. */
function poolRequest(
  agent: Agent,
  url: URL,
  method: string,
  headers: Readonly<Record<string, string>>,
  body: string | Uint8Array | null,
  signal: EventEmitter | AbortSignal | undefined,
): Promise<Dispatcher.ResponseData> {
  return agent.request({
    origin: url.origin,
    path: url.pathname + url.search,
    method: method as Dispatcher.HttpMethod,
    headers,
    body,
    ...(signal ? { signal } : {}),
    bodyTimeout: 0,
    headersTimeout: 0,
  });
}

const timeoutError = () => new DOMException('The upstream did not answer in time', 'TimeoutError');

/**
 * One exchange over the pool, as `@portcullis/core`'s proxy hands it over: one timer for the head (and
 * a body read whole), the caller watched directly, an `EventEmitter` as the request's abort signal (an
 * `AbortController` per request costs more than the rest of the hop).
 */
async function exchange(agent: Agent, url: URL, call: UpstreamExchange): Promise<Response> {
  const headers = call.headers instanceof Headers ? headerObject(call.headers) : call.headers;
  const abort = new EventEmitter();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    abort.emit('abort');
  }, call.timeoutMs);
  // The client going away ends the exchange: before the answer here, after it through the body pipe.
  const unwatch = NodeRequest.whenGone(call.caller, () => abort.emit('abort'));
  try {
    const data = await poolRequest(agent, url, call.method, headers, call.body ?? null, abort);
    data.body.once('close', unwatch);
    return await upstreamResponse(data);
  } catch (error) {
    unwatch();
    throw timedOut ? timeoutError() : error;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The upstream hop of `mcpProxy` on Node: HTTP/1.1 over a keep-alive connection pool per origin
 * (undici's `Agent`) instead of `fetch()`. The request body (a string or bytes, which is what the proxy
 * sends) goes out in one write; a small JSON answer of declared length is read whole and passed on in
 * one write; every other body is the upstream stream itself, piped to the client chunk by chunk (SSE
 * and Streamable HTTP streams stay live), with backpressure both ways, and the signal aborts the
 * exchange at any point. Redirects are not followed (the proxy refuses them); coded bodies are decoded,
 * as `fetch` does. Other bodies (streams, forms) go through the global `fetch`. The proxy itself hands
 * it exchanges without an `AbortSignal` (it carries the head timeout and watches the client directly).
 *
 * The Node adapters register one as the default transport of `mcpProxy`; pass your own as its
 * `fetch` option to size the pool.
 *
 * @example
 * ```ts
 * const proxy = mcpProxy({ upstream, authenticator: as, credentials, fetch: nodeUpstreamFetch({ maxSockets: 64 }) });
 * ```
 */
export function nodeUpstreamFetch(options: NodeUpstreamOptions = {}): UpstreamFetch {
  const agent = new Agent({
    connections: options.maxSockets ?? 256,
    keepAliveTimeout: options.idleTimeoutMs ?? 30_000,
    keepAliveMaxTimeout: options.idleTimeoutMs ?? 30_000,
    pipelining: 1,
  });
  const upstreamFetch = async (input: string | URL, init: RequestInit = {}): Promise<Response> => {
    const url = input instanceof URL ? input : new URL(input);
    const body = init.body;
    if (
      (url.protocol !== 'http:' && url.protocol !== 'https:') ||
      (body !== undefined && body !== null && typeof body !== 'string' && !(body instanceof Uint8Array))
    ) {
      return fetch(input, init);
    }
    const signal = init.signal ?? undefined;
    if (signal?.aborted) throw signal.reason;
    const data = await poolRequest(
      agent,
      url,
      init.method ?? 'GET',
      headerObject(init.headers),
      body ?? null,
      signal,
    );
    return upstreamResponse(data);
  };
  const transport: UpstreamTransport = (url, call) => exchange(agent, url, call);
  return Object.assign(upstreamFetch, { [UPSTREAM_TRANSPORT]: transport });
}

const UPSTREAM_FETCH = Symbol.for('portcullis.upstreamFetch');

/**
 * Registers a {@link nodeUpstreamFetch} pool as the default upstream transport of `mcpProxy` in this
 * process (idempotent; a proxy given its own `fetch` option keeps it). The Node adapters call it.
 */
export function useNodeUpstream(): void {
  const slot = globalThis as { [UPSTREAM_FETCH]?: UpstreamFetch };
  slot[UPSTREAM_FETCH] ??= nodeUpstreamFetch();
}
