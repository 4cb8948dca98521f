import { timingSafeEqual } from '../crypto/hash.js';
import type { Identity } from '../types.js';
import type { IdentityUpstream, UpstreamOutcome } from '../upstream.js';
import { type EmailPolicy, emailRefusal, failure } from './shared.js';

/** Options of {@link trustedHeaderUpstream}. Exactly one of `sharedSecret` and `verify`. */
export interface TrustedHeaderUpstreamOptions extends EmailPolicy {
  /** Header carrying the user id, e.g. `X-Forwarded-User`. */
  readonly userHeader: string;
  /** Header carrying the email, e.g. `X-Forwarded-Email`. */
  readonly emailHeader?: string;
  /** Header carrying the display name. */
  readonly nameHeader?: string;
  /**
   * A secret the fronting proxy adds to every request (`header: value`), compared in constant time.
   * At least 32 characters.
   */
  readonly sharedSecret?: { readonly header: string; readonly value: string };
  /** A custom check that the request really came through the proxy (e.g. a signature over headers). */
  readonly verify?: (request: Request) => Promise<boolean>;
}

/**
 * Trusts identity headers set by an authenticating reverse proxy (oauth2-proxy, Pomerium, a corporate
 * SSO gateway), but only on requests that prove they came through it: a shared-secret header compared
 * in constant time, or your own verifier. Without that proof the headers could be forged by anyone.
 *
 * @example
 * ```ts
 * const upstream = trustedHeaderUpstream({
 *   userHeader: 'X-Forwarded-User',
 *   emailHeader: 'X-Forwarded-Email',
 *   sharedSecret: { header: 'X-Proxy-Secret', value: env.PROXY_SECRET },
 * });
 * ```
 */
export function trustedHeaderUpstream(options: TrustedHeaderUpstreamOptions): IdentityUpstream {
  if ((options.sharedSecret === undefined) === (options.verify === undefined)) {
    throw new TypeError('trustedHeaderUpstream: pass exactly one of sharedSecret and verify');
  }
  if (options.sharedSecret && options.sharedSecret.value.length < 32) {
    throw new TypeError('trustedHeaderUpstream: the shared secret must be at least 32 characters');
  }
  async function trusted(request: Request): Promise<boolean> {
    if (options.verify) return options.verify(request);
    const secret = options.sharedSecret!;
    const sent = request.headers.get(secret.header);
    return sent !== null && (await timingSafeEqual(sent, secret.value));
  }
  return {
    name: 'trusted-header',
    routes: [],
    async begin(pending, request, ctx): Promise<Response | UpstreamOutcome> {
      if (!(await trusted(request))) {
        return failure(
          ctx,
          'trusted-header: request did not come through the trusted proxy',
          'Sign-in must go through the organisation proxy.',
          403,
        );
      }
      const userId = request.headers.get(options.userHeader)?.trim();
      if (!userId)
        return failure(ctx, 'trusted-header: no user header', 'The proxy did not identify the user.', 403);
      const email = options.emailHeader
        ? request.headers.get(options.emailHeader)?.trim() || undefined
        : undefined;
      const refusal = emailRefusal(email, true, options);
      if (refusal) {
        ctx.loginFailed(`trusted-header: ${refusal}`);
        return { type: 'denied', pendingId: pending.id, reason: `Sign-in refused: ${refusal}` };
      }
      const name = options.nameHeader
        ? request.headers.get(options.nameHeader)?.trim() || undefined
        : undefined;
      const identity: Identity = { userId, ...(email ? { email } : {}), ...(name ? { name } : {}) };
      return { type: 'identity', pendingId: pending.id, identity };
    },
    async handle(_request, ctx): Promise<UpstreamOutcome> {
      return failure(ctx, 'trusted-header: unexpected route', 'Not found.', 404);
    },
  };
}
