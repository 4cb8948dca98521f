import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { NodeResponse } from './node-response.js';
import { bodyComplete } from './request.js';

// Hop-by-hop headers (RFC 9110 §7.6.1) are Node's business, never copied from a Web Response.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection']);

/** Options for {@link sendWebResponse}. */
export interface SendResponseOptions {
  /** The request method; a `HEAD` response gets headers only. */
  readonly method?: string;
}

function waitForDrain(res: ServerResponse): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (drained: boolean) => {
      res.off('drain', onDrain);
      res.off('close', onClose);
      resolve(drained);
    };
    const onDrain = () => done(true);
    const onClose = () => done(false);
    res.on('drain', onDrain);
    res.on('close', onClose);
  });
}

/** The head of a response as one object for `writeHead` (every `Set-Cookie` kept separate, no hop-by-hop field). */
function responseHead(response: Response): Record<string, string | string[]> {
  const plain: Record<string, string | string[]> | undefined = NodeResponse.plainHeaders(response);
  if (plain) {
    // (`delete` only where present: it would turn the object into a slow dictionary for nothing)
    for (const name of HOP_BY_HOP) if (plain[name] !== undefined) delete plain[name];
    return plain;
  }
  const built: Record<string, string | string[]> = {};
  response.headers.forEach((value, name) => {
    if (name !== 'set-cookie' && !HOP_BY_HOP.has(name)) built[name] = value;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) built['set-cookie'] = cookies;
  return built;
}

/** Status, headers and a known body in one `writeHead` + `end`: no stream, no per-header `setHeader`. */
function sendBuffered(res: ServerResponse, response: Response, body: string | Uint8Array | null): void {
  const head = responseHead(response);
  if (body !== null)
    head['content-length'] = String(typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength);
  res.writeHead(response.status, head);
  res.end(body ?? undefined);
}

/**
 * Pipes a Node body (an upstream response) to the client: chunks go out as they arrive, with
 * backpressure; a client that goes away destroys the upstream stream, an upstream that fails
 * mid-body cuts the client connection (a truncated response, not a clean end).
 */
function pipeNodeBody(res: ServerResponse, node: Readable, live: boolean): Promise<void> {
  if (live) res.flushHeaders();
  return new Promise((resolve) => {
    const onClose = () => {
      if (!res.writableFinished) node.destroy();
      resolve();
    };
    res.once('finish', resolve);
    const onAborted = () => {
      if (!bodyComplete(node)) res.destroy();
    };
    res.once('close', onClose);
    node.once('error', onAborted);
    node.once('close', onAborted);
    node.pipe(res);
  });
}

/** Copies status and headers (every `Set-Cookie` kept separate) from a Web `Response` onto a `ServerResponse`. */
export function writeResponseHead(res: ServerResponse, response: Response): void {
  for (const [name, value] of Object.entries(responseHead(response))) res.setHeader(name, value);
  res.statusCode = response.status;
  if (response.statusText) res.statusMessage = response.statusText;
}

/**
 * Streams a Web `Response` to a Node `ServerResponse`. A {@link NodeResponse} built from a string or
 * bytes is written at once with `Content-Length` (no stream is made). Event streams get their headers flushed at once
 * and every chunk written as it arrives (no buffering, so SSE and MCP streams reach the client live);
 * a body that ends after its first chunk goes out in one write with `Content-Length`. Backpressure is
 * respected, and when the client disconnects the body stream is cancelled.
 *
 * @example
 * ```ts
 * await sendWebResponse(res, new Response('hello'));
 * ```
 */
export async function sendWebResponse(
  res: ServerResponse,
  response: Response,
  options: SendResponseOptions = {},
): Promise<void> {
  const noBody = options.method === 'HEAD' || response.status === 204 || response.status === 304;
  const buffered = NodeResponse.bufferedBody(response);
  if (buffered !== undefined) return sendBuffered(res, response, noBody ? null : buffered);
  const node = noBody ? undefined : NodeResponse.takeNodeBody(response);
  if (node) {
    const head = responseHead(response);
    const type = head['content-type'];
    res.writeHead(response.status, response.statusText || undefined, head);
    return pipeNodeBody(res, node, typeof type === 'string' && type.startsWith('text/event-stream'));
  }
  writeResponseHead(res, response);
  const live = (response.headers.get('content-type') ?? '').startsWith('text/event-stream');
  const body = response.body;
  if (!body || noBody) {
    res.end();
    if (body) await body.cancel().catch(() => undefined);
    return;
  }
  // Event streams go out at once; other bodies that end after one chunk are sent with a length in one write.
  if (live) res.flushHeaders();
  const reader = body.getReader();
  const onClose = () => {
    if (!res.writableFinished) reader.cancel().catch(() => undefined);
  };
  res.on('close', onClose);
  try {
    let pending: Uint8Array | undefined;
    if (!live) {
      const first = await reader.read();
      if (first.done) return void res.end();
      const second = await reader.read();
      if (second.done) {
        if (!res.hasHeader('content-length')) res.setHeader('content-length', first.value.byteLength);
        return void res.end(first.value);
      }
      res.write(first.value);
      pending = second.value;
    }
    for (;;) {
      let value = pending;
      pending = undefined;
      if (value === undefined) {
        const next = await reader.read();
        if (next.done) break;
        value = next.value;
      }
      if (res.destroyed) return;
      if (!res.write(value)) {
        if (!(await waitForDrain(res))) return;
      }
    }
    res.end();
  } catch {
    // The body failed mid-stream: cut the connection so the client sees a truncated response, not a clean end.
    res.destroy();
  } finally {
    res.off('close', onClose);
    reader.releaseLock();
  }
}
