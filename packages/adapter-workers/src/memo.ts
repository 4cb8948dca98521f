import type {
  AuthenticateOptions,
  AuthenticateResult,
  Authenticator,
  ChallengeOptions,
  TokenInfo,
} from '@portcullis/core';

/**
 * An {@link Authenticator} that remembers the token verified for a request object, so a handler that
 * authenticates again (like `mcpProxy`) costs no second storage round trip. A remembered result is
 * reused only when it already satisfies the options asked for; anything else goes to `inner`.
 */
export class RequestAuthenticator implements Authenticator {
  readonly #inner: Authenticator;
  readonly #verified = new WeakMap<Request, TokenInfo>();

  constructor(inner: Authenticator) {
    this.#inner = inner;
  }

  /** Records that `request` carried the verified token `info`. */
  remember(request: Request, info: TokenInfo): void {
    this.#verified.set(request, info);
  }

  async authenticate(request: Request, options: AuthenticateOptions = {}): Promise<AuthenticateResult> {
    const info = this.#verified.get(request);
    if (
      info &&
      (options.resource === undefined || options.resource === info.resource) &&
      (options.requiredScopes ?? []).every((s) => info.scopes.includes(s))
    ) {
      return { ok: true, info };
    }
    return this.#inner.authenticate(request, options);
  }

  challenge(request: Request, options?: ChallengeOptions): Response {
    return this.#inner.challenge(request, options);
  }

  protectedResourceMetadata(request: Request): Promise<Response | null> {
    return this.#inner.protectedResourceMetadata(request);
  }
}
