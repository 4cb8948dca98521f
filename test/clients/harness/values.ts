/**
 * The per-flow values a client makes up: its loopback port, its `state` in the client's own format, Codex's
 * callback id, and the templates of the corpus filled with them.
 */
import { createHash, randomBytes, randomInt, randomUUID } from 'node:crypto';
import type { Authorize } from '../corpus.js';

/** The values one flow of one client uses. */
export interface FlowValues {
  readonly port: number;
  /** A second port, for a client that registers one loopback port and then listens on another. */
  readonly otherPort: number;
  readonly uuid: string;
  readonly callbackId: string;
  /** The scope the client resolved, or `null` when it resolved none. */
  scope: string | null;
}

/** The strings of a JSON array member (metadata lists), or none. */
export const stringList = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];

/** Codex's per-server callback id: base64url of the first 9 bytes of SHA-256 of the MCP URL (openai/codex#20237). */
export function codexCallbackId(mcpUrl: string): string {
  return createHash('sha256').update(new URL(mcpUrl).href).digest().subarray(0, 9).toString('base64url');
}

/** Loopback ports a client would pick (nothing listens there: redirects are read, never followed). */
export function flowValues(mcpUrl: string): FlowValues {
  const port = randomInt(20_000, 40_000);
  return {
    port,
    otherPort: port + randomInt(1, 20_000),
    uuid: randomUUID(),
    callbackId: codexCallbackId(mcpUrl),
    scope: null,
  };
}

/** Fills `{port}`, `{other_port}`, `{uuid}`, `{callback_id}` and `{scope}` in a string. */
export function fill(template: string, values: FlowValues): string {
  return template
    .replaceAll('{port}', String(values.port))
    .replaceAll('{other_port}', String(values.otherPort))
    .replaceAll('{uuid}', values.uuid)
    .replaceAll('{callback_id}', values.callbackId)
    .replaceAll('{scope}', values.scope ?? '');
}

/** Fills templates in a JSON value; a member whose whole value is `{scope}` is dropped when there is no scope. */
export function fillJson(value: unknown, values: FlowValues): unknown {
  if (typeof value === 'string') return fill(value, values);
  if (Array.isArray(value)) return value.map((v) => fillJson(v, values));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, member] of Object.entries(value)) {
      if (member === '{scope}' && values.scope === null) continue;
      out[key] = fillJson(member, values);
    }
    return out;
  }
  return value;
}

const UNRESERVED = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~';

/** Draws `make()` until `wanted` holds, so the echo check covers the characters that need URL-encoding. */
function drawUntil(make: () => string, wanted: (value: string) => boolean): string {
  for (;;) {
    const value = make();
    if (wanted(value)) return value;
  }
}

/** A `state` in the client's format (undefined: the client sends none). */
export function makeState(spec: Authorize['state']): string | undefined {
  const prefix = spec.prefix ?? '';
  switch (spec.format) {
    case 'none':
      return undefined;
    case 'b64-16':
      return (
        prefix +
        drawUntil(
          () => randomBytes(16).toString('base64'),
          (v) => v.includes('+') && v.includes('/'),
        )
      );
    case 'b64url-16':
      return prefix + randomBytes(16).toString('base64url');
    case 'b64url-32':
      return prefix + randomBytes(32).toString('base64url');
    case 'hex-32':
    case 'prefixed-hex':
      return prefix + randomBytes(32).toString('hex');
    case 'uuid':
      return prefix + randomUUID();
    case 'unreserved-32':
      return prefix + Array.from(randomBytes(32), (b) => UNRESERVED[b % UNRESERVED.length]).join('');
    case 'base64-json':
      // n8n: base64 of a JSON CSRF record (token, creation time, credential and user ids). Base64 of
      // ASCII JSON never holds + or /, but it ends in = padding, which must survive the round trip.
      return (
        prefix +
        drawUntil(
          () =>
            Buffer.from(
              JSON.stringify({
                token: randomBytes(27).toString('base64'),
                createdAt: Date.now(),
                cid: randomBytes(12).toString('base64url'),
                userId: randomUUID(),
                origin: 'static-credential',
              }),
            ).toString('base64'),
          (v) => v.endsWith('='),
        )
      );
  }
}
