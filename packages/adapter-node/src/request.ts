import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import type { TLSSocket } from 'node:tls';

/** Default request body limit: 1 MiB. OAuth and MCP JSON-RPC requests are far smaller. */
export const DEFAULT_BODY_LIMIT = 1024 * 1024;

/** How the adapter finds the public origin of a request (the scheme and host clients used). */
export interface OriginOptions {
  /**
   * The public base URL of the service (e.g. `https://mcp.example.com`). When set, its origin is used
   * for every request, whatever the headers say. Prefer this behind a reverse proxy.
   */
  readonly publicUrl?: string | URL;
  /**
   * Trust `Forwarded` (RFC 7239) or `X-Forwarded-Proto` / `X-Forwarded-Host` headers. Enable only when
   * a proxy you control sets them; otherwise a client could choose the origin the server believes in.
   * Default `false`: the origin comes from the socket (TLS or not) and the `Host` header.
   */
  readonly trustProxy?: boolean;
}

/** Options for converting a Node request into a Web `Request`. */
export interface ToWebRequestOptions extends OriginOptions {
  /** Largest accepted request body in bytes; bigger bodies are refused with 413. Default 1 MiB. */
  readonly bodyLimit?: number;
  /** Aborted when the client goes away; passed on as `request.signal`. */
  readonly signal?: AbortSignal;
  /** Path and query to use instead of `req.url` (Express passes `originalUrl`). */
  readonly url?: string;
  /** A body to use instead of reading the stream (when a body parser already consumed it). */
  readonly body?: Uint8Array;
  /** Called when the streamed body goes over `bodyLimit` (the stream then errors). */
  readonly onBodyTooLarge?: () => void;
}

/** Thrown (or used to error the body stream) when a request body is larger than the limit. */
export class BodyTooLargeError extends Error {
  /** The limit that was exceeded, in bytes. */
  readonly limit: number;
  constructor(limit: number) {
    super(`Request body exceeds the limit of ${limit} bytes`);
    this.name = 'BodyTooLargeError';
    this.limit = limit;
  }
}

/** Thrown when the request cannot be turned into a URL (bad Host header, bad forwarded values). */
export class BadRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BadRequestError';
  }
}

/**
 * Thrown for a method the Fetch standard forbids in a `Request` (`CONNECT`, `TRACE`, `TRACK`): none of
 * Portcullis's routes serves it, so the adapters answer 501 (RFC 9110 §15.6.2) instead of failing.
 */
export class UnsupportedMethodError extends Error {
  /** The refused method, upper-cased. */
  readonly method: string;
  constructor(method: string) {
    super(`The ${method} method is not supported`);
    this.name = 'UnsupportedMethodError';
    this.method = method;
  }
}

// Fetch standard §2.2.1: forbidden methods a Web `Request` cannot carry.
export const FORBIDDEN_METHODS: ReadonlySet<string> = new Set(['CONNECT', 'TRACE', 'TRACK']);

const HOST_PATTERN = /^(?:\[[0-9a-fA-F:.]+\]|[a-zA-Z0-9.-]+)(?::\d{1,5})?$/;

function firstHeader(value: string | string[] | undefined): string | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (raw === undefined) return undefined;
  // A proxy chain appends values: the first one is what the client used.
  const first = raw.split(',')[0]?.trim();
  return first ? first : undefined;
}

function unquote(value: string): string {
  return value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value;
}

/** Reads `proto` and `host` from the first element of an RFC 7239 `Forwarded` header. */
function parseForwarded(header: string | undefined): { proto?: string; host?: string } {
  if (!header) return {};
  const first = header.split(',')[0] ?? '';
  const result: { proto?: string; host?: string } = {};
  for (const pair of first.split(';')) {
    const eq = pair.indexOf('=');
    if (eq < 0) continue;
    const name = pair.slice(0, eq).trim().toLowerCase();
    const value = unquote(pair.slice(eq + 1).trim());
    if (name === 'proto') result.proto = value.toLowerCase();
    if (name === 'host') result.host = value;
  }
  return result;
}

/**
 * The public origin (`scheme://host[:port]`) of a Node request, following {@link OriginOptions}.
 * @throws BadRequestError when the host or scheme is missing or malformed.
 */
export function requestOrigin(req: IncomingMessage, options: OriginOptions = {}): string {
  if (options.publicUrl !== undefined) return new URL(options.publicUrl).origin;
  let proto: string | undefined;
  let host: string | undefined;
  if (options.trustProxy) {
    const forwarded = parseForwarded(firstHeader(req.headers.forwarded));
    proto = forwarded.proto ?? firstHeader(req.headers['x-forwarded-proto'])?.toLowerCase();
    host = forwarded.host ?? firstHeader(req.headers['x-forwarded-host']);
  }
  proto ??= (req.socket as Partial<TLSSocket>).encrypted ? 'https' : 'http';
  host ??= req.headers.host;
  if (proto !== 'http' && proto !== 'https') throw new BadRequestError('Unsupported forwarded protocol');
  if (!host || !HOST_PATTERN.test(host)) throw new BadRequestError('Missing or malformed Host header');
  return `${proto}://${host.toLowerCase()}`;
}

/**
 * The client's IP address: the socket peer, or with `trustProxy` the address your proxy reports (the
 * last `X-Forwarded-For` entry, or the last `Forwarded: for=`, i.e. the hop the trusted proxy saw).
 */
export function requestClientIp(req: IncomingMessage, options: OriginOptions = {}): string | undefined {
  if (options.trustProxy) {
    const forwarded = req.headers.forwarded;
    if (forwarded) {
      const last = forwarded.split(',').at(-1) ?? '';
      for (const pair of last.split(';')) {
        const [name, value] = pair.split('=', 2).map((part) => part.trim());
        if (name?.toLowerCase() === 'for' && value) return unquote(value).replace(/^\[|\](:\d+)?$/g, '');
      }
    }
    const xff = req.headers['x-forwarded-for'];
    const list = (Array.isArray(xff) ? xff.join(',') : (xff ?? '')).split(',');
    const last = list.at(-1)?.trim();
    if (last) return last;
  }
  return req.socket.remoteAddress ?? undefined;
}

/** Copies Node's raw header list into `Headers`, keeping repeated headers and dropping HTTP/2 pseudo-headers. */
export function toWebHeaders(req: IncomingMessage): Headers {
  const headers = new Headers();
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] as string;
    if (name.startsWith(':')) continue;
    try {
      headers.append(name, raw[i + 1] as string);
    } catch {
      // Node already rejects invalid header bytes; anything Headers still refuses is skipped.
    }
  }
  return headers;
}

/** Whether a Node body stream ended whole (an `IncomingMessage` knows; another stream ended). */
export function bodyComplete(stream: Readable): boolean {
  const message = stream as Readable & { complete?: boolean };
  return message.complete ?? stream.readableEnded;
}

/**
 * A lazy body stream over a Node request (or another Node body stream): nothing is read until the
 * consumer pulls (so a request that is not ours stays unread), and reading past `limit` bytes errors
 * the stream with {@link BodyTooLargeError}.
 */
export function nodeBodyStream(
  req: Readable,
  limit: number,
  onTooLarge?: () => void,
): ReadableStream<Uint8Array> {
  let received = 0;
  let started = false;
  let finished = false;
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (started) {
          req.resume();
          return;
        }
        started = true;
        const stop = (error?: Error) => {
          if (finished) return;
          finished = true;
          req.off('data', onData);
          req.off('end', onEnd);
          req.off('error', onError);
          req.off('close', onClose);
          if (error) controller.error(error);
          else controller.close();
        };
        const onData = (chunk: Buffer) => {
          received += chunk.length;
          if (received > limit) {
            onTooLarge?.();
            req.pause();
            stop(new BodyTooLargeError(limit));
            return;
          }
          controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
          // Backpressure: wait for the next pull before reading more.
          if ((controller.desiredSize ?? 0) <= 0) req.pause();
        };
        const onEnd = () => stop();
        const onError = (error: Error) => stop(error);
        const onClose = () => {
          if (!bodyComplete(req))
            stop(new Error('Client closed the connection before sending the whole body'));
        };
        req.on('data', onData);
        req.on('end', onEnd);
        req.on('error', onError);
        req.on('close', onClose);
        req.resume();
      },
      cancel() {
        finished = true;
        req.resume(); // drain what the client still sends so the connection can be reused
      },
    },
    { highWaterMark: 0 },
  );
}

/** A body stream that fails with {@link BodyTooLargeError} on first read (the declared length is over the limit). */
export function refusedBodyStream(limit: number, onTooLarge?: () => void): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        onTooLarge?.();
        controller.error(new BodyTooLargeError(limit));
      },
    },
    { highWaterMark: 0 },
  );
}

/**
 * Converts a Node `IncomingMessage` into a Web `Request` without buffering the body: the body is a
 * lazily-read stream, limited to `bodyLimit` bytes.
 *
 * @throws BadRequestError when the host or request target is malformed.
 * @throws UnsupportedMethodError for `CONNECT`, `TRACE` and `TRACK`. A body over the limit makes
 *   the body stream fail with {@link BodyTooLargeError} when read.
 * @example
 * ```ts
 * const request = toWebRequest(req, { trustProxy: true });
 * ```
 */
export function toWebRequest(req: IncomingMessage, options: ToWebRequestOptions = {}): Request {
  const limit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const origin = requestOrigin(req, options);
  const path = options.url ?? req.url ?? '/';
  if (!path.startsWith('/')) throw new BadRequestError('Request target must be an absolute path');
  let url: URL;
  try {
    url = new URL(path, origin);
  } catch {
    throw new BadRequestError('Malformed request target');
  }
  const method = (req.method ?? 'GET').toUpperCase();
  if (FORBIDDEN_METHODS.has(method)) throw new UnsupportedMethodError(method);
  const headers = toWebHeaders(req);
  const init: RequestInit & { duplex?: 'half' } = { method, headers };
  if (options.signal) init.signal = options.signal;
  if (method !== 'GET' && method !== 'HEAD') {
    if (options.body !== undefined) {
      headers.delete('transfer-encoding');
      headers.set('content-length', String(options.body.byteLength));
      init.body =
        options.body.byteLength > limit
          ? refusedBodyStream(limit, options.onBodyTooLarge)
          : new Uint8Array(options.body);
      init.duplex = 'half';
    } else {
      const declared = req.headers['content-length'];
      const hasBody =
        declared !== undefined ? Number(declared) > 0 : req.headers['transfer-encoding'] !== undefined;
      if (hasBody) {
        // Refused only when read: a request the handler declines keeps its body for the next route.
        init.body =
          declared !== undefined && Number(declared) > limit
            ? refusedBodyStream(limit, options.onBodyTooLarge)
            : nodeBodyStream(req, limit, options.onBodyTooLarge);
        init.duplex = 'half';
      }
    }
  }
  return new Request(url, init);
}
