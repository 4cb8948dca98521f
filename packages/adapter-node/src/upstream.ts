import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { pipeline, type Readable, type Transform } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { NodeRequest } from './node-request.js';
import { NodeResponse } from './node-response.js';

/** Where `@portcullis/core`'s proxy looks for the exchange form of an upstream `fetch` (see there). */
const UPSTREAM_TRANSPORT = Symbol.for('portcullis.upstreamTransport');

/** One upstream request as `@portcullis/core`'s proxy hands it to a transport (its `UpstreamExchange`). */
interface UpstreamExchange {
  readonly method: string;
  readonly headers: Headers;
  readonly body?: string;
  readonly timeoutMs: number;
  readonly caller: Request;
}

type UpstreamTransport = (url: URL, call: UpstreamExchange) => Promise<Response>;

/** Options of {@link nodeUpstreamFetch}. */
export interface NodeUpstreamOptions {
  /** Most connections open to one upstream origin at once; default 256. */
  readonly maxSockets?: number;
  /** Idle keep-alive connections kept per origin; default 64. */
  readonly maxFreeSockets?: number;
  /** How long an idle connection stays open, in ms; default 30 000. */
  readonly idleTimeoutMs?: number;
}

/** A `fetch`-compatible function (the subset the MCP proxy uses). */
export type UpstreamFetch = (input: string | URL, init?: RequestInit) => Promise<Response>;

/** `Headers` (or any headers init) as the object `http.request` takes; a `Headers` is read, not copied. */
function headerObject(headers: HeadersInit | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  (headers instanceof Headers ? headers : new Headers(headers)).forEach((value, name) => {
    out[name] = value;
  });
  return out;
}

// RFC 9110 §5.1 tokens in lower case, and values Headers keeps as they are (no CR, LF, NUL, outer spaces).
const PLAIN_NAME = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;
const PLAIN_VALUE = /^(?:[^\0\r\n\t ](?:[^\0\r\n]*[^\0\r\n\t ])?)?$/;

/**
 * An upstream response's headers as `Headers` would hold them: lower-case names, repeated fields joined
 * with ", " (Fetch standard §2.2.2). A plain object while every field is plain; else a `Headers`
 * (`Set-Cookie` is never joined, and values `Headers` would change or refuse go through it).
 */
function responseHeaders(incoming: IncomingMessage): Record<string, string> | Headers {
  const raw = incoming.rawHeaders;
  const plain: Record<string, string> = {};
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = (raw[i] as string).toLowerCase();
    const value = raw[i + 1] as string;
    if (name === 'set-cookie' || !PLAIN_NAME.test(name) || !PLAIN_VALUE.test(value)) return webHeaders(raw);
    const seen = plain[name];
    plain[name] = seen === undefined ? value : `${seen}, ${value}`;
  }
  return plain;
}

function webHeaders(raw: readonly string[]): Headers {
  const headers = new Headers();
  for (let i = 0; i + 1 < raw.length; i += 2) {
    try {
      headers.append(raw[i] as string, raw[i + 1] as string);
    } catch {
      // A value Headers refuses is dropped, as fetch would refuse the whole response.
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

/**
 * The response body as `fetch` would give it: a coded body (the proxy asks for `identity`, an upstream
 * may ignore it) is decoded, the headers stay as sent.
 */
function decodedBody(incoming: IncomingMessage): Readable {
  const coding = incoming.headers['content-encoding']?.trim().toLowerCase();
  const decoder = coding ? DECODERS[coding] : undefined;
  if (!decoder) return incoming;
  const decoded = decoder();
  pipeline(incoming, decoded, () => undefined);
  return decoded;
}

/** Bodies up to this size with a declared length are read whole, then sent in one write. */
const BUFFERED_BODY_BYTES = 64 * 1024;

/**
 * The `Response` for an upstream answer. A small body of declared length that is neither coded nor an
 * event stream (a JSON-RPC answer) is read whole first: it is one message the client cannot use in
 * part, and it then goes out in a single write. Any other body is the upstream stream itself, piped
 * through as it arrives (SSE and Streamable HTTP streams stay live).
 */
async function upstreamResponse(incoming: IncomingMessage): Promise<Response> {
  const init = {
    status: incoming.statusCode ?? 502,
    statusText: incoming.statusMessage ?? '',
    headers: responseHeaders(incoming),
  };
  const declared = Number(incoming.headers['content-length'] ?? Number.NaN);
  if (
    !(declared <= BUFFERED_BODY_BYTES) ||
    incoming.headers['content-encoding'] !== undefined ||
    (incoming.headers['content-type'] ?? '').startsWith('text/event-stream')
  )
    return NodeResponse.fromNode(decodedBody(incoming), init);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.once('end', () => {
      const body = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
      // Fetch standard §2.2.3: a null body status has no body, whatever length was declared.
      const empty = init.status === 204 || init.status === 205 || init.status === 304;
      resolve(
        empty ? (new NodeResponse(null, init) as unknown as Response) : NodeResponse.ofBytes(body, init),
      );
    });
    incoming.once('error', reject);
    incoming.once('close', () => {
      if (!incoming.complete) reject(new Error('The upstream closed the connection mid-body'));
    });
  });
}

const timeoutError = () => new DOMException('The upstream did not answer in time', 'TimeoutError');

type Agents = { readonly http: HttpAgent; readonly https: HttpsAgent };

/** One exchange over the pools, as `@portcullis/core`'s proxy hands it over (no `AbortSignal` needed). */
function exchange(agents: Agents, url: URL, call: UpstreamExchange): Promise<Response> {
  const headers = headerObject(call.headers);
  if (call.body !== undefined) headers['content-length'] = String(Buffer.byteLength(call.body));
  const secure = url.protocol === 'https:';
  return new Promise<Response>((resolve, reject) => {
    const outgoing = (secure ? httpsRequest : httpRequest)({
      agent: secure ? agents.https : agents.http,
      protocol: url.protocol,
      hostname: url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname,
      port: url.port || undefined,
      path: url.pathname + url.search,
      method: call.method,
      headers,
    });
    // The head (and a body read whole) must arrive in time; a streamed body is never cut.
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      outgoing.destroy(timeoutError());
    }, call.timeoutMs);
    // The client going away ends the exchange: before the head here, after it through the body pipe.
    const unwatch = NodeRequest.whenGone(call.caller, () => outgoing.destroy(new Error('client went away')));
    const fail = (error: unknown) => {
      clearTimeout(timer);
      unwatch();
      reject(timedOut ? timeoutError() : error);
    };
    outgoing.once('error', fail);
    outgoing.once('response', (incoming) => {
      incoming.once('close', unwatch);
      upstreamResponse(incoming).then((response) => {
        clearTimeout(timer);
        resolve(response);
      }, fail);
    });
    outgoing.end(call.body);
  });
}

/**
 * The upstream hop of `mcpProxy` on Node: HTTP/1.1 over keep-alive connection pools (`node:http` /
 * `node:https` agents) instead of `fetch()`. The request body (a string or bytes, which is what the
 * proxy sends) goes out in one write, the response body is the upstream socket itself: the adapter
 * pipes it to the client chunk by chunk (SSE and Streamable HTTP streams stay live), with
 * backpressure both ways, and the signal aborts the exchange at any point. Redirects are not followed
 * (the proxy refuses them); coded bodies are decoded, as `fetch` does. Other bodies (streams, forms) go
 * through the global `fetch`. The proxy itself hands it exchanges without an `AbortSignal` (it carries
 * the head timeout and watches the client directly).
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
  const agentOptions = {
    keepAlive: true,
    maxSockets: options.maxSockets ?? 256,
    maxFreeSockets: options.maxFreeSockets ?? 64,
    timeout: options.idleTimeoutMs ?? 30_000,
  };
  const agents: Agents = { http: new HttpAgent(agentOptions), https: new HttpsAgent(agentOptions) };
  const upstreamFetch = (input: string | URL, init: RequestInit = {}): Promise<Response> => {
    const url = input instanceof URL ? input : new URL(input);
    const body = init.body;
    if (
      (url.protocol !== 'http:' && url.protocol !== 'https:') ||
      (body !== undefined && body !== null && typeof body !== 'string' && !(body instanceof Uint8Array))
    ) {
      return fetch(input, init);
    }
    const signal = init.signal ?? undefined;
    if (signal?.aborted) return Promise.reject(signal.reason);
    const headers = headerObject(init.headers);
    if (body !== undefined && body !== null)
      headers['content-length'] = String(
        typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength,
      );
    const secure = url.protocol === 'https:';
    return new Promise<Response>((resolve, reject) => {
      const outgoing = (secure ? httpsRequest : httpRequest)({
        agent: secure ? agents.https : agents.http,
        protocol: url.protocol,
        hostname: url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname,
        port: url.port || undefined,
        path: url.pathname + url.search,
        method: init.method ?? 'GET',
        headers,
      });
      const onAbort = () => outgoing.destroy(signal?.reason ?? new Error('aborted'));
      signal?.addEventListener('abort', onAbort, { once: true });
      outgoing.once('error', (error) => {
        signal?.removeEventListener('abort', onAbort);
        reject(error);
      });
      outgoing.once('response', (incoming) => {
        // An abort after the head (the client went away) ends the body stream too.
        incoming.once('close', () => signal?.removeEventListener('abort', onAbort));
        upstreamResponse(incoming).then(resolve, reject);
      });
      outgoing.end(body ?? undefined);
    });
  };
  const transport: UpstreamTransport = (url, call) => exchange(agents, url, call);
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
