import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { NodeResponse } from './node-response.js';

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

function headerObject(headers: HeadersInit | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  new Headers(headers).forEach((value, name) => {
    out[name] = value;
  });
  return out;
}

function responseHeaders(incoming: IncomingMessage): Headers {
  const headers = new Headers();
  const raw = incoming.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    try {
      headers.append(raw[i] as string, raw[i + 1] as string);
    } catch {
      // A value Headers refuses is dropped, as fetch would refuse the whole response.
    }
  }
  return headers;
}

/**
 * The upstream hop of `mcpProxy` on Node: HTTP/1.1 over keep-alive connection pools (`node:http` /
 * `node:https` agents) instead of `fetch()`. The request body (a string or bytes, which is what the
 * proxy sends) goes out in one write, the response body is the upstream socket itself: the adapter
 * pipes it to the client chunk by chunk (SSE and Streamable HTTP streams stay live), with
 * backpressure both ways, and the signal aborts the exchange at any point. Redirects are not followed
 * (the proxy refuses them). Other bodies (streams, forms) go through the global `fetch`.
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
  const http = new HttpAgent(agentOptions);
  const https = new HttpsAgent(agentOptions);
  return (input, init = {}) => {
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
        agent: secure ? https : http,
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
        resolve(
          NodeResponse.fromNode(incoming, {
            status: incoming.statusCode ?? 502,
            statusText: incoming.statusMessage ?? '',
            headers: responseHeaders(incoming),
          }),
        );
      });
      outgoing.end(body ?? undefined);
    });
  };
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
