import type { TokenInfo, UpstreamTokenSource } from '../types.js';

/** Why credentials could not be attached (the proxy answers 401 `invalid_token` with this description). */
export interface CredentialRefusal {
  readonly refuse: string;
}

/** What applying credentials gives: nothing, or a refusal. */
// biome-ignore lint/suspicious/noConfusingVoidType: strategies usually return nothing
export type CredentialResult = void | CredentialRefusal;

/**
 * How the proxy authenticates to the upstream MCP server. The client's own `Authorization` header is
 * never forwarded (MCP authorization spec: no token passthrough).
 */
export interface UpstreamCredentials {
  /** Header names this strategy sets; copies sent by the client are always removed first. */
  readonly headers: readonly string[];
  /** Adds the credentials for the caller `info` to the upstream request headers. */
  apply(info: TokenInfo, headers: Headers): CredentialResult | Promise<CredentialResult>;
}

/** A custom strategy as a plain function. */
export type CredentialFunction = (
  info: TokenInfo,
  headers: Headers,
) => CredentialResult | Promise<CredentialResult>;

/** Header values must be visible ASCII; anything else is percent-encoded (UTF-8). */
export function headerValue(value: string): string {
  return /^[\x20-\x7e]*$/.test(value) ? value : encodeURIComponent(value);
}

/**
 * Sends one static token to the upstream (`Authorization: Bearer <token>` by default), e.g. a PAT.
 *
 * @example
 * ```ts
 * mcpProxy({ upstream: env.UPSTREAM_MCP, authenticator: as, credentials: staticToken(env.UPSTREAM_TOKEN) });
 * ```
 */
export function staticToken(
  token: string,
  options: { readonly header?: string; readonly scheme?: string | null } = {},
): UpstreamCredentials {
  if (token.length === 0 || /[\r\n]/.test(token)) throw new TypeError('staticToken: invalid token');
  const header = options.header ?? 'authorization';
  const scheme = options.scheme === undefined ? 'Bearer' : options.scheme;
  const value = scheme ? `${scheme} ${token}` : token;
  return {
    headers: [header],
    apply(_info, headers) {
      headers.set(header, value);
    },
  };
}

/** Options of {@link identityHeaders}. */
export interface IdentityHeaderOptions {
  /** Header carrying the user; default `X-Forwarded-User`. */
  readonly userHeader?: string;
  /** Header carrying the email; default `X-Forwarded-Email`. `null` to omit. */
  readonly emailHeader?: string | null;
  /** Header carrying the display name; omitted by default. */
  readonly nameHeader?: string;
  /** What the user header holds: the user id (default) or the email (ADR 006 style). */
  readonly userValue?: 'userId' | 'email';
  /** Extra static headers for the upstream (for example a shared secret the upstream checks). */
  readonly extra?: Readonly<Record<string, string>>;
}

/**
 * Tells the upstream who the verified caller is with identity headers (`X-Forwarded-User`,
 * `X-Forwarded-Email`); copies the client sent are stripped. The upstream must only be reachable through
 * the proxy.
 */
export function identityHeaders(options: IdentityHeaderOptions = {}): UpstreamCredentials {
  const userHeader = options.userHeader ?? 'X-Forwarded-User';
  const emailHeader = options.emailHeader === undefined ? 'X-Forwarded-Email' : options.emailHeader;
  const names = [
    userHeader,
    ...(emailHeader ? [emailHeader] : []),
    ...(options.nameHeader ? [options.nameHeader] : []),
  ];
  return {
    headers: [...names, ...Object.keys(options.extra ?? {})],
    apply(info, headers) {
      const user = options.userValue === 'email' ? info.email : info.userId;
      if (!user) return { refuse: 'The token carries no email for the upstream identity header.' };
      headers.set(userHeader, headerValue(user));
      if (emailHeader && info.email) headers.set(emailHeader, headerValue(info.email));
      if (options.nameHeader && info.name) headers.set(options.nameHeader, headerValue(info.name));
      for (const [name, value] of Object.entries(options.extra ?? {})) headers.set(name, value);
    },
  };
}

/**
 * Calls the upstream as the user with the identity provider's access token. With `source` (the
 * authorization server) it is the current one, refreshed at the IdP when it has expired; without, the
 * one captured at login (`TokenInfo.upstreamToken`). Refuses when there is none or it has expired, so
 * the client signs in again.
 *
 * @example
 * ```ts
 * mcpProxy({ upstream: env.UPSTREAM_MCP, authenticator: as, credentials: upstreamIdpToken({ source: as }) });
 * ```
 */
export function upstreamIdpToken(
  options: { readonly now?: () => number; readonly source?: UpstreamTokenSource } = {},
): UpstreamCredentials {
  const now = options.now ?? Date.now;
  const source = options.source;
  return {
    headers: ['authorization'],
    async apply(info, headers) {
      if (source) {
        const current = await source.upstreamToken(info);
        if (!current.ok) return { refuse: current.reason };
        headers.set('authorization', `Bearer ${current.token.accessToken}`);
        return;
      }
      const token = info.upstreamToken;
      if (!token) return { refuse: 'No upstream identity-provider token is attached to this grant.' };
      if (token.expiresAt !== undefined && token.expiresAt * 1000 <= now()) {
        return { refuse: 'The upstream identity-provider token has expired; authorize again.' };
      }
      headers.set('authorization', `Bearer ${token.accessToken}`);
    },
  };
}

/** Wraps a function as a strategy. `headers` lists the names it sets, stripped from client requests. */
export function customCredentials(
  apply: CredentialFunction,
  headers: readonly string[] = [],
): UpstreamCredentials {
  return { headers, apply };
}
