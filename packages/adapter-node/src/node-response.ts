/**
 * A light Web `Response` for Node. On Node 20, every undici `Response` made from a string creates a
 * `ReadableStream` at once (tens of microseconds each, more than the rest of a small request); a
 * {@link NodeResponse} made from a string, bytes or nothing keeps the value and builds undici's
 * `Response` only if someone asks for its `body` stream, `blob()` or `formData()`. The Node adapter
 * writes such a response in one `end()` call.
 * @module
 */

import type { Readable } from 'node:stream';
import { nodeBodyStream } from './request.js';

/** The method `@portcullis/core`'s proxy looks for to re-head a response without a stream (see there). */
const WITH_HEADERS = Symbol.for('portcullis.withHeaders');
/** The getter `@portcullis/core` looks for to read headers still held as a plain object (requests and responses). */
export const PLAIN_HEADERS = Symbol.for('portcullis.plainHeaders');

/** What `new Response()` takes as a body (named here: Node's types have no global `BodyInit`). */
type ResponseBody = ConstructorParameters<typeof Response>[0];

// The global may already be another copy of this class (source and build loaded side by side).
const ORIGINAL = Symbol.for('portcullis.originalResponse');
const UndiciResponse: typeof Response =
  (globalThis.Response as unknown as Record<symbol, typeof Response | undefined>)[ORIGINAL] ??
  globalThis.Response;

// Fetch standard §2.2.3: statuses whose responses have no body.
export const NULL_BODY_STATUS: ReadonlySet<number> = new Set([101, 103, 204, 205, 304]);

type LightBody = string | Uint8Array | null;

// RFC 9110 §5.1 and §5.5: a lower-case token name and a value without CR, LF, NUL or outer whitespace
// are what undici's Headers would store unchanged; anything else goes through Headers.
const PLAIN_NAME = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;
const PLAIN_VALUE = /^(?:[^\0\r\n\t ](?:[^\0\r\n]*[^\0\r\n\t ])?)?$/;

/** Whether `Headers` would keep this field exactly as it is (a lower-case token name, a plain value). */
export const isPlainField = (name: string, value: string): boolean =>
  PLAIN_NAME.test(name) && PLAIN_VALUE.test(value);

/** A copy of `init` headers given as a plain object that `Headers` would keep as they are; else `undefined`. */
function plainHeaders(init: HeadersInit | undefined): Record<string, string> | undefined {
  if (init === undefined) return {};
  if (typeof init !== 'object' || init === null || Object.getPrototypeOf(init) !== Object.prototype)
    return undefined;
  const copy: Record<string, string> = {};
  for (const name in init) {
    const value = (init as Record<string, unknown>)[name];
    if (typeof value !== 'string' || !isPlainField(name, value)) return undefined;
    copy[name] = value;
  }
  return copy;
}

const isLight = (body: unknown): body is LightBody | undefined =>
  body === undefined || body === null || typeof body === 'string' || body instanceof Uint8Array;

/** A body that is a Node stream (an upstream response), piped by the adapter without a Web stream. */
interface NodeBody {
  readonly node: Readable;
  stream?: ReadableStream<Uint8Array>;
}

// The Web streams handed out for Node bodies, so `new Response(upstream.body, init)` keeps the Node stream.
const nodeSources = new WeakMap<ReadableStream, NodeBody>();

// Set while {@link NodeResponse.ofBytes} builds a response: the bytes are its own, not copied.
let adopting = false;

// RFC 9110 §15: a reason phrase is visible characters, spaces and tabs.
const REASON_PHRASE = /^[\t\x20-\x7E\x80-\xFF]*$/;

/**
 * A `Response` (it is `instanceof Response` and has all of its members) whose string, bytes or empty
 * body is kept as a value. Other bodies (streams, `Blob`, `FormData`…) and unusual `init` values give a
 * genuine undici `Response` from the constructor, with the very same errors.
 */
export class NodeResponse {
  readonly #status!: number;
  #headers: Headers | undefined;
  #plain: Record<string, string> | undefined;
  readonly #statusText!: string;
  #body!: LightBody | NodeBody;
  #used = false;
  #real: Response | undefined;

  constructor(body?: ResponseBody | Uint8Array, init?: ResponseInit) {
    const status = init?.status ?? 200;
    const statusText = init?.statusText ?? '';
    const node = body instanceof ReadableStream && !body.locked ? nodeSources.get(body) : undefined;
    if (
      (node === undefined && !isLight(body)) ||
      (init !== undefined && (typeof init !== 'object' || init === null)) ||
      typeof statusText !== 'string' ||
      !REASON_PHRASE.test(statusText) ||
      !Number.isInteger(status) ||
      status < 200 ||
      status > 599 ||
      (body != null && NULL_BODY_STATUS.has(status))
    ) {
      // biome-ignore lint/correctness/noConstructorReturn: unusual responses are undici's own
      return new UndiciResponse(body as ResponseBody, init) as unknown as NodeResponse;
    }
    this.#status = status;
    this.#statusText = statusText;
    // Headers given as a plain object stay one until someone reads `headers` (the adapter writes them as is).
    const plain = plainHeaders(init?.headers);
    const headers = plain ?? new Headers(init?.headers);
    if (typeof body === 'string') {
      this.#body = body;
      if (plain) plain['content-type'] ??= 'text/plain;charset=UTF-8';
      else if (!(headers as Headers).has('content-type'))
        (headers as Headers).set('content-type', 'text/plain;charset=UTF-8');
    } else if (node) this.#body = node;
    else this.#body = body ? (adopting ? (body as Uint8Array) : (body as Uint8Array).slice()) : null;
    if (plain) this.#plain = plain;
    else this.#headers = headers as Headers;
  }

  /** `Response.json()`: the JSON text of `data` with `Content-Type: application/json`. */
  static json(data: unknown, init?: ResponseInit): Response {
    const body = JSON.stringify(data);
    if (typeof body !== 'string') throw new TypeError('Value is not JSON serializable');
    const plain = plainHeaders(init?.headers);
    let headers: HeadersInit;
    if (plain) headers = { 'content-type': 'application/json', ...plain };
    else {
      headers = new Headers(init?.headers);
      if (!headers.has('content-type')) headers.set('content-type', 'application/json');
    }
    return new NodeResponse(body, { ...init, headers }) as unknown as Response;
  }

  static redirect(url: string | URL, status?: number): Response {
    return UndiciResponse.redirect(url, status);
  }

  static error(): Response {
    return UndiciResponse.error();
  }

  static [Symbol.hasInstance](value: unknown): boolean {
    return value instanceof UndiciResponse;
  }

  /**
   * A response whose body is a Node stream (an upstream `IncomingMessage`), streamed by the adapter
   * without a Web stream; the stream is only made if someone reads `body`.
   */
  static fromNode(node: Readable, init: ResponseInit): Response {
    const response = new NodeResponse(null, init);
    if (!(#body in response)) return new UndiciResponse(nodeBodyStream(node, Number.POSITIVE_INFINITY), init);
    response.#body = { node };
    return response as unknown as Response;
  }

  /** A response that takes `bytes` as its body without copying them (nobody else may still write them). */
  static ofBytes(bytes: Uint8Array, init: ResponseInit): Response {
    adopting = true;
    try {
      return new NodeResponse(bytes, init) as unknown as Response;
    } finally {
      adopting = false;
    }
  }

  /**
   * The same body under a new status and headers, without making a stream of it (what
   * `new Response(response.body, init)` does): this response's body is taken, as reading it would.
   */
  [WITH_HEADERS](init: ResponseInit): Response {
    const body = this.#body;
    if (this.#used || this.#real) return new NodeResponse(this.body, init) as unknown as Response;
    if (body === null) return new NodeResponse(null, init) as unknown as Response;
    this.#used = true;
    if (typeof body === 'string') return NodeResponse.ofBytes(new TextEncoder().encode(body), init);
    if (body instanceof Uint8Array) return NodeResponse.ofBytes(body, init);
    // A Web stream already handed out keeps the body: the new response is made from it.
    if (body.stream) return new NodeResponse(body.stream, init) as unknown as Response;
    return NodeResponse.fromNode(body.node, init);
  }

  /**
   * The string or bytes a light response still holds (not read, no stream made), or `undefined`
   * (another kind of response, or its body was taken).
   */
  static bufferedBody(response: Response): string | Uint8Array | null | undefined {
    if (!(#body in response)) return undefined;
    const self = response as unknown as NodeResponse;
    if (self.#used || self.#real) return undefined;
    const body = self.#body;
    return body === null || typeof body === 'string' || body instanceof Uint8Array ? body : undefined;
  }

  /** Takes the Node stream body of a light response (its Web stream, if made, was never read); else `undefined`. */
  static takeNodeBody(response: Response): Readable | undefined {
    if (!(#body in response)) return undefined;
    const self = response as unknown as NodeResponse;
    const body = self.#body;
    if (self.#used || self.#real || body === null || typeof body === 'string' || body instanceof Uint8Array)
      return undefined;
    if (body.stream?.locked) return undefined;
    self.#used = true;
    return body.node;
  }

  /** The headers of a light response while they are still the plain object it was given (lower-case names). */
  static plainHeaders(response: Response): Record<string, string> | undefined {
    return #plain in response ? (response as unknown as NodeResponse).#plain : undefined;
  }

  /** The headers while they are still a plain object (lower-case names), for reading only; else `undefined`. */
  get [PLAIN_HEADERS](): Readonly<Record<string, string>> | undefined {
    return this.#plain;
  }

  get status(): number {
    return this.#status;
  }
  get statusText(): string {
    return this.#statusText;
  }
  get ok(): boolean {
    return this.#status >= 200 && this.#status <= 299;
  }
  get headers(): Headers {
    if (this.#headers === undefined) {
      this.#headers = new Headers(this.#plain);
      this.#plain = undefined;
    }
    return this.#headers;
  }
  get type(): Response['type'] {
    return 'default';
  }
  get url(): string {
    return '';
  }
  get redirected(): boolean {
    return false;
  }
  get body(): ReadableStream<Uint8Array> | null {
    const body = this.#body;
    if (!this.#real && body !== null && typeof body === 'object' && 'node' in body) {
      if (body.stream === undefined) {
        body.stream = nodeBodyStream(body.node, Number.POSITIVE_INFINITY);
        nodeSources.set(body.stream, body);
      }
      return body.stream;
    }
    return this.#undici().body;
  }
  get bodyUsed(): boolean {
    return this.#real ? this.#real.bodyUsed : this.#used;
  }

  async text(): Promise<string> {
    if (this.#real || this.#isNode()) return this.#undici().text();
    const body = this.#take();
    return typeof body === 'string' ? body : new TextDecoder().decode(body ?? undefined);
  }

  async json(): Promise<unknown> {
    return JSON.parse(await this.text());
  }

  async bytes(): Promise<Uint8Array> {
    if (this.#real || this.#isNode()) return new Uint8Array(await this.#undici().arrayBuffer());
    const body = this.#take();
    return typeof body === 'string' ? new TextEncoder().encode(body) : (body ?? new Uint8Array(0));
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    const bytes = await this.bytes();
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  }

  blob(): Promise<Blob> {
    return this.#undici().blob();
  }

  formData(): Promise<FormData> {
    return this.#undici().formData();
  }

  clone(): Response {
    if (this.#real || this.#isNode()) {
      this.#undici();
      const copy = (this.#real as Response).clone();
      return new UndiciResponse(copy.body, {
        status: this.#status,
        statusText: this.#statusText,
        headers: this.headers,
      });
    }
    if (this.#used) throw new TypeError('Response.clone: Body has already been consumed.');
    return new NodeResponse(this.#body as LightBody, {
      status: this.#status,
      ...(this.#statusText ? { statusText: this.#statusText } : {}),
      headers: this.#plain ? { ...this.#plain } : new Headers(this.#headers),
    }) as unknown as Response;
  }

  #isNode(): boolean {
    return this.#body !== null && typeof this.#body === 'object' && 'node' in this.#body;
  }

  #take(): LightBody {
    // Fetch standard: a null body is never "used"; it reads as empty every time.
    if (this.#body === null) return null;
    if (this.#used) throw new TypeError('Body is unusable: Body has already been read');
    this.#used = true;
    return this.#body as LightBody;
  }

  /** The undici `Response` for the members that need one (status and headers stay this object's). */
  #undici(): Response {
    if (this.#real) return this.#real;
    const body = this.#used ? new Blob([]).stream() : this.#isNode() ? this.body : this.#body;
    this.#real = new UndiciResponse(body as ResponseBody, {
      status: this.#status,
      statusText: this.#statusText,
      headers: this.headers,
    });
    if (this.#used && this.#real.body) void this.#real.arrayBuffer().catch(() => undefined);
    return this.#real;
  }
}
Object.setPrototypeOf(NodeResponse.prototype, UndiciResponse.prototype);

/**
 * Makes `globalThis.Response` the light {@link NodeResponse} (idempotent), so responses that handlers
 * and the core build from strings skip undici's stream. The Node adapters call it; `instanceof Response`,
 * `Response.json()` and every member keep working, and other bodies still get undici's `Response`.
 */
export function useNodeResponse(): void {
  if (globalThis.Response === (NodeResponse as unknown as typeof Response)) return;
  if (!Object.hasOwn(NodeResponse, ORIGINAL))
    Object.defineProperty(NodeResponse, ORIGINAL, { value: UndiciResponse });
  globalThis.Response = NodeResponse as unknown as typeof Response;
}
