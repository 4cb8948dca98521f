import type { Core } from '../context.js';
import { AuthorizationRedirectError, OAuthError, type OAuthErrorCode } from '../errors.js';
import type { ConfiguredResource } from '../rules/resource.js';
import type { ClientRecord } from '../stores/schemas.js';

/**
 * An authorization request (RFC 6749 §4.1.1) as the checks of the authorization endpoint see it: the
 * raw parameters, and what each check has established so far.
 */
export class AuthorizeRequest {
  /** The client (set by the client check). */
  client?: ClientRecord;
  /** The validated redirect URI (set by the redirect check); from here on errors are redirected. */
  redirectUri?: string;
  /** Whether the request named redirect_uri (then /token must repeat it, RFC 6749 §4.1.3). */
  redirectUriSent = false;
  /** The client's `state`, echoed on the redirect (undefined when absent or refused). */
  state?: string;
  /** The S256 PKCE challenge. */
  codeChallenge?: string;
  /** The protected resource the tokens will be bound to (RFC 8707). */
  resource?: ConfiguredResource;
  /** The scopes that will be granted. */
  scopes?: string[];

  constructor(
    readonly core: Core,
    readonly request: Request,
    /** Every parameter but `resource`, each present once. */
    readonly params: ReadonlyMap<string, string>,
    /** The `resource` parameters (RFC 8707 §2 allows the parameter to repeat). */
    readonly resources: readonly string[],
  ) {}

  /**
   * The error refusing the request: redirected to the client once its redirect URI is validated (RFC 6749
   * §4.1.2.1), shown as a page before that.
   */
  refuse(code: OAuthErrorCode, description: string): OAuthError {
    return this.redirectUri !== undefined
      ? new AuthorizationRedirectError(code, description, this.redirectUri, this.state)
      : new OAuthError(code, description);
  }
}

/** One named step of the authorization endpoint: establishes a fact about the request or refuses it. */
export type AuthorizeCheck = (request: AuthorizeRequest) => void | Promise<void>;
