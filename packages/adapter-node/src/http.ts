import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { NodeRequest } from './node-request.js';
import { useNodeResponse } from './node-response.js';
import {
  BadRequestError,
  BodyTooLargeError,
  DEFAULT_BODY_LIMIT,
  type ToWebRequestOptions,
  UnsupportedMethodError,
} from './request.js';
import { sendWebResponse } from './response.js';
import { useNodeUpstream } from './upstream.js';

/** A Web-standard request handler, such as `server.fetch` of `createAuthorizationServer`. */
export type FetchHandler = (request: Request) => Promise<Response>;

/** A handler that may decline a request by returning `null` (the framework then calls its next route). */
export type OptionalFetchHandler = (request: Request) => Promise<Response | null>;

/** Options of the Node adapters. */
export interface NodeAdapterOptions
  extends Omit<ToWebRequestOptions, 'signal' | 'url' | 'body' | 'onBodyTooLarge'> {
  /** Called with unexpected errors thrown by the handler (the client gets a generic 500). */
  readonly onError?: (error: unknown) => void;
  /**
   * The Node fast paths, on by default: `globalThis.Response` becomes the light `NodeResponse`
   * ({@link useNodeResponse}: string and byte responses skip undici's stream) and `mcpProxy` reaches
   * its upstream over a keep-alive pool ({@link useNodeUpstream}) instead of `fetch()`. `false`
   * leaves the globals alone.
   */
  readonly fastPaths?: boolean;
}

/**
 * The client IP of a Web `Request` made by these adapters (socket peer, or the proxy-reported address
 * with `trustProxy`); `undefined` for other requests. Pass it as `clientIp` to `createAuthorizationServer`
 * so per-IP rate limits work.
 *
 * @example
 * ```ts
 * createAuthorizationServer({ ...options, clientIp });
 * ```
 */
export function clientIp(request: Request): string | undefined {
  return NodeRequest.clientIp(request);
}

/** A JSON error response in the RFC 6749 §5.2 shape. */
export function jsonError(status: number, error: string, description: string): Response {
  return new Response(JSON.stringify({ error, error_description: description }), {
    status,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
  });
}

/** Per-call options of {@link handleNodeRequest}. */
export interface HandleNodeRequestOptions extends NodeAdapterOptions {
  /** Path and query to use instead of `req.url`. */
  readonly url?: string;
  /** An already-read body to use instead of the request stream. */
  readonly body?: Uint8Array;
  /** Decline (return `false`) instead of answering 400 when the request's host or target is malformed. */
  readonly fallthrough?: boolean;
}

function tooLarge(limit: number): Response {
  const response = jsonError(413, 'invalid_request', `Request body exceeds the limit of ${limit} bytes`);
  response.headers.set('connection', 'close');
  return response;
}

/**
 * Runs a Web handler for one Node request and streams its response. Returns `false`, without touching
 * the response, when the handler returned `null` (the request is not ours).
 *
 * Errors become JSON: a malformed host gives 400 `invalid_request`, `TRACE` or `CONNECT` 501, a body over the limit 413
 * `invalid_request`, an exception in the handler 500 `server_error` (details go to `onError` only).
 */
export async function handleNodeRequest(
  req: IncomingMessage,
  res: ServerResponse,
  handler: OptionalFetchHandler,
  options: HandleNodeRequestOptions = {},
): Promise<boolean> {
  if (options.fastPaths !== false) {
    useNodeResponse();
    useNodeUpstream();
  }
  let request: NodeRequest | undefined;
  let overLimit = false;
  let response: Response | null;
  try {
    request = new NodeRequest(req, options);
    // The handler sees the client go away through `request.signal` (watched only if it asks for it).
    NodeRequest.watch(request, res);
    response = await handler(request as unknown as Request);
    overLimit = NodeRequest.overLimit(request);
  } catch (error) {
    if (error instanceof BadRequestError) {
      response = options.fallthrough ? null : jsonError(400, 'invalid_request', error.message);
    } else if (error instanceof UnsupportedMethodError) {
      response = options.fallthrough ? null : jsonError(501, 'invalid_request', error.message);
    } else if ((request && NodeRequest.overLimit(request)) || error instanceof BodyTooLargeError) {
      overLimit = true;
      response = null;
    } else {
      options.onError?.(error);
      response = jsonError(500, 'server_error', 'The server could not handle the request');
    }
  }
  // RFC 9110 §15.5.14: a body over the limit is refused as a whole, whatever the handler made of it.
  if (overLimit) {
    await response?.body?.cancel().catch(() => undefined);
    response = tooLarge(options.bodyLimit ?? DEFAULT_BODY_LIMIT);
  }
  if (response === null) return false;
  if (res.headersSent || res.destroyed) {
    await response.body?.cancel().catch(() => undefined);
    if (overLimit) res.destroy();
    return true;
  }
  await sendWebResponse(res, response, { method: req.method });
  if (overLimit) req.resume();
  return true;
}

/**
 * Turns a Web handler into a `node:http` request listener.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { createAuthorizationServer, MemoryStorage } from '@portcullis/core';
 * import { toNodeListener } from '@portcullis/adapter-node';
 *
 * const as = createAuthorizationServer({ ... });
 * createServer(toNodeListener((request) => as.fetch(request))).listen(8787);
 * ```
 */
export function toNodeListener(handler: FetchHandler, options: NodeAdapterOptions = {}): RequestListener {
  return (req, res) => {
    void handleNodeRequest(req, res, handler, options);
  };
}
