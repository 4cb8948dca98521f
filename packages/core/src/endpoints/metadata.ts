import type { Core } from '../context.js';
import { jsonResponse } from '../errors.js';
import { CORS_HEADERS } from '../http.js';

const METADATA_HEADERS = { ...CORS_HEADERS, 'Cache-Control': 'public, max-age=3600' };

/** RFC 8414 §2 authorization server metadata, advertising exactly what this server supports. */
export function authorizationServerMetadata(core: Core): Response {
  const { config } = core;
  const authMethods = ['client_secret_basic', 'client_secret_post', 'none'];
  const body: Record<string, unknown> = {
    issuer: config.issuer,
    authorization_endpoint: core.endpoint('/authorize'),
    token_endpoint: core.endpoint('/token'),
    revocation_endpoint: core.endpoint('/revoke'),
    introspection_endpoint: core.endpoint('/introspect'),
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: ['authorization_code', 'refresh_token'],
    token_endpoint_auth_methods_supported: authMethods,
    revocation_endpoint_auth_methods_supported: authMethods,
    introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    // OAuth 2.1 §4.1.1 / RFC 7636: S256 only, plain is refused.
    code_challenge_methods_supported: ['S256'],
    scopes_supported: config.scopesSupported,
    // RFC 9207 §3: `iss` is returned in every authorization response.
    authorization_response_iss_parameter_supported: true,
  };
  if (config.registration.enabled) body.registration_endpoint = core.endpoint('/register');
  if (config.clientIdMetadataDocuments.enabled) body.client_id_metadata_document_supported = true;
  return jsonResponse(body, 200, METADATA_HEADERS);
}

/** The well-known paths under which the AS metadata is served (RFC 8414 §3.1 and the OIDC alias). */
export function metadataPaths(core: Core): Set<string> {
  const base = core.basePath;
  const paths = new Set<string>([
    `/.well-known/oauth-authorization-server${base}`,
    `/.well-known/openid-configuration${base}`,
    // OpenID Connect Discovery §4 appends the well-known suffix to the issuer path.
    `${base}/.well-known/openid-configuration`,
    `${base}/.well-known/oauth-authorization-server`,
  ]);
  return paths;
}

/** Strips one trailing slash, so `https://x/mcp/` and `https://x/mcp` name the same resource. */
export const withoutTrailingSlash = (value: string): string =>
  value.length > 1 && value.endsWith('/') ? value.slice(0, -1) : value;

/**
 * RFC 9728 §3: protected-resource metadata at `/.well-known/oauth-protected-resource` + the resource
 * path; the bare well-known answers for the first resource. Returns `null` for other paths.
 */
export function protectedResourceMetadata(core: Core, pathname: string): Response | null {
  const prefix = '/.well-known/oauth-protected-resource';
  if (pathname !== prefix && !pathname.startsWith(`${prefix}/`)) return null;
  const suffix = withoutTrailingSlash(pathname.slice(prefix.length));
  const resources = core.config.resources;
  const match =
    suffix === '' || suffix === '/'
      ? (resources.find((r) => r.path === '/') ?? resources[0])
      : resources.find((r) => withoutTrailingSlash(r.path) === suffix);
  if (!match) return null;
  const body: Record<string, unknown> = {
    resource: match.resource,
    authorization_servers: [core.config.issuer],
    scopes_supported: match.scopes,
    bearer_methods_supported: ['header'],
  };
  if (match.name) body.resource_name = match.name;
  return jsonResponse(body, 200, METADATA_HEADERS);
}

/** The RFC 9728 metadata URL of a resource, for `WWW-Authenticate: Bearer resource_metadata=…`. */
export function resourceMetadataUrl(core: Core, resourcePath: string): string {
  const path = resourcePath === '/' ? '' : withoutTrailingSlash(resourcePath);
  return `${core.config.issuerUrl.origin}/.well-known/oauth-protected-resource${path}`;
}
