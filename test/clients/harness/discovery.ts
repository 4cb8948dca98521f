/**
 * Discovery the way one client does it: how it meets the 401 (MCP spec, Authorization §Discovery), the
 * RFC 9728 protected-resource metadata locations it tries and how it checks `resource` (§3.3), then the
 * RFC 8414 / OIDC discovery locations it tries for the issuer (RFC 8414 §3.1, OIDC Discovery §4).
 */
import type { AsForm, CorpusEntry, PrmForm } from '../corpus.js';
import { type ClientHttp, FlowError } from './http.js';

/** What discovery found. */
export interface Discovered {
  /** The `WWW-Authenticate: Bearer` parameters of the 401, when the client probed. */
  readonly challenge: { readonly resourceMetadata?: string; readonly scope?: string } | undefined;
  readonly prm: Readonly<Record<string, unknown>> | undefined;
  readonly as: Readonly<Record<string, unknown>>;
  /** The issuer the client looked up. */
  readonly issuer: string;
}

/** The Bearer challenge parameters a client reads (RFC 6750 §3, RFC 9728 §5.1). */
export function readChallenge(header: string | null): Discovered['challenge'] {
  if (!header || !/^bearer\b/i.test(header)) return undefined;
  const param = (name: string) => new RegExp(`${name}="([^"]*)"`).exec(header)?.[1];
  const resourceMetadata = param('resource_metadata');
  const scope = param('scope');
  return { ...(resourceMetadata ? { resourceMetadata } : {}), ...(scope !== undefined ? { scope } : {}) };
}

const initialize = (entry: CorpusEntry) =>
  JSON.stringify({
    jsonrpc: '2.0',
    id: 0,
    method: 'initialize',
    params: {
      protocolVersion: entry.mcp.protocol_version,
      capabilities: {},
      clientInfo: entry.mcp.client_info,
    },
  });

/** The unauthenticated request that gets the client its 401 challenge. */
async function probe(entry: CorpusEntry, http: ClientHttp, mcpUrl: string): Promise<Discovered['challenge']> {
  const kind = entry.discovery.probe;
  if (kind === 'none') return undefined;
  const init: RequestInit =
    kind === 'post-initialize'
      ? {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
          body: initialize(entry),
        }
      : { method: kind === 'head' ? 'HEAD' : 'GET', headers: { accept: 'application/json' } };
  const response = await http.request('probe', mcpUrl, init);
  await response.body?.cancel();
  const header = response.headers.get('www-authenticate');
  const challenge = readChallenge(header);
  if (response.status !== 401 || !challenge)
    throw new FlowError(
      'probe',
      response.status,
      'no_challenge',
      `${init.method} ${mcpUrl} gave no Bearer 401`,
    );
  // A browser page sees the 401 but not an unexposed WWW-Authenticate; it then discovers without it.
  return http.readable(response, 'www-authenticate') ? challenge : {};
}

function prmUrl(form: PrmForm, mcpUrl: string, challenge: Discovered['challenge']): string | undefined {
  const url = new URL(mcpUrl);
  const path = url.pathname.replace(/\/$/, '');
  switch (form) {
    case 'www-authenticate':
      return challenge?.resourceMetadata;
    case 'path-suffixed':
      return path ? `${url.origin}/.well-known/oauth-protected-resource${path}` : undefined;
    case 'root':
      return `${url.origin}/.well-known/oauth-protected-resource`;
  }
}

function asUrl(form: AsForm, issuer: string): string {
  const url = new URL(issuer);
  const path = url.pathname.replace(/\/$/, '');
  switch (form) {
    case 'oauth-insert':
      return `${url.origin}/.well-known/oauth-authorization-server${path}`;
    case 'oidc-insert':
      return `${url.origin}/.well-known/openid-configuration${path}`;
    case 'oidc-append':
      return `${url.origin}${path}/.well-known/openid-configuration`;
    case 'oauth-root':
      return `${url.origin}/.well-known/oauth-authorization-server`;
    case 'oidc-root':
      return `${url.origin}/.well-known/openid-configuration`;
  }
}

/** Fetches the first of `urls` that answers 200 JSON, the way a client walks its candidate list. */
async function firstFound(
  step: 'prm' | 'as',
  http: ClientHttp,
  urls: readonly string[],
  headers: Readonly<Record<string, string>>,
): Promise<Record<string, unknown>> {
  let last = 0;
  for (const url of new Set(urls)) {
    let response: Response;
    try {
      response = await http.request(step, url, { headers: { accept: 'application/json', ...headers } });
    } catch (error) {
      // A browser's refused preflight: the TS SDK retries without its extra headers (fetchWithCorsRetry).
      if (!(error instanceof FlowError) || error.error !== 'cors_preflight_refused') throw error;
      response = await http.request(step, url, {});
    }
    last = response.status;
    if (response.status === 200) return (await response.json()) as Record<string, unknown>;
    await response.body?.cancel();
  }
  throw new FlowError(step, last, `no_${step}_metadata`, `none of ${[...new Set(urls)].join(', ')} answered`);
}

const pathAndHost = (u: string) => {
  const url = new URL(u);
  return `${url.protocol}//${url.host}${url.pathname.replace(/\/$/, '')}`;
};

/** RFC 9728 §3.3 as the client implements it. */
function resourceAccepted(
  check: CorpusEntry['discovery']['prm_resource_check'],
  resource: string,
  mcpUrl: string,
) {
  switch (check) {
    case 'none':
      return true;
    case 'exact':
      return new URL(resource).toString() === mcpUrl;
    case 'normalized':
      return pathAndHost(resource) === pathAndHost(mcpUrl);
    case 'origin': {
      // The TS SDK's checkResourceAllowed: same origin, and the configured path a prefix of the requested one.
      const configured = new URL(resource);
      const requested = new URL(mcpUrl);
      const prefix = configured.pathname.endsWith('/') ? configured.pathname : `${configured.pathname}/`;
      return (
        configured.origin === requested.origin &&
        (`${requested.pathname}/`.startsWith(prefix) || requested.pathname === configured.pathname)
      );
    }
  }
}

/** Runs the client's discovery against `mcpUrl`. */
export async function discover(entry: CorpusEntry, http: ClientHttp, mcpUrl: string): Promise<Discovered> {
  const spec = entry.discovery;
  const headers = spec.headers ?? {};
  const challenge = await probe(entry, http, mcpUrl);
  let prm: Record<string, unknown> | undefined;
  if (spec.prm.length > 0) {
    const urls = spec.prm.map((form) => prmUrl(form, mcpUrl, challenge)).filter((u): u is string => !!u);
    prm = await firstFound('prm', http, urls, headers);
    const resource = typeof prm.resource === 'string' ? prm.resource : '';
    if (!resource || !resourceAccepted(spec.prm_resource_check, resource, mcpUrl))
      throw new FlowError('prm', 200, 'resource_mismatch', `PRM resource ${resource} for ${mcpUrl}`);
  }
  const servers = prm?.authorization_servers;
  const issuer =
    spec.as_from === 'prm' && Array.isArray(servers) && typeof servers[0] === 'string'
      ? servers[0]
      : new URL(mcpUrl).origin;
  const as = await firstFound(
    'as',
    http,
    spec.as.map((form) => asUrl(form, issuer)),
    headers,
  );
  if (
    spec.checks_issuer &&
    (typeof as.issuer !== 'string' || new URL(as.issuer).href !== new URL(issuer).href)
  )
    throw new FlowError('as', 200, 'issuer_mismatch', `metadata issuer ${String(as.issuer)} for ${issuer}`);
  return { challenge, prm, as, issuer };
}
