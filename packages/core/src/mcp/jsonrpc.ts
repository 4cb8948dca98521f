/** JSON-RPC body handling shared by the MCP wrapper and proxy: bounded reads and scope step-up. */

import { readRequestBytes } from '../http/body.js';
import { headerOf } from '../http/header-fields.js';

/** Per-route and per-call scope requirements (step-up authorization). */
export interface ScopeRequirements {
  /** Scopes every request to the route needs. */
  readonly route?: readonly string[];
  /** Scopes a JSON-RPC method needs, e.g. `{ 'resources/read': ['files:read'] }`. */
  readonly methods?: Readonly<Record<string, readonly string[]>>;
  /** Scopes a tool needs when called with `tools/call`, e.g. `{ delete_repo: ['admin'] }`. */
  readonly tools?: Readonly<Record<string, readonly string[]>>;
}

/** The outcome of reading a JSON-RPC POST body. */
export type ParsedBody =
  | { readonly ok: true; readonly text: string; readonly json: unknown }
  | { readonly ok: false; readonly status: number; readonly code: number; readonly message: string };

/** Default bound on a POST body, in bytes (4 MiB, like the SDK's transport). */
export const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;

/** Reads at most `maxBytes` of a request body as UTF-8 text; `null` when it is larger. */
async function readBounded(request: Request, maxBytes: number): Promise<string | null> {
  const declared = Number(headerOf(request, 'content-length') ?? '0');
  if (declared > maxBytes) return null;
  const bytes = await readRequestBytes(request, maxBytes);
  return bytes === null ? null : new TextDecoder().decode(bytes);
}

/** Keys of an object that equal `name` ignoring case (guards against parser-differential smuggling). */
function caseInsensitiveKeys(value: object, name: string): number {
  return Object.keys(value).filter((k) => k.toLowerCase() === name).length;
}

/** Reads and parses a JSON-RPC POST body, refusing oversized, unparsable and ambiguous bodies. */
export async function readJsonRpcBody(
  request: Request,
  maxBytes = DEFAULT_MAX_BODY_BYTES,
): Promise<ParsedBody> {
  const text = await readBounded(request, maxBytes);
  if (text === null)
    return { ok: false, status: 413, code: -32600, message: 'The request body is too large.' };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // JSON-RPC 2.0 §5.1: -32700 parse error.
    return { ok: false, status: 400, code: -32700, message: 'Parse error: the body is not valid JSON.' };
  }
  for (const message of Array.isArray(json) ? json : [json]) {
    if (typeof message !== 'object' || message === null) continue;
    const params = (message as { params?: unknown }).params;
    if (
      caseInsensitiveKeys(message, 'method') > 1 ||
      (typeof params === 'object' && params !== null && caseInsensitiveKeys(params, 'name') > 1)
    ) {
      return { ok: false, status: 400, code: -32600, message: 'Invalid request: ambiguous duplicate keys.' };
    }
  }
  return { ok: true, text, json };
}

/** The scopes a parsed JSON-RPC message (or batch) needs under `requirements`, route scopes included. */
export function requiredScopesFor(json: unknown, requirements: ScopeRequirements): string[] {
  const needed = new Set(requirements.route ?? []);
  for (const message of Array.isArray(json) ? json : [json]) {
    if (typeof message !== 'object' || message === null) continue;
    const { method, params } = message as { method?: unknown; params?: unknown };
    if (typeof method !== 'string') continue;
    for (const scope of requirements.methods?.[method] ?? []) needed.add(scope);
    if (method === 'tools/call' && typeof params === 'object' && params !== null) {
      const tool = (params as { name?: unknown }).name;
      if (typeof tool === 'string' && Object.hasOwn(requirements.tools ?? {}, tool)) {
        for (const scope of requirements.tools?.[tool] ?? []) needed.add(scope);
      }
    }
  }
  return [...needed];
}

/** The `id` of a single JSON-RPC request, for error bodies; `null` otherwise. */
export function jsonRpcId(json: unknown): string | number | null {
  if (typeof json === 'object' && json !== null && !Array.isArray(json)) {
    const id = (json as { id?: unknown }).id;
    if (typeof id === 'string' || typeof id === 'number') return id;
  }
  return null;
}

/** A JSON-RPC error response body with an HTTP status. */
export function jsonRpcError(
  status: number,
  code: number,
  message: string,
  id: string | number | null = null,
): Response {
  return new Response(JSON.stringify({ jsonrpc: '2.0', id, error: { code, message } }), {
    status,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
  });
}
