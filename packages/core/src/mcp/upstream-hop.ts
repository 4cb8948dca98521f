/**
 * The proxy's hop to its upstream: through `fetch()` anywhere, or through a runtime adapter's own
 * transport where one is registered (the Node adapter's keep-alive pool), which takes the exchange as
 * plain values instead of an `AbortSignal` per request.
 * @module
 */

/** Where a runtime adapter registers its upstream transport (the core imports no runtime module). */
export const UPSTREAM_FETCH = Symbol.for('portcullis.upstreamFetch');

/**
 * The property of a `fetch`-compatible function that also carries exchanges as {@link UpstreamExchange}
 * values (the Node adapter's `nodeUpstreamFetch`).
 */
export const UPSTREAM_TRANSPORT = Symbol.for('portcullis.upstreamTransport');

/**
 * A response method that gives the same body under new status and headers without making a stream of it
 * (the Node adapter's responses have one); others are re-wrapped with `new Response(response.body, init)`.
 */
export const WITH_HEADERS = Symbol.for('portcullis.withHeaders');

/**
 * One request to the upstream, as `mcpProxy` hands it to a runtime adapter's transport (the contract a
 * transport registered by an adapter implements; `@portcullis/adapter-node`'s pool is one).
 */
export interface UpstreamExchange {
  readonly method: string;
  /** The request headers: a plain object of lower-case names, or a `Headers`. */
  readonly headers: Readonly<Record<string, string>> | Headers;
  readonly body?: string;
  /** Time allowed until the response head, in ms; then the exchange fails with a `TimeoutError`. */
  readonly timeoutMs: number;
  /** The client's request: when its client goes away, the exchange is abandoned. */
  readonly caller: Request;
}

/**
 * A runtime adapter's upstream transport: carries one exchange, and rejects with an error named
 * `TimeoutError` when the upstream is too slow.
 */
export type UpstreamTransport = (url: URL, exchange: UpstreamExchange) => Promise<Response>;

/** Why an exchange failed: too slow, or not reachable at all. */
export class UpstreamFailure extends Error {
  constructor(readonly timedOut: boolean) {
    super(timedOut ? 'upstream timed out' : 'upstream unreachable');
  }
}

type FetchLike = typeof fetch & { readonly [UPSTREAM_TRANSPORT]?: UpstreamTransport };

/** The registered upstream transport, else the global `fetch`. */
const registeredFetch = (): FetchLike =>
  (globalThis as { [UPSTREAM_FETCH]?: FetchLike })[UPSTREAM_FETCH] ?? fetch;

/** The exchange over `fetch()`: one controller for both the head timeout and the client going away. */
async function overFetch(send: typeof fetch, url: URL, exchange: UpstreamExchange): Promise<Response> {
  // One controller for both (AbortSignal.any costs a quarter of a millisecond per call on Node 20).
  const abort = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    abort.abort();
  }, exchange.timeoutMs);
  const signal = exchange.caller.signal;
  const clientGone = () => abort.abort(signal.reason);
  if (signal.aborted) clientGone();
  else signal.addEventListener('abort', clientGone, { once: true });
  try {
    return await send(url, {
      method: exchange.method,
      headers: exchange.headers,
      ...(exchange.body !== undefined ? { body: exchange.body } : {}),
      signal: abort.signal,
      redirect: 'manual',
    });
  } catch {
    throw new UpstreamFailure(timedOut);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Sends `exchange` to `url` with `send` (default: the registered transport, else `fetch`). Rejects with
 * {@link UpstreamFailure} only; redirects are returned, never followed.
 */
export async function sendUpstream(
  send: typeof fetch | undefined,
  url: URL,
  exchange: UpstreamExchange,
): Promise<Response> {
  const chosen: FetchLike = send ?? registeredFetch();
  const transport = chosen[UPSTREAM_TRANSPORT];
  if (!transport) return overFetch(chosen, url, exchange);
  try {
    return await transport(url, exchange);
  } catch (error) {
    throw new UpstreamFailure((error as Error | undefined)?.name === 'TimeoutError');
  }
}

/** `response`'s body under a new status and headers (a plain object, as `new Response` accepts it). */
export function withHeaders(
  response: Response,
  init: { status: number; statusText: string; headers: Record<string, string> },
): Response {
  const own = (response as Response & { [WITH_HEADERS]?: (init: ResponseInit) => Response })[WITH_HEADERS];
  return own ? own.call(response, init) : new Response(response.body, init);
}
