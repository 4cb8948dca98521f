import { oauthErrorResponse } from '../errors.js';
import { type ChallengeOptions, challengeResponse } from '../resource/challenge.js';
import { guardRequest, type ResourceGuard } from '../resource/guard.js';
import type { ResourceProofCheck } from '../resource/proof.js';
import { protectedResourceMetadataUrl } from '../rules/resource.js';
import { resourceScopes } from '../rules/scope.js';
import type { AuthenticateOptions, AuthenticateResult, Authenticator, TokenInfo } from '../types.js';
import type { TokenVerifier } from './verifier.js';

/** Options of {@link createResourceServer}. */
export interface ResourceServerOptions {
  /** This resource's identifier (RFC 8707 / RFC 9728 `resource`), e.g. `https://mcp.example.com/mcp`. */
  readonly resource: string;
  /** Issuer identifiers of the external authorization server(s) (RFC 9728 `authorization_servers`). */
  readonly authorizationServers: readonly string[];
  /** How tokens are checked: {@link jwtVerifier}, {@link introspectionVerifier} or your own. */
  readonly verify: TokenVerifier;
  /** Scopes advertised in the metadata (`scopes_supported`). */
  readonly scopesSupported?: readonly string[];
  /** Scopes every request needs unless `authenticate` is told otherwise. */
  readonly requiredScopes?: readonly string[];
  /** Human-readable name (`resource_name`). */
  readonly resourceName?: string;
  /** URL of developer documentation (`resource_documentation`). */
  readonly resourceDocumentation?: string;
  /** Clock in epoch ms; default `Date.now`. */
  readonly now?: () => number;
  /** Audit hook: called with the reason whenever a token is refused. Never receives the token. */
  readonly onRefused?: (reason: string) => void;
  /**
   * Checks DPoP proofs of DPoP-bound tokens (RFC 9449 §7), e.g. `dpopResourceProof` of
   * `@portcullis/core/extensions`. Without it a bound token is refused.
   */
  readonly dpop?: ResourceProofCheck;
}

/** A resource server in front of an external authorization server (ADR 011, resource-server-only mode). */
export interface ResourceServer extends Authenticator {
  /** The RFC 9728 metadata document this resource serves. */
  readonly metadata: Readonly<Record<string, unknown>>;
  /** The absolute URL the metadata is served at. */
  readonly metadataUrl: string;
}

const METADATA_PREFIX = '/.well-known/oauth-protected-resource';

/**
 * Creates a resource server that only verifies tokens issued by an external authorization server
 * (Cloudflare Access Managed OAuth, Auth0, Keycloak…): it serves RFC 9728 protected-resource metadata
 * pointing at that server, and `authenticate` checks the bearer token with the configured verifier,
 * answering 401/403 with the `WWW-Authenticate` challenge MCP clients use for discovery.
 *
 * @example
 * ```ts
 * const rs = createResourceServer({
 *   resource: 'https://mcp.example.com/mcp',
 *   authorizationServers: ['https://auth.example.com'],
 *   verify: jwtVerifier({ jwksUrl: 'https://auth.example.com/jwks', issuer: 'https://auth.example.com' }),
 *   scopesSupported: ['mcp'],
 * });
 * const result = await rs.authenticate(request);
 * if (!result.ok) return result.response;
 * ```
 */
export function createResourceServer(options: ResourceServerOptions): ResourceServer {
  const resourceUrl = new URL(options.resource);
  if (resourceUrl.hash) throw new TypeError('createResourceServer: resource must not contain a fragment');
  if (options.authorizationServers.length === 0) {
    throw new TypeError('createResourceServer: name at least one authorization server');
  }
  const resource = options.resource;
  const now = options.now ?? Date.now;
  const metadataUrl = protectedResourceMetadataUrl(resource);
  const metadataPath = new URL(metadataUrl).pathname;
  // RFC 9728 §2: the metadata document.
  const metadata: Record<string, unknown> = {
    resource,
    authorization_servers: [...options.authorizationServers],
    bearer_methods_supported: ['header'],
    // RFC 9728 §2: the DPoP algorithms this resource accepts.
    ...(options.dpop ? { dpop_signing_alg_values_supported: [...options.dpop.algorithms] } : {}),
    // SEP-2207: offline_access is not a resource scope, so it is never advertised here.
    ...(options.scopesSupported ? { scopes_supported: resourceScopes(options.scopesSupported) } : {}),
    ...(options.resourceName ? { resource_name: options.resourceName } : {}),
    ...(options.resourceDocumentation ? { resource_documentation: options.resourceDocumentation } : {}),
  };
  const body = JSON.stringify(metadata);

  const guard: ResourceGuard = {
    // MCP 2025-11-25: the 401 names the scopes a client should ask for: those every request needs, else the advertised ones.
    target: (_request, wanted) => ({
      metadataUrl,
      scopes: options.requiredScopes ?? options.scopesSupported ?? [],
      resource: wanted ?? resource,
      ...(options.dpop ? { dpopAlgorithms: options.dpop.algorithms } : {}),
    }),
    async verify(token, expected) {
      const result = await options.verify.verify(token, { resource: expected, now: now() });
      if (!result.ok) return result;
      const verified = result.token;
      const info: TokenInfo = {
        token,
        clientId: verified.clientId,
        userId: verified.userId,
        ...(verified.email ? { email: verified.email } : {}),
        ...(verified.name ? { name: verified.name } : {}),
        scopes: verified.scopes,
        resource: expected,
        props: verified.props,
        expiresAt: verified.expiresAt,
        ...(verified.cnf ? { cnf: verified.cnf } : {}),
      };
      return { ok: true, info };
    },
    ...(options.verify.credentialHeader ? { credentialHeader: options.verify.credentialHeader } : {}),
    ...(options.onRefused ? { onRefused: options.onRefused } : {}),
    ...(options.dpop ? { proof: options.dpop } : {}),
  };

  return {
    metadata,
    metadataUrl,

    async protectedResourceMetadata(request: Request): Promise<Response | null> {
      const url = new URL(request.url);
      if (url.pathname !== metadataPath && url.pathname !== METADATA_PREFIX) return null;
      const cors = {
        'access-control-allow-origin': '*',
        'access-control-allow-methods': 'GET, OPTIONS',
        'access-control-allow-headers': 'mcp-protocol-version',
      };
      if (request.method === 'OPTIONS') return new Response(null, { status: 204, headers: cors });
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        return oauthErrorResponse('method_not_allowed', 'Use GET for this endpoint', 405, {
          Allow: 'GET, HEAD, OPTIONS',
        });
      }
      return new Response(request.method === 'HEAD' ? null : body, {
        headers: { 'content-type': 'application/json', 'cache-control': 'public, max-age=3600', ...cors },
      });
    },

    authenticate(request: Request, authOptions: AuthenticateOptions = {}): Promise<AuthenticateResult> {
      const required = authOptions.requiredScopes ?? options.requiredScopes;
      return guardRequest(guard, request, {
        ...authOptions,
        ...(required ? { requiredScopes: required } : {}),
      });
    },

    challenge(request: Request, challenge: ChallengeOptions = {}): Response {
      return challengeResponse(guard.target(request, challenge.resource), challenge);
    },
  };
}
