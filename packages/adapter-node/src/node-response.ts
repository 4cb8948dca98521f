/**
 * A light Web `Response` for Node. On Node 20, every undici `Response` made from a string creates a
 * `ReadableStream` at once (tens of microseconds each, more than the rest of a small request); a
 * {@link NodeResponse} made from a string, bytes or nothing keeps the value and builds undici's
 * `Response` only if someone asks for its `body` stream, `blob()` or `formData()`. The Node adapter
 * writes such a response in one `end()` call.
 * @module
 */

// The global may already be another copy of this class (source and build loaded side by side).
const ORIGINAL = Symbol.for('portcullis.originalResponse');
const UndiciResponse: typeof Response =
  (globalThis.Response as unknown as Record<symbol, typeof Response | undefined>)[ORIGINAL] ??
  globalThis.Response;

// Fetch standard §2.2.3: statuses whose responses have no body.
const NULL_BODY_STATUS = new Set([101, 103, 204, 205, 304]);

type LightBody = string | Uint8Array | null;

// RFC 9110 §5.1 and §5.5: a lower-case token name and a value without CR, LF, NUL or outer whitespace
// are what undici's Headers would store unchanged; anything else goes through Headers.
const PLAIN_NAME = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;
const PLAIN_VALUE = /^(?:[^\0\r\n\t ](?:[^\0\r\n]*[^\0\r\n\t ])?)?$/;

/** A copy of `init` headers given as a plain object that `Headers` would keep as they are; else `undefined`. */
function plainHeaders(init: HeadersInit | undefined): Record<string, string> | undefined {
  if (init === undefined) return {};
  if (typeof init !== 'object' || init === null || Object.getPrototypeOf(init) !== Object.prototype)
    return undefined;
  const copy: Record<string, string> = {};
  for (const name in init) {
    const value = (init as Record<string, unknown>)[name];
    if (typeof value !== 'string' || !PLAIN_NAME.test(name) || !PLAIN_VALUE.test(value)) return undefined;
    copy[name] = value;
  }
  return copy;
}

const isLight = (body: unknown): body is LightBody | undefined =>
  body === undefined || body === null || typeof body === 'string' || body instanceof Uint8Array;

/**
 * A `Response` (it is `instanceof Response` and has all of its members) whose string, bytes or empty
 * body is kept as a value. Other bodies (streams, `Blob`, `FormData`…) and unusual `init` values give a
 * genuine undici `Response` from the constructor, with the very same errors.
 */
export class NodeResponse {
  readonly #status!: number;
  #headers: Headers | undefined;
  #plain: Record<string, string> | undefined;
  #body!: LightBody;
  #used = false;
  #real: Response | undefined;

  constructor(body?: BodyInit | Uint8Array | null, init?: ResponseInit) {
    const status = init?.status ?? 200;
    if (
      !isLight(body) ||
      (init !== undefined && (typeof init !== 'object' || init === null)) ||
      init?.statusText !== undefined ||
      !Number.isInteger(status) ||
      status < 200 ||
      status > 599 ||
      (body != null && NULL_BODY_STATUS.has(status))
    ) {
      // biome-ignore lint/correctness/noConstructorReturn: unusual responses are undici's own
      return new UndiciResponse(body as BodyInit, init) as unknown as NodeResponse;
    }
    this.#status = status;
    // Headers given as a plain object stay one until someone reads `headers` (the adapter writes them as is).
    const plain = plainHeaders(init?.headers);
    const headers = plain ?? new Headers(init?.headers);
    if (typeof body === 'string') {
      this.#body = body;
      if (plain) plain['content-type'] ??= 'text/plain;charset=UTF-8';
      else if (!(headers as Headers).has('content-type'))
        (headers as Headers).set('content-type', 'text/plain;charset=UTF-8');
    } else this.#body = body ? body.slice() : null;
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
   * The string or bytes a light response still holds (not read, no stream made), or `undefined`
   * (another kind of response, or its body was taken).
   */
  static bufferedBody(response: Response): string | Uint8Array | null | undefined {
    if (!(#body in response)) return undefined;
    const self = response as unknown as NodeResponse;
    return self.#used || self.#real ? undefined : self.#body;
  }

  /** The headers of a light response while they are still the plain object it was given (lower-case names). */
  static plainHeaders(response: Response): Record<string, string> | undefined {
    return #plain in response ? (response as unknown as NodeResponse).#plain : undefined;
  }

  get status(): number {
    return this.#status;
  }
  get statusText(): string {
    return '';
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
  get type(): ResponseType {
    return 'default';
  }
  get url(): string {
    return '';
  }
  get redirected(): boolean {
    return false;
  }
  get body(): ReadableStream<Uint8Array> | null {
    return this.#undici().body;
  }
  get bodyUsed(): boolean {
    return this.#real ? this.#real.bodyUsed : this.#used;
  }

  async text(): Promise<string> {
    if (this.#real) return this.#real.text();
    const body = this.#take();
    return typeof body === 'string' ? body : new TextDecoder().decode(body ?? undefined);
  }

  async json(): Promise<unknown> {
    return JSON.parse(await this.text());
  }

  async bytes(): Promise<Uint8Array> {
    if (this.#real) return new Uint8Array(await this.#real.arrayBuffer());
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
    if (this.#real) {
      const copy = this.#real.clone();
      return new UndiciResponse(copy.body, { status: this.#status, headers: this.headers });
    }
    if (this.#used) throw new TypeError('Response.clone: Body has already been consumed.');
    return new NodeResponse(this.#body, {
      status: this.#status,
      headers: this.#plain ? { ...this.#plain } : new Headers(this.#headers),
    }) as unknown as Response;
  }

  #take(): LightBody {
    if (this.#used) throw new TypeError('Body is unusable: Body has already been read');
    this.#used = true;
    return this.#body;
  }

  /** The undici `Response` for the members that need one (status and headers stay this object's). */
  #undici(): Response {
    if (this.#real) return this.#real;
    const body = this.#used ? new Blob([]).stream() : this.#body;
    this.#real = new UndiciResponse(body as BodyInit | null, {
      status: this.#status,
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
