import type { Core } from './context.js';
import type { GrantRecord } from './stores/schemas.js';
import type {
  Identity,
  PendingAuthorization,
  TokenInfo,
  UpstreamToken,
  UpstreamTokenResult,
} from './types.js';

/** A route an identity upstream serves, relative to the issuer's base path (e.g. `/callback`). */
export interface UpstreamRoute {
  /** The HTTP method of the route. */
  readonly method: 'GET' | 'POST';
  /** The path, relative to the issuer's base path, e.g. `/callback`. */
  readonly path: string;
  /**
   * `true` for a POST route an identity provider posts to from its own site (e.g. `form_post`
   * callbacks). Otherwise a POST marked cross-site by the browser is refused, as forms of this server's
   * own pages are.
   */
  readonly crossSite?: boolean;
}

/** What the core hands an identity upstream: flow state, clock, randomness, page rendering. */
export interface UpstreamContext {
  /** The issuer identifier (the authorization server's base URL, no trailing slash). */
  readonly issuer: string;
  /** The caller's IP address when the adapter reports it (`clientIp` option), for rate limits. */
  readonly clientIp: string | undefined;
  /** Absolute URL of an upstream route, e.g. `ctx.url('/callback')`. */
  url(path: string): string;
  /** The server's clock, in epoch milliseconds. */
  now(): number;
  /** A fresh unguessable token (base64url of `bytes` random bytes, default 32). */
  randomToken(bytes?: number): string;
  /** Loads a pending authorization, or `null` when unknown or expired. */
  loadPending(id: string): Promise<PendingAuthorization | null>;
  /** Attaches upstream state (PKCE verifier, nonce…) to a pending authorization; stored encrypted. */
  savePendingState(id: string, state: Readonly<Record<string, string>>): Promise<void>;
  /** Reads the state saved with {@link savePendingState}, or `null`. */
  loadPendingState(id: string): Promise<Readonly<Record<string, string>> | null>;
  /**
   * Counts one attempt under `key` in a window of `windowMs` and returns the count in that window
   * (atomic where the storage is). Use it to limit guesses.
   */
  countAttempt(key: string, windowMs: number): Promise<number>;
  /** A CSRF token bound to the pending authorization, for forms the upstream renders. */
  csrfToken(pendingId: string): Promise<string>;
  /** Constant-time check of a CSRF token made by {@link csrfToken}. */
  verifyCsrfToken(pendingId: string, token: string): Promise<boolean>;
  /** An HTML response with the security headers every authorization page needs (no framing, CSP, no-store). */
  html(body: string, init?: { status?: number; title?: string }): Response;
  /** Reports a failed login to the audit hook. */
  loginFailed(reason: string): void;
}

/** What handling an upstream route produced. */
export type UpstreamOutcome =
  /** The user is known: the core checks consent and finishes the authorization. */
  | {
      /** The user is known. */
      readonly type: 'identity';
      /** The pending authorization this identity completes. */
      readonly pendingId: string;
      /** Who the user is. */
      readonly identity: Identity;
    }
  /** The upstream answers itself (a page again, an error page, a redirect to the IdP). */
  | {
      /** The upstream answers itself. */
      readonly type: 'response';
      /** The response to send as is. */
      readonly response: Response;
    }
  /** The user refused or the login failed for good: the client gets `access_denied` (RFC 6749 §4.1.2.1). */
  | {
      /** The authorization ends with `access_denied`. */
      readonly type: 'denied';
      /** The pending authorization to end with `access_denied`. */
      readonly pendingId: string;
      /** Why, for the audit event and the `error_description`. */
      readonly reason: string;
    };

/**
 * Establishes who the user is during `/authorize`: a PIN page, an OIDC or OAuth 2 login, a trusted
 * header set by an access proxy, or anything custom.
 *
 * The core validates the client's request first, stores it as a {@link PendingAuthorization}, then calls
 * {@link begin}. Requests to the upstream's {@link routes} go to {@link handle}; when it returns an
 * identity, the core records consent, issues the code and redirects to the client.
 */
export interface IdentityUpstream {
  /** Short name for logs and events, e.g. `pin`, `oidc`. */
  readonly name: string;
  /** Routes this upstream serves (callbacks, form posts). */
  readonly routes: readonly UpstreamRoute[];
  /** Starts authentication for a validated request: render a page or redirect to the IdP. */
  begin(
    pending: PendingAuthorization,
    request: Request,
    ctx: UpstreamContext,
  ): Promise<Response | UpstreamOutcome>;
  /** Handles a request to one of {@link routes}. */
  handle(request: Request, ctx: UpstreamContext): Promise<UpstreamOutcome>;
  /**
   * Optional: keeps the IdP tokens this upstream captures at login (`Identity.upstreamToken`) current,
   * made by `refreshableUpstreamTokens` (`@portcullis/core/upstreams`); the OAuth 2 and OIDC upstreams
   * set it. Without it, `upstreamToken(info)` gives the token captured at login until it expires, and
   * nothing is revoked at the IdP.
   */
  readonly upstreamTokens?: UpstreamTokenSupport;
}

/** How an IdP refreshes and revokes the tokens an upstream captured at login (`refreshableUpstreamTokens`). */
export interface UpstreamTokenIdp {
  /**
   * Exchanges the refresh token of an upstream token for a new one (RFC 6749 §6), so proxies calling
   * upstream as the user keep working after the IdP token expires. Only called for a token with a
   * `refreshToken`; the core makes sure one refresh runs at a time.
   */
  refresh?(token: UpstreamToken, now: number): Promise<UpstreamRefresh>;
  /** Revokes an upstream token at the IdP (RFC 7009) when its grant is revoked; best effort. */
  revoke?(token: UpstreamToken): Promise<void>;
}

/**
 * What the core asks of an upstream's {@link IdentityUpstream.upstreamTokens} support, attached to one
 * server. Made by `refreshableUpstreamTokens`; applications do not implement it.
 */
export interface UpstreamTokenKeeper {
  /** The current upstream token of a caller `authenticate` verified (the server's `upstreamToken(info)`). */
  current(info: TokenInfo): Promise<UpstreamTokenResult>;
  /** The client refreshed its tokens of `grant`; throws `invalid_grant` when the IdP session has ended. */
  clientRefreshed(grant: GrantRecord): Promise<void>;
  /** Before a grant is revoked; the function it resolves to is called once the grant is gone. */
  revoking(grantId: string): Promise<() => Promise<void>>;
}

/** Attaches an upstream's token support to a server's core. */
export type UpstreamTokenSupport = (core: Core) => UpstreamTokenKeeper;

/** What refreshing an upstream token at the IdP gave. */
export type UpstreamRefresh =
  | {
      /** The IdP issued a new token. */
      readonly ok: true;
      /** The new token; it keeps the previous refresh token when the IdP issued none (RFC 6749 §6). */
      readonly token: UpstreamToken;
    }
  | {
      /** The IdP did not issue a new token. */
      readonly ok: false;
      /** `true` when the IdP refused the refresh token for good (`invalid_grant`): the session there ended. */
      readonly ended: boolean;
      /** Why, without secrets. */
      readonly reason: string;
    };
