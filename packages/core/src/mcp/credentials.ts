import { createIdentityAssertionSigner, type IdentityAssertionSigning } from '../jose/identity-assertion.js';
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

/** Sets a strategy's headers on the plain object of upstream headers (lower-case names). */
type PlainApply = (info: TokenInfo, headers: Record<string, string>) => CredentialResult;

// The built-in strategies that only set headers, as plain-object appliers: the proxy then never makes a
// `Headers` for the upstream request. Any other strategy is handed a `Headers`, as documented.
const plainAppliers = new WeakMap<UpstreamCredentials, PlainApply>();

/** The plain-object form of a built-in strategy, or `undefined` for any other. */
export function plainApplier(credentials: UpstreamCredentials): PlainApply | undefined {
  return plainAppliers.get(credentials);
}

function withPlainApplier(credentials: UpstreamCredentials, apply: PlainApply): UpstreamCredentials {
  plainAppliers.set(credentials, apply);
  return credentials;
}

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
  const name = header.toLowerCase();
  return withPlainApplier(
    {
      headers: [header],
      apply(_info, headers) {
        headers.set(header, value);
      },
    },
    (_info, headers) => {
      headers[name] = value;
    },
  );
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
  // The values to set for a caller, in order (later ones win, as with Headers.set).
  const fields = (info: TokenInfo): [string, string][] | CredentialRefusal => {
    const user = options.userValue === 'email' ? info.email : info.userId;
    if (!user) return { refuse: 'The token carries no email for the upstream identity header.' };
    return [
      [userHeader, headerValue(user)],
      ...(emailHeader && info.email ? [[emailHeader, headerValue(info.email)] as [string, string]] : []),
      ...(options.nameHeader && info.name
        ? [[options.nameHeader, headerValue(info.name)] as [string, string]]
        : []),
      ...Object.entries(options.extra ?? {}),
    ];
  };
  return withPlainApplier(
    {
      headers: [...names, ...Object.keys(options.extra ?? {})],
      apply(info, headers) {
        const set = fields(info);
        if (!Array.isArray(set)) return set;
        for (const [name, value] of set) headers.set(name, value);
      },
    },
    (info, headers) => {
      const set = fields(info);
      if (!Array.isArray(set)) return set;
      for (const [name, value] of set) headers[name.toLowerCase()] = value;
    },
  );
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

/** Options of {@link signedIdentity}. */
export interface SignedIdentityOptions {
  /** The gateway's identifier (`iss`), e.g. the authorization server's issuer. */
  readonly issuer: string;
  /** The upstream's identifier (`aud`), e.g. its URL; the upstream checks it names itself. */
  readonly audience: string;
  /**
   * `{ keys }`: the gateway's signing keys (`signingKeys` of `@portcullis/core/extensions`), published at
   * its `jwks_uri`; `{ hmacSecret }`: a secret of at least 32 bytes shared with an upstream that only
   * verifies HS256.
   */
  readonly signing: IdentityAssertionSigning;
  /** Header carrying the assertion; default `Portcullis-Jwt-Assertion`. */
  readonly header?: string;
  /** A scheme before the assertion, e.g. `Bearer` with `header: 'authorization'`; default none. */
  readonly scheme?: string;
  /** Lifetime, seconds, 1–59; default 30. */
  readonly lifetimeSeconds?: number;
  /** Further claims from the verified caller (registered claims cannot be overridden). */
  readonly claims?: (info: TokenInfo) => Readonly<Record<string, unknown>>;
  /** JOSE `typ`; default `JWT`. */
  readonly typ?: string;
  /** Clock in epoch ms; default `Date.now`. */
  readonly now?: () => number;
}

/**
 * Sends the upstream a short-lived signed JWT of the verified caller (like Cloudflare Access's
 * `Cf-Access-Jwt-Assertion`): `iss`, `aud` (the upstream), `sub`, `email`, `name`, `client_id`,
 * `scope`, `iat`, `exp` under a minute later and `jti`, so the upstream verifies who calls instead of
 * trusting a forgeable header. Copies of the header the client sent are stripped.
 *
 * @example
 * ```ts
 * const keys = signingKeys({ storage, secret }); // from @portcullis/core/extensions, also in `jwks(keys)`
 * mcpProxy({ upstream, authenticator: as, credentials: signedIdentity({ issuer, audience: upstream, signing: { keys } }) });
 * ```
 */
export function signedIdentity(options: SignedIdentityOptions): UpstreamCredentials {
  const header = options.header ?? 'Portcullis-Jwt-Assertion';
  const base = {
    issuer: options.issuer,
    audience: options.audience,
    signing: options.signing,
    ...(options.lifetimeSeconds !== undefined ? { lifetimeSeconds: options.lifetimeSeconds } : {}),
    ...(options.typ ? { typ: options.typ } : {}),
    ...(options.now ? { now: options.now } : {}),
  };
  // Checks the options once (secret length, lifetime); a per-call signer adds the caller's claims.
  const plain = createIdentityAssertionSigner(base);
  return {
    headers: [header],
    async apply(info, headers) {
      const sign = options.claims
        ? createIdentityAssertionSigner({ ...base, claims: () => options.claims!(info) })
        : plain;
      const assertion = await sign({
        subject: info.userId,
        clientId: info.clientId,
        scopes: info.scopes,
        ...(info.email ? { email: info.email } : {}),
        ...(info.name ? { name: info.name } : {}),
      });
      headers.set(header, options.scheme ? `${options.scheme} ${assertion}` : assertion);
    },
  };
}
