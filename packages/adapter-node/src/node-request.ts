import type { IncomingMessage, ServerResponse } from 'node:http';
import { isPlainField, PLAIN_HEADERS } from './node-response.js';
import {
  BadRequestError,
  BodyTooLargeError,
  DEFAULT_BODY_LIMIT,
  FORBIDDEN_METHODS,
  nodeBodyStream,
  refusedBodyStream,
  requestClientIp,
  requestOrigin,
  type ToWebRequestOptions,
  toWebHeaders,
  UnsupportedMethodError,
} from './request.js';

/**
 * The bounded body read a request may offer the core instead of its stream (`@portcullis/core`'s
 * `readRequestBytes` looks for it): resolves the bytes, or `null` past `limit` bytes.
 */
export const READ_BOUNDED = Symbol.for('portcullis.readBounded');

/** Options of {@link NodeRequest}: those of `toWebRequest` without `signal` (the request owns its signal). */
export type NodeRequestOptions = Omit<ToWebRequestOptions, 'signal'>;

// A path the WHATWG URL parser leaves exactly as it is: no dot segments (also percent-encoded), no
// characters it would percent-encode or rewrite (backslash, `'` in queries), no scheme-relative `//`.
const VERBATIM_TARGET = /^\/(?!\/)[A-Za-z0-9\-_~!$&()*+,;=:@/%?.]*$/;
const DOT_SEGMENT = /\/\.|%2e/i;

// The serialised origin for each Host value seen (hosts are few; the cache is bounded all the same).
const origins = new Map<string, string>();
function normalisedOrigin(origin: string): string {
  let known = origins.get(origin);
  if (known === undefined) {
    known = new URL(origin).origin;
    if (origins.size < 256) origins.set(origin, known);
  }
  return known;
}

function requestUrl(origin: string, path: string): string {
  if (VERBATIM_TARGET.test(path) && !DOT_SEGMENT.test(path)) {
    try {
      return normalisedOrigin(origin) + path;
    } catch {
      throw new BadRequestError('Malformed request target');
    }
  }
  try {
    return new URL(path, origin).href;
  } catch {
    throw new BadRequestError('Malformed request target');
  }
}

const EMPTY = new Uint8Array(0);

/**
 * A request's head as `Headers` would hold it (lower-case names, repeated fields joined by ", "), or
 * `null` when a field is one `Headers` would normalise or refuse (then `headers` is the way).
 */
function plainRequestHeaders(
  req: IncomingMessage,
  body: Uint8Array | undefined,
): Record<string, string> | null {
  const raw = req.rawHeaders;
  const plain: Record<string, string> = {};
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = (raw[i] as string).toLowerCase();
    if (name.startsWith(':')) continue;
    const value = raw[i + 1] as string;
    if (!isPlainField(name, value)) return null;
    const seen = plain[name];
    plain[name] = seen === undefined ? value : `${seen}, ${value}`;
  }
  if (body !== undefined) {
    // A body the framework already read is sent again whole, with its own length.
    if (plain['transfer-encoding'] !== undefined) delete plain['transfer-encoding'];
    plain['content-length'] = String(body.byteLength);
  }
  return plain;
}

/** The properties of a Web `Request` that only a real `Request` answers (rarely read on a server). */
const DELEGATED = [
  'cache',
  'credentials',
  'destination',
  'integrity',
  'mode',
  'redirect',
  'referrer',
  'referrerPolicy',
  'keepalive',
  'isReloadNavigation',
  'isHistoryNavigation',
  'duplex',
] as const;

/**
 * A Web `Request` over a Node `IncomingMessage` that builds only what a handler reads: method and URL
 * come from what Node parsed, `headers` are copied on first access, the `signal` exists once asked for
 * (and is aborted when the client goes away), and `text()` / `json()` / `arrayBuffer()` / `bytes()`
 * read the socket directly, within the body limit, without a `ReadableStream`. Anything else (`body`,
 * `formData()`, `clone()`, `cache`…) is answered by a real `Request` built on demand. It is
 * `instanceof Request`; pass `request.clone()` where an API insists on undici's own `Request` object
 * (`fetch(request)`).
 */
export class NodeRequest {
  readonly #req: IncomingMessage;
  readonly #options: NodeRequestOptions;
  readonly #method: string;
  readonly #url: string;
  readonly #hasBody: boolean;
  readonly #limit: number;
  #headers: Headers | undefined;
  #controller: AbortController | undefined;
  #gone: Error | undefined;
  #onGone: (() => void)[] | undefined;
  #plain: Readonly<Record<string, string>> | null | undefined;
  #res: ServerResponse | undefined;
  #real: Request | undefined;
  #used = false;
  #overLimit = false;
  #ip: string | undefined | null = null;

  /**
   * @throws BadRequestError when the host or request target is malformed.
   * @throws UnsupportedMethodError for `CONNECT`, `TRACE` and `TRACK`.
   */
  constructor(req: IncomingMessage, options: NodeRequestOptions = {}) {
    const origin = requestOrigin(req, options);
    const path = options.url ?? req.url ?? '/';
    if (!path.startsWith('/')) throw new BadRequestError('Request target must be an absolute path');
    this.#url = requestUrl(origin, path);
    const method = (req.method ?? 'GET').toUpperCase();
    if (FORBIDDEN_METHODS.has(method)) throw new UnsupportedMethodError(method);
    this.#req = req;
    this.#options = options;
    this.#method = method;
    this.#limit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;
    if (method === 'GET' || method === 'HEAD') this.#hasBody = false;
    else if (options.body !== undefined) this.#hasBody = true;
    else {
      const declared = req.headers['content-length'];
      this.#hasBody =
        declared !== undefined ? Number(declared) > 0 : req.headers['transfer-encoding'] !== undefined;
    }
  }

  /** The client's address (see `requestClientIp`) of a request made by the adapter; `undefined` otherwise. */
  static clientIp(request: Request): string | undefined {
    if (!(#req in request)) return undefined;
    const self = request as unknown as NodeRequest;
    if (self.#ip === null) self.#ip = requestClientIp(self.#req, self.#options);
    return self.#ip;
  }

  /** Whether reading the body went over `bodyLimit` (the adapter then answers 413). */
  static overLimit(request: NodeRequest): boolean {
    return request.#overLimit;
  }

  /**
   * Lets the request watch `res` for its client going away, from the moment someone asks (`signal`,
   * {@link whenGone}): most handlers never do, and a `close` listener per request is not free.
   */
  static watch(request: NodeRequest, res: ServerResponse): void {
    request.#res = res;
  }

  /** Starts watching the response, once; a client already gone counts at once. */
  #watch(): void {
    const res = this.#res;
    if (res === undefined || this.#gone) return;
    this.#res = undefined;
    const gone = () => {
      if (!res.writableFinished) NodeRequest.disconnect(this, new Error('Client disconnected'));
    };
    if (res.destroyed || res.socket?.destroyed) gone();
    else res.once('close', gone);
  }

  /** Tells the request its client went away: `signal` aborts (now, or at once when first read). */
  static disconnect(request: NodeRequest, reason: Error): void {
    request.#gone = reason;
    request.#controller?.abort(reason);
    const listeners = request.#onGone;
    request.#onGone = undefined;
    if (listeners) for (const listener of listeners) listener();
  }

  /**
   * Calls `listener` once when the client of `request` goes away (at once if it already has), without
   * making the request's `AbortSignal`; any other `Request` is watched through its `signal`. Returns the
   * function that stops watching.
   */
  static whenGone(request: Request, listener: () => void): () => void {
    if (!(#onGone in request)) {
      const signal = request.signal;
      if (signal.aborted) {
        listener();
        return () => undefined;
      }
      signal.addEventListener('abort', listener, { once: true });
      return () => signal.removeEventListener('abort', listener);
    }
    const self = request as unknown as NodeRequest;
    self.#watch();
    if (self.#gone) {
      listener();
      return () => undefined;
    }
    self.#onGone ??= [];
    const listeners = self.#onGone;
    listeners.push(listener);
    return () => {
      const at = listeners.indexOf(listener);
      if (at >= 0) listeners.splice(at, 1);
    };
  }

  get method(): string {
    return this.#method;
  }

  get url(): string {
    return this.#url;
  }

  get headers(): Headers {
    if (this.#real) return this.#real.headers;
    if (this.#headers === undefined) {
      this.#headers = toWebHeaders(this.#req);
      if (this.#options.body !== undefined) {
        this.#headers.delete('transfer-encoding');
        this.#headers.set('content-length', String(this.#options.body.byteLength));
      }
    }
    return this.#headers;
  }

  /**
   * The headers as a plain object (see `@portcullis/core`'s `headerFields`) while `headers` was never
   * made (a handler may have changed those); `undefined` then, or when a field is one `Headers` would
   * normalise or refuse.
   */
  get [PLAIN_HEADERS](): Readonly<Record<string, string>> | undefined {
    if (this.#headers !== undefined || this.#real) return undefined;
    if (this.#plain === undefined) this.#plain = plainRequestHeaders(this.#req, this.#options.body);
    return this.#plain ?? undefined;
  }

  get signal(): AbortSignal {
    if (this.#real) return this.#real.signal;
    return this.#ownSignal();
  }

  get body(): ReadableStream<Uint8Array> | null {
    return this.#materialise().body;
  }

  get bodyUsed(): boolean {
    return this.#real ? this.#real.bodyUsed : this.#used;
  }

  async text(): Promise<string> {
    if (this.#real) return this.#real.text();
    return new TextDecoder().decode((await this.#read(Number.POSITIVE_INFINITY)) ?? EMPTY);
  }

  async json(): Promise<unknown> {
    if (this.#real) return this.#real.json();
    return JSON.parse(await this.text());
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    if (this.#real) return this.#real.arrayBuffer();
    const bytes = (await this.#read(Number.POSITIVE_INFINITY)) ?? EMPTY;
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  }

  async bytes(): Promise<Uint8Array> {
    if (this.#real) return new Uint8Array(await this.#real.arrayBuffer());
    return new Uint8Array((await this.#read(Number.POSITIVE_INFINITY)) ?? EMPTY);
  }

  blob(): Promise<Blob> {
    return this.#materialise().blob();
  }

  formData(): Promise<FormData> {
    return this.#materialise().formData();
  }

  clone(): Request {
    return this.#materialise().clone();
  }

  /**
   * At most `limit` bytes of the body, or `null` when it is larger (the rest is drained); `undefined`
   * once a real `Request` was built (then its `body` stream is the one to read).
   */
  [READ_BOUNDED](limit: number): Promise<Uint8Array | null> | undefined {
    return this.#real ? undefined : this.#read(limit);
  }

  static {
    for (const name of DELEGATED) {
      Object.defineProperty(NodeRequest.prototype, name, {
        get(this: NodeRequest) {
          return (this.#materialise() as unknown as Record<string, unknown>)[name];
        },
        configurable: true,
      });
    }
  }

  #ownSignal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#watch();
      this.#controller = new AbortController();
      if (this.#gone) this.#controller.abort(this.#gone);
    }
    return this.#controller.signal;
  }

  #materialise(): Request {
    if (this.#real) return this.#real;
    const init: RequestInit & { duplex?: 'half' } = {
      method: this.#method,
      headers: this.headers,
      signal: this.#ownSignal(),
    };
    if (this.#hasBody) {
      init.body = this.#used ? new Blob([]).stream() : this.#bodyStream();
      init.duplex = 'half';
    }
    const real = new Request(this.#url, init);
    // A body already read here stays used on the real request too.
    if (this.#used && real.body) void real.arrayBuffer().catch(() => undefined);
    this.#real = real;
    return real;
  }

  #bodyStream(): ReadableStream<Uint8Array> {
    const body = this.#options.body;
    const limit = this.#limit;
    const onBodyTooLarge = () => this.#tooLarge();
    if (body !== undefined) {
      return body.byteLength > limit
        ? refusedBodyStream(limit, onBodyTooLarge)
        : new Blob([new Uint8Array(body)]).stream();
    }
    const declared = this.#req.headers['content-length'];
    return declared !== undefined && Number(declared) > limit
      ? refusedBodyStream(limit, onBodyTooLarge)
      : nodeBodyStream(this.#req, limit, onBodyTooLarge);
  }

  #tooLarge(): void {
    this.#overLimit = true;
    this.#options.onBodyTooLarge?.();
  }

  /** Reads the whole body from the socket (over `bodyLimit`: {@link BodyTooLargeError}; over `limit`: `null`). */
  #read(limit: number): Promise<Uint8Array | null> {
    // Fetch standard: a null body is never "used"; it reads as empty every time.
    if (!this.#hasBody) return Promise.resolve(EMPTY);
    if (this.#used) return Promise.reject(new TypeError('Body is unusable: Body has already been read'));
    this.#used = true;
    const req = this.#req;
    const ceiling = this.#limit;
    const tooLarge = () => {
      this.#tooLarge();
      return new BodyTooLargeError(ceiling);
    };
    const given = this.#options.body;
    if (given !== undefined) {
      if (given.byteLength > ceiling) return Promise.reject(tooLarge());
      return Promise.resolve(given.byteLength > limit ? null : new Uint8Array(given));
    }
    const declared = Number(req.headers['content-length'] ?? Number.NaN);
    if (declared > ceiling) return Promise.reject(tooLarge());
    if (declared > limit) {
      req.resume(); // drain what the client still sends so the connection can be reused
      return Promise.resolve(null);
    }
    if (req.readableEnded) return Promise.resolve(EMPTY);
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let received = 0;
      const stop = () => {
        req.off('data', onData);
        req.off('end', onEnd);
        req.off('error', onError);
        req.off('close', onClose);
      };
      const onData = (chunk: Buffer) => {
        received += chunk.length;
        if (received > ceiling) {
          stop();
          req.pause();
          reject(tooLarge());
        } else if (received > limit) {
          stop();
          req.resume();
          resolve(null);
        } else chunks.push(chunk);
      };
      const onEnd = () => {
        req.off('close', onClose);
        const all = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, received);
        resolve(new Uint8Array(all.buffer, all.byteOffset, all.byteLength));
      };
      const onError = (error: Error) => {
        stop();
        reject(error);
      };
      const onClose = () => {
        if (req.complete) return;
        stop();
        reject(new Error('Client closed the connection before sending the whole body'));
      };
      req.on('data', onData);
      req.on('end', onEnd);
      req.on('error', onError);
      req.on('close', onClose);
      req.resume();
    });
  }
}

// Seen as a Web Request by `instanceof` and by the code written for one.
Object.setPrototypeOf(NodeRequest.prototype, Request.prototype);
