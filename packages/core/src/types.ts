/** Public types shared by the authorization server, the resource side and the identity upstreams. */

/** JSON-compatible data an application attaches to a grant. Stored encrypted. */
export type Props = { readonly [key: string]: JsonValue };
/** A JSON value. */
export type JsonValue =
  | string
  | number
  | boolean
  | null
  | readonly JsonValue[]
  | { readonly [key: string]: JsonValue };

/** A token the identity upstream obtained at login (e.g. the upstream IdP's access token). Stored encrypted. */
export interface UpstreamToken {
  readonly accessToken: string;
  readonly tokenType?: string;
  /** Expiry in epoch seconds, when known. */
  readonly expiresAt?: number;
  readonly refreshToken?: string;
  readonly scope?: string;
}

/** Who the user is, as an identity upstream established it. */
export interface Identity {
  /** Stable identifier of the user (the `sub`). */
  readonly userId: string;
  readonly email?: string;
  readonly name?: string;
  /** Application data attached to the grant and returned by `authenticate` as `props`. */
  readonly props?: Props;
  /** The upstream IdP's own token, for proxies that call upstream as the user. */
  readonly upstreamToken?: UpstreamToken;
  /**
   * `true` when the upstream's own page showed the client and the requested access and the user
   * approved it (the PIN page does). Otherwise the core shows its consent page unless consent for
   * this user, client and scopes is remembered.
   */
  readonly consented?: boolean;
}

/** A client as the authorization pages may show it. */
export interface ClientSummary {
  readonly clientId: string;
  readonly clientName?: string;
  readonly clientUri?: string;
  readonly logoUri?: string;
  /** The redirect URI this request will return to. */
  readonly redirectUri: string;
}

/** A validated authorization request waiting for the user. */
export interface PendingAuthorization {
  /** Opaque id of the pending request (unguessable; bound to the flow). */
  readonly id: string;
  readonly client: ClientSummary;
  readonly scopes: readonly string[];
  /** The protected resource (RFC 8707) the token will be bound to. */
  readonly resource: string;
  /** Expiry in epoch milliseconds. */
  readonly expiresAt: number;
}

/** The verified result of `authenticate`: who called, with which client and access. */
export interface TokenInfo {
  /** The bearer token as presented (needed by MCP SDK `authInfo`). Never log it. */
  readonly token: string;
  readonly clientId: string;
  readonly userId: string;
  readonly email?: string;
  readonly name?: string;
  readonly scopes: readonly string[];
  /** The resource (audience) the token is bound to. */
  readonly resource: string;
  readonly props: Props;
  /** Expiry in epoch seconds. */
  readonly expiresAt: number;
  /** The upstream IdP token captured at login, when the identity upstream provided one. */
  readonly upstreamToken?: UpstreamToken;
}

/** Options of one `authenticate` call. */
export interface AuthenticateOptions {
  /** Scopes the route requires; missing ones give 403 `insufficient_scope` (RFC 6750 §3.1). */
  readonly requiredScopes?: readonly string[];
  /** The resource this route serves; defaults to the one configured for the request path. */
  readonly resource?: string;
}

/** Result of `authenticate`: the token info, or the 401/403 response to send. */
export type AuthenticateResult =
  | { readonly ok: true; readonly info: TokenInfo }
  | { readonly ok: false; readonly response: Response };

/** Anything that can verify bearer tokens for a protected resource (AS mode or resource-server-only). */
export interface Authenticator {
  authenticate(request: Request, options?: AuthenticateOptions): Promise<AuthenticateResult>;
  /**
   * Answers RFC 9728 protected-resource metadata requests (`/.well-known/oauth-protected-resource[/path]`);
   * returns `null` for any other request.
   */
  protectedResourceMetadata(request: Request): Promise<Response | null>;
}

/** Audit events, for `onEvent`. Never carry secrets. */
export type PortcullisEvent =
  | { readonly type: 'client_registered'; readonly clientId: string; readonly clientName?: string }
  | { readonly type: 'client_deleted'; readonly clientId: string }
  | {
      readonly type: 'authorization_granted';
      readonly clientId: string;
      readonly userId: string;
      readonly scopes: readonly string[];
      readonly resource: string;
    }
  | { readonly type: 'authorization_denied'; readonly clientId: string; readonly reason: string }
  | {
      readonly type: 'token_issued';
      readonly clientId: string;
      readonly userId: string;
      readonly grantType: 'authorization_code' | 'refresh_token';
      readonly grantId: string;
    }
  | { readonly type: 'token_refused'; readonly reason: string; readonly clientId?: string }
  | {
      readonly type: 'replay_detected';
      readonly what: 'authorization_code' | 'refresh_token';
      readonly clientId: string;
      readonly grantId: string;
    }
  | { readonly type: 'token_revoked'; readonly clientId: string; readonly grantId?: string }
  | { readonly type: 'grant_revoked'; readonly grantId: string; readonly reason: string }
  | { readonly type: 'login_failed'; readonly upstream: string; readonly reason: string }
  | { readonly type: 'storage_error'; readonly operation: string; readonly message: string };
