import type { Identity, Props } from '../types.js';
import type { IdentityUpstream, UpstreamOutcome } from '../upstream.js';
import {
  CF_ACCESS_ASSERTION_HEADER,
  type CloudflareAccessSettings,
  cloudflareAccessAssertionVerifier,
} from './cloudflare-access-jwt.js';
import { type EmailPolicy, emailRefusal, failure } from './shared.js';

/** Options of {@link cloudflareAccessUpstream}. */
export interface CloudflareAccessUpstreamOptions extends CloudflareAccessSettings, EmailPolicy {
  /** Which claim becomes the user id: the Access `sub` (default) or the `email`. */
  readonly userId?: 'sub' | 'email';
  /** Adds application data to the grant from the verified assertion claims. */
  readonly props?: (claims: Readonly<Record<string, unknown>>) => Props;
}

/**
 * Takes the user from Cloudflare Access, which sits in front of `/authorize`: the identity comes only
 * from the verified `Cf-Access-Jwt-Assertion` (team keys, application `aud`), never from the bare
 * `Cf-Access-Authenticated-User-Email` header, which anyone reaching the origin directly could forge.
 * No redirect is needed: `begin` returns the identity directly.
 *
 * @example
 * ```ts
 * const upstream = cloudflareAccessUpstream({ teamDomain: 'myteam', audience: env.CF_ACCESS_AUD });
 * ```
 */
export function cloudflareAccessUpstream(options: CloudflareAccessUpstreamOptions): IdentityUpstream {
  const verify = cloudflareAccessAssertionVerifier(options);
  return {
    name: 'cloudflare-access',
    routes: [],
    async begin(pending, request, ctx): Promise<Response | UpstreamOutcome> {
      const assertion = request.headers.get(CF_ACCESS_ASSERTION_HEADER);
      if (!assertion) {
        return failure(
          ctx,
          'cloudflare-access: no assertion',
          'This page must be reached through Cloudflare Access.',
          403,
        );
      }
      const result = await verify(assertion, ctx.now());
      if (!result.ok) {
        return failure(
          ctx,
          `cloudflare-access: ${result.reason}`,
          result.unavailable
            ? 'Cloudflare Access could not be verified; try again later.'
            : 'The Cloudflare Access sign-in is not valid for this application.',
          result.unavailable ? 502 : 403,
        );
      }
      const claims = result.claims;
      const email = typeof claims.email === 'string' ? claims.email : undefined;
      // Access only issues application tokens after the IdP authenticated the email.
      const refusal = emailRefusal(email, true, options);
      if (refusal) {
        ctx.loginFailed(`cloudflare-access: ${refusal}`);
        return { type: 'denied', pendingId: pending.id, reason: `Sign-in refused: ${refusal}` };
      }
      const userId = options.userId === 'email' ? email : claims.sub;
      if (!userId)
        return failure(
          ctx,
          'cloudflare-access: no subject',
          'The Cloudflare Access sign-in has no user.',
          403,
        );
      const identity: Identity = {
        userId,
        ...(email ? { email } : {}),
        ...(options.props ? { props: options.props(claims as Record<string, unknown>) } : {}),
      };
      return { type: 'identity', pendingId: pending.id, identity };
    },
    async handle(_request, ctx): Promise<UpstreamOutcome> {
      return failure(ctx, 'cloudflare-access: unexpected route', 'Not found.', 404);
    },
  };
}
