/**
 * HTTP as one client does it: its User-Agent and, for browser clients, its Origin (with the CORS check a
 * browser would make), every request logged; and the error a flow stops with, named by step.
 */
import type { CorpusEntry, Step } from '../corpus.js';

/** Where and how a flow stopped: the HTTP status and the RFC 6749 `error` / `error_description`. */
export class FlowError extends Error {
  constructor(
    readonly step: Step,
    readonly status: number,
    readonly error: string,
    readonly errorDescription: string,
  ) {
    super(`[${step}] ${status} ${error}: ${errorDescription}`);
    this.name = 'FlowError';
  }
}

const SAFELISTED = new Set(['accept', 'accept-language', 'content-language', 'content-type']);
const SIMPLE_TYPES = new Set(['application/x-www-form-urlencoded', 'multipart/form-data', 'text/plain']);

/** One request the client made. */
export interface Sent {
  readonly method: string;
  readonly url: string;
  readonly status: number;
}

/** Undoes the HTML escaping of attribute values and text. */
export const unescapeHtml = (v: string) =>
  v
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');

/** Reads `error` / `error_description` from a JSON body, or from an HTML error page's text. */
export function readError(status: number, body: string): { error: string; description: string } {
  try {
    const json = JSON.parse(body) as { error?: unknown; error_description?: unknown };
    if (typeof json.error === 'string')
      return { error: json.error, description: String(json.error_description ?? '') };
  } catch {
    // Not JSON: an HTML page.
  }
  const page = /<strong>([a-z_]+)<\/strong>:\s*([^<]*)/.exec(body);
  if (page) return { error: page[1]!, description: unescapeHtml(page[2]!.trim()) };
  const textOnly = unescapeHtml(
    body
      .replace(/<[^>]+>/g, ' ')
      .replace(/\s+/g, ' ')
      .trim(),
  );
  return { error: `http_${status}`, description: textOnly.slice(0, 300) };
}

/** The HTTP side of one client: fetch with its identifying headers, a log, and failures as FlowErrors. */
export class ClientHttp {
  readonly sent: Sent[] = [];
  constructor(private readonly entry: CorpusEntry) {}

  /** Sends a request with the client's User-Agent (and Origin when it runs in a browser). */
  async request(step: Step, url: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    const { user_agent: userAgent, origin } = this.entry.http ?? {};
    if (origin) await this.preflight(step, url, init.method ?? 'GET', headers, origin);
    if (userAgent) headers.set('user-agent', userAgent);
    if (origin) headers.set('origin', origin);
    const response = await fetch(url, { ...init, headers, redirect: 'manual' });
    this.sent.push({ method: init.method ?? 'GET', url, status: response.status });
    // A browser hands a cross-origin response to the page only with CORS approval, whatever its status.
    if (origin) {
      const allowed = response.headers.get('access-control-allow-origin');
      if (allowed !== '*' && allowed !== origin) {
        const said = (await response.text()).slice(0, 200);
        throw new FlowError(
          step,
          response.status,
          'cors_refused',
          `no CORS approval for ${origin} at ${url}: ${said}`,
        );
      }
    }
    return response;
  }

  /** Whether the page may read a response header (CORS exposes only the safelisted ones by default). */
  readable(response: Response, header: string): boolean {
    if (!this.entry.http?.origin) return true;
    const exposed = (response.headers.get('access-control-expose-headers') ?? '').toLowerCase().split(',');
    return exposed.map((h) => h.trim()).some((h) => h === header || h === '*');
  }

  /**
   * The CORS preflight a browser sends before a request that is not "simple" (Fetch standard §4.8): a
   * method other than GET/HEAD/POST, or a header outside the safelist (Authorization, MCP-Protocol-Version,
   * a JSON Content-Type).
   */
  private async preflight(step: Step, url: string, method: string, headers: Headers, origin: string) {
    const custom = [...headers.keys()].filter(
      (name) =>
        !SAFELISTED.has(name) ||
        (name === 'content-type' && !SIMPLE_TYPES.has((headers.get(name) ?? '').split(';')[0]!.trim())),
    );
    if (['GET', 'HEAD', 'POST'].includes(method) && custom.length === 0) return;
    const response = await fetch(url, {
      method: 'OPTIONS',
      headers: {
        origin,
        'access-control-request-method': method,
        ...(custom.length ? { 'access-control-request-headers': custom.join(',') } : {}),
      },
    });
    await response.body?.cancel();
    this.sent.push({ method: 'OPTIONS', url, status: response.status });
    const allowOrigin = response.headers.get('access-control-allow-origin');
    const allowHeaders = (response.headers.get('access-control-allow-headers') ?? '')
      .toLowerCase()
      .split(',')
      .map((h) => h.trim());
    const allowMethods = (response.headers.get('access-control-allow-methods') ?? '').toUpperCase();
    const refused =
      response.status >= 300 ||
      (allowOrigin !== '*' && allowOrigin !== origin) ||
      !custom.every((h) => allowHeaders.includes(h) || allowHeaders.includes('*')) ||
      (!['GET', 'HEAD', 'POST'].includes(method) && !allowMethods.includes(method));
    if (refused)
      throw new FlowError(step, response.status, 'cors_preflight_refused', `${method} ${url} from ${origin}`);
  }

  /** A JSON request that must answer `expected`; anything else becomes a FlowError with the server's error. */
  async json(step: Step, url: string, init: RequestInit, expected: number): Promise<Record<string, unknown>> {
    const response = await this.request(step, url, init);
    const body = await response.text();
    if (response.status !== expected) {
      const { error, description } = readError(response.status, body);
      throw new FlowError(step, response.status, error, description);
    }
    try {
      return JSON.parse(body) as Record<string, unknown>;
    } catch {
      throw new FlowError(step, response.status, 'invalid_json', body.slice(0, 200));
    }
  }
}
