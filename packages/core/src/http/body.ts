import { OAuthError } from '../errors.js';
import { isJsonObject } from '../validation/schema.js';
import { headerOf } from './header-fields.js';

/** Largest request body the endpoints read (registration metadata, token and form posts). */
export const MAX_BODY_BYTES = 64 * 1024;

/**
 * Reads a byte stream to the end, or stops and cancels it as soon as it exceeds `limit` bytes
 * (returning `null`), so an oversized body is never buffered whole.
 */
export async function readStreamBytes(
  stream: ReadableStream<Uint8Array> | null,
  limit: number,
): Promise<Uint8Array | null> {
  if (!stream) return new Uint8Array(0);
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      return null;
    }
    chunks.push(value);
  }
  const all = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    all.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return all;
}

/**
 * A request that reads its own body within a limit, without a stream (adapter-node's request does):
 * `null` past the limit, `undefined` when the `body` stream must be read instead.
 */
const READ_BOUNDED = Symbol.for('portcullis.readBounded');
type BoundedReader = (limit: number) => Promise<Uint8Array | null> | undefined;

/** The body of a request, at most `limit` bytes (`null` when it is larger). */
export function readRequestBytes(request: Request, limit: number): Promise<Uint8Array | null> {
  const own = (request as Request & { [READ_BOUNDED]?: BoundedReader })[READ_BOUNDED];
  return own?.call(request, limit) ?? readStreamBytes(request.body, limit);
}

/** Reads a body up to `limit` bytes, refusing larger ones with 413 before buffering them. */
export async function readBody(request: Request, limit = MAX_BODY_BYTES): Promise<string> {
  const declared = Number(headerOf(request, 'content-length') ?? '0');
  if (declared > limit) throw tooLarge(limit);
  const bytes = await readRequestBytes(request, limit);
  if (bytes === null) throw tooLarge(limit);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new OAuthError('invalid_request', 'The request body is not valid UTF-8');
  }
}

const tooLarge = (limit: number) =>
  new OAuthError('invalid_request', `The request body exceeds ${limit} bytes`, 413);

const mediaType = (request: Request) =>
  (headerOf(request, 'content-type') ?? '').split(';')[0]!.trim().toLowerCase();

/**
 * Parses an `application/x-www-form-urlencoded` body (RFC 6749 §3.2). Parameters sent more than once
 * are refused (RFC 6749 §3.1), as are bodies of other media types.
 */
export async function readForm(request: Request): Promise<Map<string, string>> {
  if (mediaType(request) !== 'application/x-www-form-urlencoded') {
    throw new OAuthError('invalid_request', 'The body must be application/x-www-form-urlencoded');
  }
  return uniqueParams(new URLSearchParams(await readBody(request)));
}

/** Parameters as a map, refusing repeated ones (RFC 6749 §3.1: "MUST NOT be included more than once"). */
export function uniqueParams(params: URLSearchParams): Map<string, string> {
  const map = new Map<string, string>();
  for (const [name, value] of params) {
    if (map.has(name)) throw new OAuthError('invalid_request', `The parameter "${name}" is repeated`);
    map.set(name, value);
  }
  return map;
}

/** Parses a JSON object body (RFC 7591 §3.1). */
export async function readJsonObject(request: Request): Promise<Record<string, unknown>> {
  if (mediaType(request) !== 'application/json') {
    throw new OAuthError('invalid_client_metadata', 'The body must be application/json');
  }
  let value: unknown;
  try {
    value = JSON.parse(await readBody(request));
  } catch (error) {
    if (error instanceof OAuthError) throw error;
    throw new OAuthError('invalid_client_metadata', 'The body is not valid JSON');
  }
  if (!isJsonObject(value)) throw new OAuthError('invalid_client_metadata', 'The body must be a JSON object');
  return value;
}
