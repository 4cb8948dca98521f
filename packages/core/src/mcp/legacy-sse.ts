/**
 * Legacy HTTP+SSE transport (MCP 2024-11-05) support for the proxy, opt-in with {@link legacySse}: the
 * upstream's `endpoint` event names where to POST messages; the proxy rewrites it to a signed URL on its
 * own route, bound to the caller, and maps signed POSTs back to the upstream endpoint.
 */

import { base64url, fromBase64url } from '../crypto/encoding.js';

const encoder = new TextEncoder();
const ENDPOINT_PARAM = 'portcullis_endpoint';
const SIGNATURE_PARAM = 'portcullis_sig';

/** Decodes a base64url query value, or `null` when it is not canonical base64url. */
function decodeParam(value: string): Uint8Array<ArrayBuffer> | null {
  try {
    return fromBase64url(value);
  } catch {
    return null;
  }
}

/** Signs and verifies legacy message endpoints with HMAC-SHA-256. */
export class EndpointSigner {
  readonly #key: Promise<CryptoKey>;

  /** `secret`: share one across instances; omitted, a random per-process key is used. */
  constructor(secret?: string) {
    this.#key = secret
      ? crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, [
          'sign',
          'verify',
        ])
      : crypto.subtle.generateKey({ name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
  }

  async #mac(owner: string, target: string): Promise<Uint8Array> {
    const data = encoder.encode(JSON.stringify([owner, target]));
    return new Uint8Array(await crypto.subtle.sign('HMAC', await this.#key, data));
  }

  /** The query (without `?`) naming `target` (upstream path + query) for `owner`. */
  async sign(owner: string, target: string): Promise<string> {
    const mac = await this.#mac(owner, target);
    const params = new URLSearchParams({
      [ENDPOINT_PARAM]: base64url(encoder.encode(target)),
      [SIGNATURE_PARAM]: base64url(mac),
    });
    return params.toString();
  }

  /** Whether a URL carries (part of) a signed endpoint, so {@link verify} must decide on it. */
  static names(url: URL): boolean {
    return (
      url.search !== '' && (url.searchParams.has(ENDPOINT_PARAM) || url.searchParams.has(SIGNATURE_PARAM))
    );
  }

  /**
   * The upstream path + query a signed URL names, or `false` when it names none or the signature does
   * not verify for `owner`.
   */
  async verify(url: URL, owner: string): Promise<string | false> {
    const encoded = url.searchParams.get(ENDPOINT_PARAM);
    const signature = url.searchParams.get(SIGNATURE_PARAM);
    if (encoded === null || signature === null) return false;
    const targetBytes = decodeParam(encoded);
    const mac = decodeParam(signature);
    if (!targetBytes || !mac) return false;
    const target = new TextDecoder().decode(targetBytes);
    const data = encoder.encode(JSON.stringify([owner, target]));
    // crypto.subtle.verify compares the MAC in constant time.
    const ok = await crypto.subtle.verify('HMAC', await this.#key, mac, data);
    return ok ? target : false;
  }
}

/**
 * Transforms an SSE byte stream, passing every event through unchanged except `endpoint` events, whose
 * data is replaced by `rewrite(data)`. Events are forwarded as soon as they are complete.
 */
export function rewriteEndpointEvents(
  source: ReadableStream<Uint8Array>,
  rewrite: (data: string) => Promise<string | null>,
): ReadableStream<Uint8Array> {
  const decoder = new TextDecoder();
  let buffer = '';
  const reader = source.getReader();

  async function transformEvent(event: string): Promise<string | null> {
    const lines = event.split(/\r\n|\r|\n/);
    if (!lines.some((line) => /^event:\s?endpoint$/.test(line))) return event;
    const data = lines
      .filter((line) => line.startsWith('data:'))
      .map((line) => line.slice(line.startsWith('data: ') ? 6 : 5))
      .join('\n');
    const rewritten = await rewrite(data);
    if (rewritten === null) return null;
    return [...lines.filter((line) => !line.startsWith('data:')), `data: ${rewritten}`].join('\n');
  }

  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      for (;;) {
        const boundary = /\r\n\r\n|\n\n|\r\r/.exec(buffer);
        if (boundary) {
          const event = buffer.slice(0, boundary.index);
          buffer = buffer.slice(boundary.index + boundary[0].length);
          const out = await transformEvent(event);
          if (out === null) {
            controller.error(new Error('upstream endpoint event is not on the upstream origin'));
            await reader.cancel();
            return;
          }
          controller.enqueue(encoder.encode(`${out}\n\n`));
          return;
        }
        const { done, value } = await reader.read();
        if (done) {
          if (buffer.length > 0) controller.enqueue(encoder.encode(buffer));
          controller.close();
          return;
        }
        buffer += decoder.decode(value, { stream: true });
      }
    },
    async cancel(reason) {
      await reader.cancel(reason);
    },
  });
}

/** Options of {@link legacySse}. */
export interface LegacySseOptions {
  /**
   * Key signing the rewritten message URLs. Set it when several proxy instances serve the same route;
   * by default each instance uses a random key.
   */
  readonly secret?: string;
}

/** The legacy HTTP+SSE support of {@link mcpProxy}, made by {@link legacySse}; the proxy calls it. */
export interface LegacySse {
  /**
   * Where a request to the proxy goes when its URL names a signed message endpoint: the upstream URL,
   * `false` when the URL is invalid for `owner`, `undefined` when it names none.
   */
  target(incoming: URL, owner: string, upstream: URL): Promise<URL | false | undefined>;
  /** The upstream's event stream with its `endpoint` events rewritten to signed URLs on `route`. */
  rewrite(
    events: ReadableStream<Uint8Array>,
    owner: string,
    route: string,
    from: URL,
    upstream: URL,
  ): ReadableStream<Uint8Array>;
}

/**
 * Legacy HTTP+SSE upstreams (MCP 2024-11-05) for {@link mcpProxy}'s `legacySse` option: the `endpoint`
 * event of the upstream's stream becomes a URL on the proxy's own route, signed (HMAC-SHA-256) and bound
 * to the caller, and POSTs to it go to the upstream's message endpoint. An endpoint on another origin
 * than the upstream's ends the stream. Without this option an upstream's event stream passes through
 * unchanged, so a legacy upstream's `endpoint` event names the upstream itself.
 *
 * @example
 * ```ts
 * mcpProxy({ upstream: 'https://mcp.example.com/sse', authenticator: as, credentials, legacySse: legacySse() });
 * ```
 */
export function legacySse(options: LegacySseOptions = {}): LegacySse {
  const signer = new EndpointSigner(options.secret);
  return {
    async target(incoming, owner, upstream) {
      if (!EndpointSigner.names(incoming)) return undefined;
      const signed = await signer.verify(incoming, owner);
      return signed === false ? false : new URL(signed, upstream.origin);
    },
    rewrite: (events, owner, route, from, upstream) =>
      rewriteEndpointEvents(events, async (data) => {
        const endpoint = new URL(data.trim(), from);
        if (endpoint.origin !== upstream.origin) return null;
        return `${route}?${await signer.sign(owner, endpoint.pathname + endpoint.search)}`;
      }),
  };
}
