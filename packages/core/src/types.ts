/** Public types shared by the authorization server, the resource side and the identity upstreams. */
import type { ChallengeOptions } from './resource/challenge.js';

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
  /** The upstream access token. */
  readonly accessToken: string;
  /** Its token type, usually `Bearer`. */
  readonly tokenType?: string;
  /** Expiry in epoch seconds, when known. */
  readonly expiresAt?: number;
  /** The upstream refresh token, when the IdP issued one (kept sealed; never handed to callers). */
  readonly refreshToken?: string;
  /** The scopes the IdP granted (space-separated). */
  readonly scope?: string;
}

/** The current upstream IdP token of a caller, or why there is none. */
export type UpstreamTokenResult =
  | {
      /** A token that has not expired. */
      readonly ok: true;
      /** The token; it never carries the refresh token, which stays sealed in the authorization server. */
      readonly token: UpstreamToken;
    }
  | {
      /** There is no usable token: the caller should authorize again, or retry later. */
      readonly ok: false;
      /** Why, for the 401 `error_description`; without secrets. */
      readonly reason: string;
    };

/**
 * Gives the current upstream IdP token of a verified caller, refreshing it at the IdP when it has
 * expired (one refresh at a time across instances). The authorization server is one.
 */
export interface UpstreamTokenSource {
  /** The current upstream token for a caller that `authenticate` verified. */
  upstreamToken(info: TokenInfo): Promise<UpstreamTokenResult>;
}

/** Who the user is, as an identity upstream established it. */
export interface Identity {
  /** Stable identifier of the user (the `sub`). */
  readonly userId: string;
  /** The user's email, when verified by the upstream. */
  readonly email?: string;
  /** The user's display name. */
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
  /** The client's `client_id`. */
  readonly clientId: string;
  /** `client_name` from its registration (RFC 7591 §2); not verified. */
  readonly clientName?: string;
  /** `client_uri` from its registration; not verified. */
  readonly clientUri?: string;
  /** `logo_uri` from its registration; not verified. */
  readonly logoUri?: string;
  /** The redirect URI this request will return to. */
  readonly redirectUri: string;
}

/** A validated authorization request waiting for the user. */
export interface PendingAuthorization {
  /** Opaque id of the pending request (unguessable; bound to the flow). */
  readonly id: string;
  /** The client asking for access. */
  readonly client: ClientSummary;
  /** The scopes that will be granted. */
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
  /** The `client_id` of the client the token was issued to. */
  readonly clientId: string;
  /** The user (`sub`) who authorized the client. */
  readonly userId: string;
  /** The user's verified email, when the identity upstream provided one. */
  readonly email?: string;
  /** The user's display name, when known. */
  readonly name?: string;
  /** The scopes granted to the token. */
  readonly scopes: readonly string[];
  /** The resource (audience) the token is bound to. */
  readonly resource: string;
  /** Application data attached to the grant at login (`Identity.props`). */
  readonly props: Props;
  /** Expiry in epoch seconds. */
  readonly expiresAt: number;
  /** The acting party of a delegated token (RFC 8693 §4.1 `act`), when it came from a token exchange. */
  readonly act?: Readonly<Record<string, unknown>>;
  /** The key a DPoP-bound token is confirmed by (RFC 9449 §6: `cnf.jkt`); it is used only with a proof of it. */
  readonly cnf?: { readonly jkt: string };
  /**
   * The upstream IdP token captured at login, when the identity upstream provided one, without its
   * refresh token. It is not refreshed: use the authorization server's `upstreamToken(info)` (or
   * `upstreamIdpToken({ source })`) for the current one.
   */
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
  | {
      /** The token is valid for this request. */
      readonly ok: true;
      /** Who called, with which client and access. */
      readonly info: TokenInfo;
    }
  | {
      /** The request is refused. */
      readonly ok: false;
      /** The 401/403 response to send, with its `WWW-Authenticate` challenge. */
      readonly response: Response;
    };

/** Anything that can verify bearer tokens for a protected resource (AS mode or resource-server-only). */
export interface Authenticator {
  /** Verifies the bearer token of a request: the token info, or the 401/403 response to send. */
  authenticate(request: Request, options?: AuthenticateOptions): Promise<AuthenticateResult>;
  /**
   * The 400/401/403 challenge of the resource a request is for (RFC 6750 §3, pointing at its RFC 9728
   * metadata), for code that refuses after `authenticate` — e.g. a step-up `insufficient_scope` naming
   * every scope a tool needs.
   */
  challenge(request: Request, options?: ChallengeOptions): Response;
  /**
   * Answers RFC 9728 protected-resource metadata requests (`/.well-known/oauth-protected-resource[/path]`);
   * returns `null` for any other request.
   */
  protectedResourceMetadata(request: Request): Promise<Response | null>;
}

/** Audit events, for `onEvent`. Never carry secrets. */
export type PortcullisEvent =
  | {
      /** A client registered (RFC 7591). */
      readonly type: 'client_registered';
      /** Its new `client_id`. */
      readonly clientId: string;
      /** Its `client_name`, as the client stated it. */
      readonly clientName?: string;
    }
  | {
      /** A client was deleted (RFC 7592). */
      readonly type: 'client_deleted';
      /** The deleted `client_id`. */
      readonly clientId: string;
    }
  | {
      /** A user approved a client: a grant and an authorization code were issued. */
      readonly type: 'authorization_granted';
      /** The client that received the code. */
      readonly clientId: string;
      /** The user who approved it. */
      readonly userId: string;
      /** The scopes granted. */
      readonly scopes: readonly string[];
      /** The resource (RFC 8707) the tokens are bound to. */
      readonly resource: string;
    }
  | {
      /** An authorization request ended with `access_denied`. */
      readonly type: 'authorization_denied';
      /** The client that asked. */
      readonly clientId: string;
      /** Why, e.g. the user denied or too many PIN attempts. */
      readonly reason: string;
    }
  | {
      /** The token endpoint issued tokens. */
      readonly type: 'token_issued';
      /** The client that received them. */
      readonly clientId: string;
      /** The user of the grant. */
      readonly userId: string;
      /** The grant type used at the token endpoint (`authorization_code`, `refresh_token`, an extension URI…). */
      readonly grantType: string;
      /** The grant the tokens belong to. */
      readonly grantId: string;
    }
  | {
      /** The token endpoint refused a request. */
      readonly type: 'token_refused';
      /** The OAuth error code returned. */
      readonly reason: string;
      /** The client, when it was identified. */
      readonly clientId?: string;
    }
  | {
      /** A used authorization code or refresh token was presented again; its grant was revoked. */
      readonly type: 'replay_detected';
      /** Which kind of credential was replayed. */
      readonly what: 'authorization_code' | 'refresh_token';
      /** The client the credential was issued to. */
      readonly clientId: string;
      /** The revoked grant. */
      readonly grantId: string;
    }
  | {
      /**
       * A used authorization code or refresh token was presented again within the reuse interval by the
       * same client with the same proof: a repeat of the request, answered with the same tokens.
       */
      readonly type: 'repeat_accepted';
      /** Which kind of credential was presented again. */
      readonly what: 'authorization_code' | 'refresh_token';
      /** The client that presented it. */
      readonly clientId: string;
      /** The grant of the credential. */
      readonly grantId: string;
    }
  | {
      /** A token was revoked (RFC 7009). */
      readonly type: 'token_revoked';
      /** The client that revoked it. */
      readonly clientId: string;
      /** The grant it belonged to, when known. */
      readonly grantId?: string;
    }
  | {
      /** A grant and every token issued from it were revoked. */
      readonly type: 'grant_revoked';
      /** The revoked grant. */
      readonly grantId: string;
      /** Why, e.g. refresh-token reuse. */
      readonly reason: string;
    }
  | {
      /** The identity upstream refused a sign-in (wrong PIN, email not allowed, IdP error…). */
      readonly type: 'login_failed';
      /** The upstream's name, e.g. `pin` or `oidc`. */
      readonly upstream: string;
      /** Why, without secrets. */
      readonly reason: string;
    }
  | {
      /** An unexpected error (a bug or a misbehaving plug-in); the request got 500. */
      readonly type: 'internal_error';
      /** The error's name, never its message (which could carry input). */
      readonly message: string;
    }
  | {
      /** A valid authorization request reached the sign-in (a flow started). */
      readonly type: 'authorization_started';
      /** The client that asked. */
      readonly clientId: string;
    }
  | {
      /** A rate limit refused a request (429). PIN attempt limits show as `login_failed`. */
      readonly type: 'rate_limited';
      /** Which limit. */
      readonly limit: 'registration';
    }
  | {
      /** The registration policy refused a registration (RFC 7591 §3.2.2, or 401 without a valid initial access token). */
      readonly type: 'registration_refused';
      /** `initial_access_token`, `invalid_redirect_uri` or `invalid_client_metadata`. */
      readonly reason: string;
    }
  | {
      /** The storage failed or timed out; the request got 503. */
      readonly type: 'storage_error';
      /** The storage operation that failed. */
      readonly operation: string;
      /** A short description, without secrets. */
      readonly message: string;
    };
