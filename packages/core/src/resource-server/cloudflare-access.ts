import type { Props } from '../types.js';
import {
  CF_ACCESS_ASSERTION_HEADER,
  type CloudflareAccessSettings,
  cloudflareAccessAssertionVerifier,
} from '../upstreams/cloudflare-access-jwt.js';
import type { TokenVerifier, VerificationResult } from './verifier.js';
import { audiences } from './verifier.js';

/** Options of {@link cloudflareAccessVerifier}. */
export interface CloudflareAccessVerifierOptions extends CloudflareAccessSettings {
  /** Scopes granted to every verified request (Access tokens carry none); default none. */
  readonly scopes?: readonly string[];
  /** Derives `props` from the assertion claims. */
  readonly props?: (claims: Readonly<Record<string, unknown>>) => Props;
}

/**
 * Verifies the `Cf-Access-Jwt-Assertion` Cloudflare Access adds after it validated the caller at the
 * edge (Access Managed OAuth, ADR 011): team keys, application `aud`, `exp`. The user and email come
 * from the verified assertion only, never from `Cf-Access-Authenticated-User-Email`.
 *
 * @example
 * ```ts
 * const rs = createResourceServer({
 *   resource: 'https://mcp.example.com/mcp',
 *   authorizationServers: ['https://mcp.example.com'],
 *   verify: cloudflareAccessVerifier({ teamDomain: 'myteam', audience: env.CF_ACCESS_AUD }),
 * });
 * ```
 */
export function cloudflareAccessVerifier(options: CloudflareAccessVerifierOptions): TokenVerifier {
  const verify = cloudflareAccessAssertionVerifier(options);
  return {
    credentialHeader: CF_ACCESS_ASSERTION_HEADER,
    async verify(token, context): Promise<VerificationResult> {
      const result = await verify(token, context.now);
      if (!result.ok) {
        return {
          ok: false,
          reason: result.unavailable ? 'unavailable' : 'invalid',
          description: `The ${result.reason}.`,
        };
      }
      const claims = result.claims as Record<string, unknown>;
      const email = typeof claims.email === 'string' ? claims.email : undefined;
      const clientId =
        typeof claims.client_id === 'string'
          ? claims.client_id
          : typeof claims.common_name === 'string'
            ? claims.common_name
            : '';
      return {
        ok: true,
        token: {
          clientId,
          userId: String(claims.sub),
          ...(email ? { email } : {}),
          scopes: [...(options.scopes ?? [])],
          audiences: audiences(claims.aud),
          expiresAt: typeof claims.exp === 'number' ? claims.exp : 0,
          props: options.props ? options.props(claims) : {},
        },
      };
    },
  };
}
