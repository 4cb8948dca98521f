import type { IncomingMessage, ServerResponse } from 'node:http';
import { handleNodeRequest, type NodeAdapterOptions } from './http.js';
import { type MountOptions, portcullisRoutes, type RoutableServer } from './mount.js';

/** The parts of an Express request the middleware reads (keeps Express an optional dependency). */
type ExpressLikeRequest = IncomingMessage & { originalUrl?: string; body?: unknown; _body?: boolean };

/** An Express-compatible middleware function. */
export type ExpressMiddleware = (
  req: IncomingMessage,
  res: ServerResponse,
  next: (error?: unknown) => void,
) => void;

/** Options of {@link portcullisExpress}. */
export interface ExpressMountOptions extends MountOptions, NodeAdapterOptions {}

const encoder = new TextEncoder();

function appendForm(params: URLSearchParams, key: string, value: unknown): void {
  if (value === undefined || value === null) return;
  if (Array.isArray(value)) {
    for (const item of value) appendForm(params, key, item);
  } else if (typeof value === 'object') {
    for (const [name, inner] of Object.entries(value)) appendForm(params, `${key}[${name}]`, inner);
  } else {
    params.append(key, String(value));
  }
}

/**
 * The body bytes to use when a body parser (express.json(), express.urlencoded(), …) already read the
 * stream, re-serialized from `req.body` in the request's content type; `undefined` when the stream is
 * still unread.
 */
export function reserializeParsedBody(req: ExpressLikeRequest): Uint8Array | undefined {
  if (req._body !== true && !req.readableEnded) return undefined;
  const body = req.body;
  if (body === undefined || body === null) return new Uint8Array(0);
  if (body instanceof Uint8Array) return body;
  if (typeof body === 'string') return encoder.encode(body);
  const type = String(req.headers['content-type'] ?? '').toLowerCase();
  if (type.startsWith('application/x-www-form-urlencoded') && typeof body === 'object') {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(body)) appendForm(params, key, value);
    return encoder.encode(params.toString());
  }
  return encoder.encode(JSON.stringify(body));
}

/**
 * Express middleware serving the authorization-server routes and the protected MCP endpoint; any
 * other request goes to `next()`. Works before or after body parsers (a parsed body is re-serialized).
 * Mount it at the application root (or where the issuer's base path is): it sees `req.originalUrl`.
 *
 * @example
 * ```ts
 * import express from 'express';
 * const app = express();
 * app.use(portcullisExpress(as, { mcp: mcpHandler, trustProxy: true }));
 * app.listen(8787);
 * ```
 */
export function portcullisExpress(
  server: RoutableServer,
  options: ExpressMountOptions = {},
): ExpressMiddleware {
  const routes = portcullisRoutes(server, options);
  return (req, res, next) => {
    const request = req as ExpressLikeRequest;
    handleNodeRequest(req, res, routes, {
      ...options,
      url: request.originalUrl ?? req.url,
      body: reserializeParsedBody(request),
      fallthrough: true,
    }).then(
      (handled) => {
        if (!handled) next();
      },
      (error: unknown) => next(error),
    );
  };
}
