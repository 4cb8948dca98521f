import type { Core } from '../context.js';
import { jsonResponse, OAuthError } from '../errors.js';
import { PKCE_METHODS } from '../rules/pkce.js';
import type { ConfiguredResource } from '../rules/resource.js';
import { protectedResourceMetadataUrl, withoutTrailingSlash } from '../rules/resource.js';
import { RESPONSE_TYPES } from '../rules/response-type.js';
import { OFFLINE_ACCESS } from '../rules/scope.js';

const METADATA_CACHE = { 'Cache-Control': 'public, max-age=3600' };

/** What the metadata is derived from besides the configuration. */
export interface MetadataSources {
  /** The grant types the token endpoint offers (from the registry). */
  readonly grantTypes: readonly string[];
  /** The client authentication methods of the token endpoint. */
  readonly authMethods: readonly string[];
  /** Members the server's extensions add. */
  extra(): Readonly<Record<string, unknown>>;
}

/** RFC 8414 §2 authorization server metadata, advertising exactly what this server supports. */
export function authorizationServerMetadata(core: Core, sources: MetadataSources): Response {
  const { config } = core;
  const body: Record<string, unknown> = {
    ...sources.extra(),
    issuer: config.issuer,
    authorization_endpoint: core.endpoint('/authorize'),
    token_endpoint: core.endpoint('/token'),
    revocation_endpoint: core.endpoint('/revoke'),
    introspection_endpoint: core.endpoint('/introspect'),
    response_types_supported: RESPONSE_TYPES,
    response_modes_supported: ['query'],
    grant_types_supported: sources.grantTypes,
    token_endpoint_auth_methods_supported: sources.authMethods,
    revocation_endpoint_auth_methods_supported: sources.authMethods,
    introspection_endpoint_auth_methods_supported: sources.authMethods.filter((m) => m !== 'none'),
    code_challenge_methods_supported: PKCE_METHODS,
    // SEP-2207: offline_access (the refresh-token wish) is advertised here, and only here.
    scopes_supported: sources.grantTypes.includes('refresh_token')
      ? [...config.scopesSupported, OFFLINE_ACCESS]
      : config.scopesSupported,
    // RFC 9207 §3: `iss` is returned in every authorization response.
    authorization_response_iss_parameter_supported: true,
  };
  if (config.registration.enabled) body.registration_endpoint = core.endpoint('/register');
  if (config.clientIdMetadataDocuments.enabled) body.client_id_metadata_document_supported = true;
  return jsonResponse(body, 200, METADATA_CACHE);
}

/** The well-known paths under which the AS metadata is served (RFC 8414 §3.1 and the OIDC alias). */
export function metadataPaths(core: Core): string[] {
  const base = core.basePath;
  return [
    ...new Set([
      `/.well-known/oauth-authorization-server${base}`,
      `/.well-known/openid-configuration${base}`,
      // OpenID Connect Discovery §4 appends the well-known suffix to the issuer path.
      `${base}/.well-known/openid-configuration`,
      `${base}/.well-known/oauth-authorization-server`,
    ]),
  ];
}

/** Path prefix of RFC 9728 protected-resource metadata. */
export const PRM_PREFIX = '/.well-known/oauth-protected-resource';

/** The configured resource whose metadata a well-known path names (RFC 9728 §3.1), or `undefined`. */
export function resourceForMetadataPath(core: Core, pathname: string): ConfiguredResource | undefined {
  if (pathname !== PRM_PREFIX && !pathname.startsWith(`${PRM_PREFIX}/`)) return undefined;
  const suffix = withoutTrailingSlash(pathname.slice(PRM_PREFIX.length));
  const { resources } = core.config;
  // The bare well-known answers for the resource at the root, or the first one.
  if (suffix === '' || suffix === '/') return resources.find((r) => r.path === '/') ?? resources[0];
  return resources.find((r) => withoutTrailingSlash(r.path) === suffix);
}

/** RFC 9728 §3: the protected-resource metadata of the resource a well-known path names. */
export function protectedResourceMetadata(core: Core, pathname: string): Response {
  const match = resourceForMetadataPath(core, pathname);
  if (!match) throw new OAuthError('not_found', 'No protected resource at this path', 404);
  const body: Record<string, unknown> = {
    resource: match.resource,
    authorization_servers: [core.config.issuer],
    // RFC 9728 §2: the baseline a client requests first; further accepted scopes come by step-up.
    scopes_supported: match.advertisedScopes,
    bearer_methods_supported: ['header'],
  };
  if (match.name) body.resource_name = match.name;
  // RFC 9728 §2: the DPoP algorithms the resource accepts.
  if (core.resourceProof) body.dpop_signing_alg_values_supported = core.resourceProof.algorithms;
  return jsonResponse(body, 200, METADATA_CACHE);
}

/** The RFC 9728 metadata URL of a configured resource, served on the issuer's origin. */
export const resourceMetadataUrl = (core: Core, resource: ConfiguredResource): string =>
  protectedResourceMetadataUrl(`${core.config.issuerUrl.origin}${resource.path}`);
