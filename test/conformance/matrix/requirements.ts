/**
 * The MCP authorization conformance matrix: every normative requirement the MCP specification puts on
 * the authorization server (AS) and on the protected resource (RS), per revision. Client-only
 * requirements are left out. Each entry is enabled from the revision that introduced it (`since`) up
 * to the last one that still states it (`until`, default the latest); the area's test file runs it
 * once per revision in that range. Entries with `untested` have no black-box test and say why.
 */
import { describe, it } from 'vitest';

/** The MCP revisions that define authorization, oldest first. */
export const REVISIONS = ['2025-03-26', '2025-06-18', '2025-11-25', '2026-07-28'] as const;
export type Revision = (typeof REVISIONS)[number];
export const LATEST: Revision = '2026-07-28';

/** One test file per area. */
export const AREAS = {
  discovery: 'discovery.test.ts',
  'as-metadata': 'as-metadata.test.ts',
  registration: 'registration.test.ts',
  authorization: 'authorization.test.ts',
  token: 'token.test.ts',
  resource: 'resource.test.ts',
} as const;
export type Area = keyof typeof AREAS;

/** A normative requirement of the MCP authorization specification. */
export interface Requirement {
  readonly id: string;
  readonly area: Area;
  /** Who must do it: the authorization server or the protected resource (MCP server). */
  readonly role: 'AS' | 'RS';
  /** RFC 2119 level, with its changes across revisions. */
  readonly level: string;
  readonly since: Revision;
  /** The last revision that states it; default the latest. */
  readonly until?: Revision;
  /** The revision that deprecated it (it still applies). */
  readonly deprecated?: Revision;
  /** Where the introducing revision states it (page › heading). */
  readonly section: string;
  /** Where 2026-07-28 states it, when the text moved (the authorization page was split). */
  readonly latest?: string;
  /** The SEP, PR or RFC the requirement comes from, when not the MCP text alone. */
  readonly source?: string;
  /** Short name, used as the test name. */
  readonly title: string;
  /** What the specification asks, paraphrased. */
  readonly text: string;
  /** Why there is no black-box test, when there is none. */
  readonly untested?: string;
}

const AUTHZ = 'basic/authorization';
const DISCOVERY_2026 = 'basic/authorization/authorization-server-discovery';
const REGISTRATION_2026 = 'basic/authorization/client-registration';
const SECURITY_2026 = 'basic/authorization/security-considerations';
const INDEX_2026 = 'basic/authorization';

export const REQUIREMENTS: readonly Requirement[] = [
  // ── Discovery: protected-resource metadata (RFC 9728) ───────────────────────────────────────────
  {
    id: 'DISC-PRM-DOC',
    area: 'discovery',
    role: 'RS',
    level: 'MUST',
    since: '2025-06-18',
    section: `${AUTHZ} › Authorization Server Discovery › Authorization Server Location`,
    latest: `${DISCOVERY_2026} › Authorization Server Location`,
    source: 'PR #338; RFC 9728 §3',
    title: 'protected-resource metadata names the resource and at least one authorization server',
    text: 'MCP servers implement RFC 9728; the metadata document includes `authorization_servers` with at least one authorization server, and its `resource` is identical to the resource identifier the well-known URL was built from (RFC 9728 §3.3).',
  },
  {
    id: 'DISC-PRM-401',
    area: 'discovery',
    role: 'RS',
    level: 'MUST (2025-06-18); MUST implement it or the well-known URI (2025-11-25+)',
    since: '2025-06-18',
    section: `${AUTHZ} › Authorization Server Discovery › Authorization Server Location`,
    latest: `${DISCOVERY_2026} › Protected Resource Metadata Discovery Requirements`,
    source: 'RFC 9728 §5.1',
    title: 'a 401 points at the metadata with WWW-Authenticate resource_metadata',
    text: 'A 401 carries `WWW-Authenticate: Bearer resource_metadata="…"` and that URL serves the metadata of the resource that answered.',
  },
  {
    id: 'DISC-PRM-SUFFIX',
    area: 'discovery',
    role: 'RS',
    level: 'MUST implement it or the 401 header',
    since: '2025-11-25',
    section: `${AUTHZ} › Authorization Server Discovery › Protected Resource Metadata Discovery Requirements`,
    latest: `${DISCOVERY_2026} › Protected Resource Metadata Discovery Requirements`,
    source: 'SEP-985; RFC 9728 §3.1',
    title: 'path-suffixed well-known URI serves the metadata of a resource with a path',
    text: 'A resource at `/public/mcp` serves its metadata at `/.well-known/oauth-protected-resource/public/mcp`, found by a client that never saw the 401.',
  },
  {
    id: 'DISC-PRM-ROOT',
    area: 'discovery',
    role: 'RS',
    level: 'MUST implement it or the 401 header',
    since: '2025-11-25',
    section: `${AUTHZ} › Authorization Server Discovery › Protected Resource Metadata Discovery Requirements`,
    latest: `${DISCOVERY_2026} › Protected Resource Metadata Discovery Requirements`,
    source: 'SEP-985; RFC 9728 §3.1',
    title: 'root well-known URI serves the metadata of a resource at the origin',
    text: 'A resource served at the origin root answers `/.well-known/oauth-protected-resource` with metadata naming the origin as `resource` and the authorization server.',
  },
  {
    id: 'DISC-CANONICAL-NO-SLASH',
    area: 'discovery',
    role: 'RS',
    level: 'SHOULD',
    since: '2025-06-18',
    section: `${AUTHZ} › Resource Parameter Implementation › Canonical Server URI`,
    latest: `${INDEX_2026} › Canonical Server URI`,
    source: 'RFC 9728 §3.3',
    title: 'the resource identifier of an origin resource has no trailing slash',
    text: 'Implementations consistently use the form without the trailing slash: an MCP server at the origin is `https://host`, in PRM `resource` (which a strict client compares with the identifier it used, RFC 9728 §3.3).',
  },
  {
    id: 'DISC-PRM-SCOPE',
    area: 'discovery',
    role: 'RS',
    level: 'SHOULD',
    since: '2025-11-25',
    section: `${AUTHZ} › Authorization Server Discovery › Protected Resource Metadata Discovery Requirements`,
    latest: `${INDEX_2026} › Scope Selection Strategy`,
    source: 'SEP-835; RFC 6750 §3',
    title: 'the 401 challenge carries scope guidance',
    text: 'MCP servers include `scope` in the 401 `WWW-Authenticate` challenge to indicate the scopes required for accessing the resource; the scopes are ones the authorization server grants.',
  },
  {
    id: 'DISC-PRM-BASELINE',
    area: 'discovery',
    role: 'RS',
    level: 'SHOULD (intent of scopes_supported)',
    since: '2025-11-25',
    section: `${AUTHZ} › Scope Selection Strategy`,
    latest: `${INDEX_2026} › Scope Selection Strategy`,
    source: 'RFC 9728 §2 (`scopes_supported`); issue 11',
    title: 'scopes_supported advertises the baseline while step-up scopes stay accepted',
    text: '`scopes_supported` represents the minimal set for basic functionality, further scopes being requested by step-up; so a resource advertises a baseline (PRM `scopes_supported` and the 401 `scope`) separate from the scopes it accepts, and a token with an accepted non-baseline scope is issued and works.',
  },
  {
    id: 'REF-OFFLINE-PRM',
    area: 'discovery',
    role: 'RS',
    level: 'SHOULD NOT',
    since: '2026-07-28',
    section: `${INDEX_2026} › Refresh Tokens`,
    source: 'SEP-2207',
    title: 'offline_access is never in protected-resource metadata',
    text: 'MCP servers do not include `offline_access` in Protected Resource Metadata `scopes_supported`: refresh tokens are not a resource requirement.',
  },
  // ── Authorization server metadata (RFC 8414, OIDC Discovery) ────────────────────────────────────
  {
    id: 'ASM-RFC8414',
    area: 'as-metadata',
    role: 'AS',
    level: 'SHOULD (2025-03-26); MUST (2025-06-18); MUST serve RFC 8414 or OIDC Discovery (2025-11-25+)',
    since: '2025-03-26',
    section: `${AUTHZ} › Authorization Flow › Server Metadata Discovery`,
    latest: `${INDEX_2026} › Overview (5)`,
    source: 'RFC 8414 §3',
    title: 'RFC 8414 metadata with the identical issuer and the endpoints',
    text: 'The authorization server serves RFC 8414 metadata at `/.well-known/oauth-authorization-server` (with `issuer` identical to the issuer, RFC 8414 §3.3), naming the authorization and token endpoints and `response_types_supported`.',
  },
  {
    id: 'ASM-BASE-URL',
    area: 'as-metadata',
    role: 'AS',
    level: 'MUST',
    since: '2025-03-26',
    until: '2025-03-26',
    section: `${AUTHZ} › Server Metadata Discovery › Authorization Base URL`,
    title: 'metadata at the authorization base URL of the MCP server',
    text: 'The metadata endpoint is at the MCP server URL with its path discarded (`https://host/.well-known/oauth-authorization-server` for `https://host/v1/mcp`), so the authorization server is reachable from the MCP server origin.',
  },
  {
    id: 'ASM-DEFAULT-PATHS',
    area: 'as-metadata',
    role: 'AS',
    level: 'MUST (servers without metadata)',
    since: '2025-03-26',
    until: '2025-03-26',
    section: `${AUTHZ} › Server Metadata Discovery › Fallbacks for Servers without Metadata Discovery`,
    title: 'default endpoint paths when no metadata is served',
    text: 'Servers that do not implement RFC 8414 serve `/authorize`, `/token` and `/register` at the authorization base URL.',
    untested: 'not applicable: Portcullis always serves metadata (ASM-RFC8414, ASM-BASE-URL)',
  },
  {
    id: 'ASM-PATH-INSERT',
    area: 'as-metadata',
    role: 'AS',
    level: 'MUST (follow RFC 8414)',
    since: '2025-06-18',
    section: `${AUTHZ} › Authorization Server Discovery › Server Metadata Discovery`,
    latest: `${DISCOVERY_2026} › Authorization Server Metadata Discovery`,
    source: 'RFC 8414 §3.1',
    title: 'an issuer with a path serves its metadata by path insertion',
    text: 'For an issuer `https://host/tenant1` the metadata is at `https://host/.well-known/oauth-authorization-server/tenant1`, with `issuer` identical to `https://host/tenant1`.',
  },
  {
    id: 'ASM-OIDC-FALLBACKS',
    area: 'as-metadata',
    role: 'AS',
    level: 'MUST (clients try them in order; the AS serves at least one)',
    since: '2025-11-25',
    section: `${AUTHZ} › Authorization Server Discovery › Authorization Server Metadata Discovery`,
    latest: `${DISCOVERY_2026} › Authorization Server Metadata Discovery`,
    source: 'PR #797; RFC 8414 §5; OIDC Discovery §4',
    title: 'OpenID Connect discovery by path insertion and appending answers with the same issuer',
    text: 'Every URL a client tries answers with the identical issuer: `/.well-known/openid-configuration/tenant1` (insertion) and `/tenant1/.well-known/openid-configuration` (appending) for a path issuer, `/.well-known/openid-configuration` for a root issuer.',
  },
  {
    id: 'ASM-PKCE-METHODS',
    area: 'as-metadata',
    role: 'AS',
    level: 'MUST (clients refuse to proceed without it; an AS serving OIDC Discovery MUST include it)',
    since: '2025-11-25',
    section: `${AUTHZ} › Security Considerations › Authorization Code Protection`,
    latest: `${SECURITY_2026} › Authorization Code Protection`,
    title: 'code_challenge_methods_supported lists S256 in both discovery documents',
    text: '`code_challenge_methods_supported` is present and contains `S256` in the RFC 8414 document and in the OpenID Connect discovery document.',
  },
  {
    id: 'ASM-ISS-SUPPORTED',
    area: 'as-metadata',
    role: 'AS',
    level: 'MUST (when iss is sent)',
    since: '2026-07-28',
    section: `${INDEX_2026} › Authorization Flow Steps › Authorization Response Validation`,
    source: 'SEP-2468; RFC 9207 §3',
    title: 'authorization_response_iss_parameter_supported is true',
    text: 'Authorization servers that include `iss` in authorization responses advertise `authorization_response_iss_parameter_supported: true`.',
  },
  {
    id: 'ASM-CIMD-SUPPORTED',
    area: 'as-metadata',
    role: 'AS',
    level: 'SHOULD (support CIMD) — advertised in metadata',
    since: '2025-11-25',
    section: `${AUTHZ} › Client Registration Approaches › Client ID Metadata Documents › Discovery`,
    latest: `${REGISTRATION_2026} › Advertising CIMD Support`,
    source: 'SEP-991',
    title: 'client_id_metadata_document_supported is true',
    text: 'An authorization server that accepts Client ID Metadata Documents says so with `client_id_metadata_document_supported: true`.',
  },
  {
    id: 'ASM-REGISTRATION-ENDPOINT',
    area: 'as-metadata',
    role: 'AS',
    level: 'SHOULD (2025-03-26, 2025-06-18); MAY (2025-11-25+)',
    since: '2025-03-26',
    section: `${AUTHZ} › Dynamic Client Registration`,
    latest: `${REGISTRATION_2026} › Client Registration (priority order)`,
    source: 'RFC 8414 §2',
    title: 'registration_endpoint is advertised while registration is enabled',
    text: 'Clients register dynamically when the metadata has `registration_endpoint`; it is present and points at the working endpoint.',
  },
  {
    id: 'ASM-GRANTS',
    area: 'as-metadata',
    role: 'AS',
    level: 'MUST',
    since: '2025-03-26',
    section: `${AUTHZ} › Authorization Flow › Overview (1)`,
    latest: `${INDEX_2026} › Overview (1)`,
    source: 'OAuth 2.1 §4.1, §2.4',
    title: 'code grant for public and confidential clients is advertised',
    text: 'Authorization servers implement OAuth 2.1 for both confidential and public clients: `response_types_supported` has `code`, `grant_types_supported` has `authorization_code` and `refresh_token`, `token_endpoint_auth_methods_supported` has `none` and a client-secret method.',
  },
  {
    id: 'REF-OFFLINE-AS',
    area: 'as-metadata',
    role: 'AS',
    level: 'MAY (clients add it when the AS advertises it)',
    since: '2026-07-28',
    section: `${INDEX_2026} › Refresh Tokens`,
    source: 'SEP-2207',
    title: 'offline_access is advertised in AS metadata only',
    text: 'When the server supports `offline_access`, it is in the AS metadata `scopes_supported`, where clients look for it before adding it to the authorization request.',
  },
  {
    id: 'SEC-HTTPS',
    area: 'as-metadata',
    role: 'AS',
    level: 'MUST',
    since: '2025-03-26',
    section: `${AUTHZ} › Security Considerations (3)`,
    latest: `${SECURITY_2026} › Communication Security`,
    source: 'OAuth 2.1 §1.5',
    title: 'every authorization server endpoint is served over https',
    text: 'All authorization server endpoints are served over HTTPS: an http issuer is refused (loopback excepted, for development) and every advertised endpoint is under the https issuer.',
  },
  // ── Client registration: DCR and CIMD ───────────────────────────────────────────────────────────
  {
    id: 'REG-DCR',
    area: 'registration',
    role: 'AS',
    level: 'SHOULD (2025-03-26, 2025-06-18); MAY (2025-11-25); MAY, deprecated (2026-07-28)',
    since: '2025-03-26',
    deprecated: '2026-07-28',
    section: `${AUTHZ} › Dynamic Client Registration`,
    latest: `${REGISTRATION_2026} › Dynamic Client Registration`,
    source: 'RFC 7591 §3; PR #2858 (deprecation)',
    title: 'dynamic client registration still works end to end',
    text: 'POST to the registration endpoint returns 201 with a `client_id` and the registered metadata (RFC 7591 §3.2.1), and that client completes the authorization code flow. Deprecated in 2026-07-28, kept for backwards compatibility.',
  },
  {
    id: 'REG-DCR-ERRORS',
    area: 'registration',
    role: 'AS',
    level: 'MUST (clients handle the refusal; the AS gives a reason)',
    since: '2025-03-26',
    section: `${AUTHZ} › Dynamic Client Registration`,
    latest: `${REGISTRATION_2026} › Application Type and Redirect URI Constraints`,
    source: 'RFC 7591 §3.2.2; SEP-837',
    title: 'a refused registration says why (invalid_redirect_uri)',
    text: 'A registration refused for its redirect URIs answers 400 `invalid_redirect_uri` with an `error_description` the client can surface.',
  },
  {
    id: 'REG-APPTYPE-NATIVE',
    area: 'registration',
    role: 'AS',
    level: 'MUST (clients send it); the AS accepts native redirect URIs',
    since: '2026-07-28',
    section: `${REGISTRATION_2026} › Application Type and Redirect URI Constraints`,
    source: 'SEP-837; OIDC Registration §2; RFC 8252 §7',
    title: 'application_type native with loopback or private-use redirect URIs is registered',
    text: '`application_type: "native"` with `http://127.0.0.1:<port>`, `http://localhost:<port>` or private-use-scheme redirect URIs is accepted, and the flow runs with a different loopback port.',
  },
  {
    id: 'REG-APPTYPE-WEB',
    area: 'registration',
    role: 'AS',
    level: 'SHOULD (clients send it)',
    since: '2026-07-28',
    section: `${REGISTRATION_2026} › Application Type and Redirect URI Constraints`,
    source: 'SEP-837',
    title: 'application_type web with https redirect URIs is registered',
    text: '`application_type: "web"` with https redirect URIs on a public host is accepted.',
  },
  {
    id: 'REG-APPTYPE-ABSENT',
    area: 'registration',
    role: 'AS',
    level: 'MUST (non-OIDC servers ignore it; older clients omit it)',
    since: '2025-03-26',
    section: `${AUTHZ} › Dynamic Client Registration`,
    latest: `${REGISTRATION_2026} › Application Type and Redirect URI Constraints`,
    source: 'SEP-837',
    title: 'a registration without application_type keeps working with loopback redirects',
    text: 'Omitting `application_type` must not turn the registration into an OIDC `web` client that refuses loopback redirect URIs: clients before 2026-07-28 never send it.',
  },
  {
    id: 'REG-CIMD-FLOW',
    area: 'registration',
    role: 'AS',
    level: 'SHOULD',
    since: '2025-11-25',
    section: `${AUTHZ} › Client Registration Approaches › Client ID Metadata Documents`,
    latest: `${REGISTRATION_2026} › Client ID Metadata Documents`,
    source: 'SEP-991; draft-ietf-oauth-client-id-metadata-document',
    title: 'an https client_id is fetched and the flow completes with it',
    text: 'The authorization server fetches the metadata document of a URL-formatted client_id and the authorization code flow completes with that client_id at /authorize and /token.',
  },
  {
    id: 'REG-CIMD-ID-MATCH',
    area: 'registration',
    role: 'AS',
    level: 'MUST',
    since: '2025-11-25',
    section: `${AUTHZ} › Client ID Metadata Documents › Implementation Requirements`,
    latest: `${REGISTRATION_2026} › Implementation Requirements`,
    title: 'the document client_id must equal its URL',
    text: 'A document whose `client_id` differs from the URL it was fetched from is refused (an error page, never a redirect).',
  },
  {
    id: 'REG-CIMD-REDIRECT',
    area: 'registration',
    role: 'AS',
    level: 'MUST',
    since: '2025-11-25',
    section: `${AUTHZ} › Client ID Metadata Documents › Implementation Requirements`,
    latest: `${REGISTRATION_2026} › Implementation Requirements`,
    title: 'redirect_uri is checked against the document',
    text: 'The redirect URI of the authorization request is validated against the document’s `redirect_uris`; a mismatch is refused without redirecting.',
  },
  {
    id: 'REG-CIMD-STRUCTURE',
    area: 'registration',
    role: 'AS',
    level: 'MUST',
    since: '2025-11-25',
    section: `${AUTHZ} › Client ID Metadata Documents › Implementation Requirements`,
    latest: `${REGISTRATION_2026} › Implementation Requirements`,
    title: 'a document that is not JSON or lacks required fields is refused',
    text: 'The document must be valid JSON with the required fields (`client_id`, `redirect_uris`); otherwise the request is refused.',
  },
  {
    id: 'REG-CIMD-CACHE',
    area: 'registration',
    role: 'AS',
    level: 'SHOULD',
    since: '2025-11-25',
    section: `${AUTHZ} › Client ID Metadata Documents › Implementation Requirements`,
    latest: `${REGISTRATION_2026} › Implementation Requirements`,
    title: 'the document cache respects HTTP cache headers',
    text: 'Metadata documents are cached respecting HTTP cache headers: a document served with `Cache-Control: max-age=60` is fetched again once that time has passed, so a changed document takes effect.',
  },
  {
    id: 'REG-CIMD-SSRF',
    area: 'registration',
    role: 'AS',
    level: 'SHOULD',
    since: '2025-11-25',
    section: `${AUTHZ} › Security Considerations › Client ID Metadata Document Security › Authorization Server Abuse Protection`,
    latest: `${SECURITY_2026} › Authorization Server Abuse Protection`,
    source: 'draft-ietf-oauth-client-id-metadata-document §6',
    title: 'client_id URLs on loopback or private hosts are never fetched',
    text: 'SSRF protection: a client_id URL naming loopback, private or link-local hosts is refused without any fetch.',
  },
  {
    id: 'REG-CIMD-HOSTNAME',
    area: 'registration',
    role: 'AS',
    level: 'MUST',
    since: '2025-11-25',
    section: `${AUTHZ} › Client ID Metadata Document Security › Localhost Redirect URI Risks`,
    latest: `${SECURITY_2026} › Localhost Redirect URI Risks`,
    title: 'the authorization page shows the redirect URI hostname',
    text: 'Authorization servers clearly display the redirect URI hostname during authorization.',
  },
  {
    id: 'REG-CIMD-LOCALHOST-WARNING',
    area: 'registration',
    role: 'AS',
    level: 'SHOULD',
    since: '2025-11-25',
    section: `${AUTHZ} › Client ID Metadata Document Security › Localhost Redirect URI Risks`,
    latest: `${SECURITY_2026} › Localhost Redirect URI Risks`,
    title: 'extra warning for localhost-only redirect URIs',
    text: 'Authorization servers display additional warnings for `localhost`-only redirect URIs.',
    untested:
      'presentation: the wording of a warning is the implementer’s; no black-box assertion without fixing it',
  },
  // ── Authorization request and response ──────────────────────────────────────────────────────────
  {
    id: 'AUTHZ-PKCE',
    area: 'authorization',
    role: 'AS',
    level: 'MUST (PKCE required for all clients)',
    since: '2025-03-26',
    section: `${AUTHZ} › Implementation Requirements (2)`,
    latest: `${SECURITY_2026} › Authorization Code Protection`,
    source: 'OAuth 2.1 §4.1.1, §7.5.2',
    title: 'PKCE with S256 is required at /authorize',
    text: 'An authorization request without `code_challenge`, or with `plain`, is refused with `invalid_request`; S256 is accepted.',
  },
  {
    id: 'AUTHZ-REDIRECT-EXACT',
    area: 'authorization',
    role: 'AS',
    level: 'MUST',
    since: '2025-03-26',
    section: `${AUTHZ} › Security Considerations (4)`,
    latest: `${SECURITY_2026} › Open Redirection`,
    source: 'OAuth 2.1 §7.12; RFC 8252 §7.3 (loopback port)',
    title: 'redirect URIs are matched exactly; a mismatch is never redirected to',
    text: 'Authorization servers validate exact redirect URIs against the registered values (loopback ports excepted); a mismatch shows an error page and redirects nowhere.',
  },
  {
    id: 'AUTHZ-REDIRECT-HTTPS',
    area: 'authorization',
    role: 'AS',
    level: 'MUST',
    since: '2025-03-26',
    section: `${AUTHZ} › Security Considerations (5)`,
    latest: `${SECURITY_2026} › Communication Security`,
    title: 'redirect URIs are localhost or https',
    text: 'Redirect URIs must be either localhost or https: an http redirect URI on another host is refused at registration.',
  },
  {
    id: 'AUTHZ-ISS-SUCCESS',
    area: 'authorization',
    role: 'AS',
    level: 'SHOULD (a future revision: MUST)',
    since: '2026-07-28',
    section: `${INDEX_2026} › Authorization Flow Steps › Authorization Response Validation`,
    source: 'SEP-2468; RFC 9207 §2',
    title: 'the authorization response carries iss, identical to the metadata issuer',
    text: 'The successful authorization response includes `iss`, exactly the issuer of the metadata (also for an issuer with a path).',
  },
  {
    id: 'AUTHZ-ISS-ERRORS',
    area: 'authorization',
    role: 'AS',
    level: 'SHOULD (a future revision: MUST)',
    since: '2026-07-28',
    section: `${INDEX_2026} › Authorization Flow Steps › Authorization Response Validation`,
    source: 'SEP-2468; RFC 9207 §2',
    title: 'every error redirect carries iss',
    text: 'Error responses redirected to the client include `iss` too: invalid_scope, invalid_target, unsupported_response_type, missing PKCE, over-long state, access_denied from the PIN page and from the consent page.',
  },
  {
    id: 'AUTHZ-STATE',
    area: 'authorization',
    role: 'AS',
    level: 'MUST (RFC 6749 §4.1.2; clients SHOULD verify it)',
    since: '2025-06-18',
    section: `${AUTHZ} › Security Considerations › Open Redirection`,
    latest: `${SECURITY_2026} › Open Redirection`,
    source: 'RFC 6749 §4.1.2, §4.1.2.1',
    title: 'state comes back unchanged in success and error responses',
    text: 'The `state` of the request is returned byte for byte in the success and in the error redirect.',
  },
  {
    id: 'AUTHZ-RESOURCE',
    area: 'authorization',
    role: 'AS',
    level: 'MUST (clients send it)',
    since: '2025-06-18',
    section: `${AUTHZ} › Authorization Flow Steps › Resource Parameter Implementation`,
    latest: `${INDEX_2026} › Resource Parameter Implementation`,
    source: 'PR #734; RFC 8707 §2',
    title: 'resource at /authorize binds the token to that MCP server',
    text: 'An authorization request with `resource` = the canonical MCP server URI is accepted and the token issued is bound to that resource (audience).',
  },
  {
    id: 'AUTHZ-RESOURCE-INVALID',
    area: 'authorization',
    role: 'AS',
    level: 'MUST (RFC 8707 §2)',
    since: '2025-06-18',
    section: `${AUTHZ} › Resource Parameter Implementation › Canonical Server URI`,
    latest: `${INDEX_2026} › Canonical Server URI`,
    source: 'RFC 8707 §2',
    title: 'a foreign resource or one with a fragment is invalid_target',
    text: 'A `resource` this server does not protect, or one with a fragment, is refused with `invalid_target` (redirected, with iss).',
  },
  {
    id: 'AUTHZ-RESOURCE-CASE',
    area: 'authorization',
    role: 'AS',
    level: 'SHOULD',
    since: '2025-06-18',
    section: `${AUTHZ} › Resource Parameter Implementation › Canonical Server URI`,
    latest: `${INDEX_2026} › Canonical Server URI`,
    title: 'uppercase scheme and host and a trailing slash name the same resource at /authorize',
    text: 'Implementations accept uppercase scheme and host components, and the trailing-slash form, of the canonical URI.',
  },
  {
    id: 'AUTHZ-RESOURCE-ABSENT',
    area: 'authorization',
    role: 'AS',
    level: 'MUST (2025-03-26 clients send no resource)',
    since: '2025-03-26',
    until: '2025-03-26',
    section: `${AUTHZ} › Authorization Flow Steps`,
    title: 'a request without resource gets a token for the default resource',
    text: 'A 2025-03-26 client sends no `resource`; its token is issued for the MCP server it was obtained for.',
  },
  {
    id: 'AUTHZ-SCOPE-SELECTION',
    area: 'authorization',
    role: 'AS',
    level: 'SHOULD (clients pick scopes in this order)',
    since: '2025-11-25',
    section: `${AUTHZ} › Scope Selection Strategy`,
    latest: `${INDEX_2026} › Scope Selection Strategy`,
    source: 'SEP-835',
    title: 'the scopes a client picks by the selection strategy are granted',
    text: 'A client requesting the `scope` of the 401 challenge, or all of PRM `scopes_supported`, or no scope at all (when neither is given) gets a token for it.',
  },
  {
    id: 'AUTHZ-STEP-UP-UNION',
    area: 'authorization',
    role: 'AS',
    level: 'SHOULD (clients re-authorize with the union)',
    since: '2025-11-25',
    section: `${AUTHZ} › Error Handling › Scope Challenge Handling › Step-Up Authorization Flow`,
    latest: `${INDEX_2026} › Step-Up Authorization Flow`,
    source: 'SEP-835; SEP-2350',
    title: 'step-up re-authorization with the union of scopes is consented and granted',
    text: 'Re-authorizing with the union of previously granted and challenged scopes is accepted; consent is asked again for the larger set, and the new token passes the operation that was refused.',
  },
  {
    id: 'AUTHZ-CONSENT-PER-CLIENT',
    area: 'authorization',
    role: 'AS',
    level: 'MUST',
    since: '2025-06-18',
    section: `${AUTHZ} › Security Considerations › Confused Deputy Problem`,
    latest: `${SECURITY_2026} › Confused Deputy Problem`,
    title: 'each dynamically registered client gets its own consent',
    text: 'A proxy with a static upstream client id obtains user consent for each dynamically registered client: an upstream that already knows the user (a third-party consent cookie) does not let a new client get a code without the user approving it.',
  },
  // ── Token endpoint and refresh ──────────────────────────────────────────────────────────────────
  {
    id: 'TOK-PKCE-VERIFY',
    area: 'token',
    role: 'AS',
    level: 'MUST',
    since: '2025-03-26',
    section: `${AUTHZ} › Implementation Requirements (2)`,
    latest: `${SECURITY_2026} › Authorization Code Protection`,
    source: 'OAuth 2.1 §4.1.3',
    title: 'the code needs its PKCE verifier',
    text: 'A token request without `code_verifier` is `invalid_request`; a wrong verifier is `invalid_grant`.',
  },
  {
    id: 'TOK-CODE-ONCE',
    area: 'token',
    role: 'AS',
    level: 'MUST (OAuth 2.1 security considerations)',
    since: '2025-03-26',
    section: `${AUTHZ} › Implementation Requirements (1)`,
    latest: `${SECURITY_2026} › Authorization Code Protection`,
    source: 'OAuth 2.1 §4.1.3, §7.5',
    title: 'an authorization code is redeemed once',
    text: 'A second redemption of a code fails with `invalid_grant` and revokes the tokens the first one issued.',
  },
  {
    id: 'TOK-CLIENT-AUTH',
    area: 'token',
    role: 'AS',
    level: 'MUST',
    since: '2025-03-26',
    section: `${AUTHZ} › Authorization Flow › Overview (1)`,
    latest: `${INDEX_2026} › Overview (1)`,
    source: 'OAuth 2.1 §2.4',
    title: 'public and confidential clients both redeem codes',
    text: 'A public client (`none`) and a confidential client (`client_secret_basic`, `client_secret_post`) redeem codes; a wrong secret is 401 `invalid_client`.',
  },
  {
    id: 'TOK-RESOURCE',
    area: 'token',
    role: 'AS',
    level: 'MUST (clients send it)',
    since: '2025-06-18',
    section: `${AUTHZ} › Resource Parameter Implementation`,
    latest: `${INDEX_2026} › Resource Parameter Implementation`,
    source: 'RFC 8707 §2.2',
    title: 'resource at /token must name the authorized resource',
    text: 'A token request (code or refresh) with the authorized `resource` succeeds; another resource is `invalid_target`.',
  },
  {
    id: 'TOK-RESOURCE-CASE',
    area: 'token',
    role: 'AS',
    level: 'SHOULD',
    since: '2025-06-18',
    section: `${AUTHZ} › Resource Parameter Implementation › Canonical Server URI`,
    latest: `${INDEX_2026} › Canonical Server URI`,
    title: 'uppercase scheme and host name the same resource at /token',
    text: 'The token endpoint accepts uppercase scheme and host components of the canonical URI.',
  },
  {
    id: 'TOK-RESOURCE-ABSENT',
    area: 'token',
    role: 'AS',
    level: 'MUST (2025-03-26 clients send no resource)',
    since: '2025-03-26',
    until: '2025-03-26',
    section: `${AUTHZ} › Authorization Flow Steps`,
    title: 'a token request without resource succeeds',
    text: 'Code redemption and refresh without `resource` succeed.',
  },
  {
    id: 'TOK-ROTATION',
    area: 'token',
    role: 'AS',
    level: 'SHOULD (2025-03-26); MUST for public clients (2025-06-18+)',
    since: '2025-03-26',
    section: `${AUTHZ} › Implementation Requirements (3)`,
    latest: `${SECURITY_2026} › Token Theft`,
    source: 'OAuth 2.1 §4.3.1; RFC 9700 §4.14.2',
    title: 'refresh tokens of public clients rotate; a stale one revokes the family',
    text: 'A refresh returns a new refresh token; the old one presented again after the reuse interval is `invalid_grant` and revokes the tokens of the grant.',
  },
  {
    id: 'TOK-SHORT-LIVED',
    area: 'token',
    role: 'AS',
    level: 'SHOULD',
    since: '2025-03-26',
    section: `${AUTHZ} › Implementation Requirements (4)`,
    latest: `${SECURITY_2026} › Token Theft`,
    title: 'access tokens are short-lived',
    text: 'Access tokens say `expires_in` (an hour by default) and stop working once expired.',
  },
  {
    id: 'REF-GRANT-TYPES',
    area: 'token',
    role: 'AS',
    level: 'SHOULD (clients list refresh_token)',
    since: '2026-07-28',
    section: `${INDEX_2026} › Refresh Tokens`,
    source: 'SEP-2207',
    title: 'a client that registered refresh_token gets a refresh token',
    text: 'A client whose `grant_types` include `refresh_token` receives a refresh token with the code exchange and can refresh; one that did not register it receives none.',
  },
  {
    id: 'REF-OFFLINE-REQUEST',
    area: 'token',
    role: 'AS',
    level: 'MAY (clients add it when advertised)',
    since: '2026-07-28',
    section: `${INDEX_2026} › Refresh Tokens`,
    source: 'SEP-2207',
    title: 'offline_access added to the resource scopes is accepted and yields a refresh token',
    text: 'An authorization request for the resource’s scopes plus `offline_access` (advertised in AS metadata) is accepted; a refresh token is issued and the access token works at the resource.',
  },
  // ── Resource side: challenges and step-up ───────────────────────────────────────────────────────
  {
    id: 'RS-401',
    area: 'resource',
    role: 'RS',
    level: 'MUST',
    since: '2025-03-26',
    section: `${AUTHZ} › Example: authorization code grant`,
    latest: `${INDEX_2026} › Error Handling`,
    source: 'RFC 6750 §3',
    title: 'a request without a token is 401 with a Bearer challenge',
    text: 'When authorization is required and not yet proven, the server responds 401 with a `Bearer` challenge.',
  },
  {
    id: 'RS-INVALID-TOKEN',
    area: 'resource',
    role: 'RS',
    level: 'MUST',
    since: '2025-03-26',
    section: `${AUTHZ} › Access Token Usage › Token Handling`,
    latest: `${INDEX_2026} › Token Handling`,
    source: 'OAuth 2.1 §5.2, §5.3',
    title: 'invalid, expired and revoked tokens are 401 invalid_token',
    text: 'Invalid or expired tokens receive a 401 (`invalid_token`); so does a revoked one.',
  },
  {
    id: 'RS-HEADER-ONLY',
    area: 'resource',
    role: 'RS',
    level: 'MUST NOT (tokens in the query string)',
    since: '2025-03-26',
    section: `${AUTHZ} › Access Token Usage › Token Requirements`,
    latest: `${INDEX_2026} › Token Requirements`,
    source: 'OAuth 2.1 §5.1.1',
    title: 'tokens are read from the Authorization header only',
    text: 'A token in the URI query string is never accepted (400 `invalid_request`), and PRM `bearer_methods_supported` is `["header"]`.',
  },
  {
    id: 'RS-MALFORMED',
    area: 'resource',
    role: 'RS',
    level: 'MUST (status codes)',
    since: '2025-03-26',
    section: `${AUTHZ} › Error Handling`,
    latest: `${INDEX_2026} › Error Handling`,
    source: 'RFC 6750 §3.1',
    title: 'a malformed Authorization header is 400',
    text: 'A malformed authorization request gets 400 `invalid_request` (not 401 and not 500).',
  },
  {
    id: 'RS-AUDIENCE',
    area: 'resource',
    role: 'RS',
    level: 'MUST',
    since: '2025-06-18',
    section: `${AUTHZ} › Access Token Usage › Token Handling`,
    latest: `${SECURITY_2026} › Access Token Privilege Restriction`,
    source: 'RFC 8707 §2',
    title: 'a token issued for another resource is refused',
    text: 'MCP servers validate that access tokens were issued specifically for them: a token for another resource of the same authorization server is 401 `invalid_token`.',
  },
  {
    id: 'RS-403-SCOPE',
    area: 'resource',
    role: 'RS',
    level: 'SHOULD',
    since: '2025-11-25',
    section: `${AUTHZ} › Error Handling › Scope Challenge Handling › Runtime Insufficient Scope Errors`,
    latest: `${INDEX_2026} › Runtime Insufficient Scope Errors`,
    source: 'SEP-835; RFC 6750 §3.1',
    title: 'insufficient scope is 403 with error, scope and resource_metadata',
    text: 'A token lacking a scope the operation needs gets 403 with `WWW-Authenticate: Bearer error="insufficient_scope", scope="…", resource_metadata="…"`.',
  },
  {
    id: 'RS-403-ALL-ONCE',
    area: 'resource',
    role: 'RS',
    level: 'SHOULD',
    since: '2026-07-28',
    section: `${INDEX_2026} › Runtime Insufficient Scope Errors`,
    source: 'SEP-2350',
    title: 'one 403 names every scope the operation needs, each once',
    text: 'Servers include all scopes required for the current operation in a single challenge (not one at a time), and each scope once.',
  },
  {
    id: 'RS-SCOPE-HIERARCHY',
    area: 'resource',
    role: 'RS',
    level: 'MUST',
    since: '2026-07-28',
    section: `${INDEX_2026} › Step-Up Authorization Flow`,
    title: 'scope hierarchies are accounted for',
    text: 'Servers account for scope hierarchies, where a broader scope implies narrower ones, when deciding whether a token is sufficient.',
    untested: 'not applicable: Portcullis scopes are flat strings and it defines no hierarchy',
  },
  {
    id: 'REF-OFFLINE-CHALLENGE',
    area: 'resource',
    role: 'RS',
    level: 'SHOULD NOT',
    since: '2026-07-28',
    section: `${INDEX_2026} › Refresh Tokens`,
    source: 'SEP-2207',
    title: 'offline_access is never in a WWW-Authenticate scope',
    text: 'MCP servers do not include `offline_access` in the `WWW-Authenticate` scope of a 401 or a 403.',
  },
];

const index = new Map(REQUIREMENTS.map((r) => [r.id, r]));

/** The revisions a requirement applies to, oldest first. */
export function revisionsOf(requirement: Requirement): Revision[] {
  const from = REVISIONS.indexOf(requirement.since);
  const to = REVISIONS.indexOf(requirement.until ?? LATEST);
  return REVISIONS.slice(from, to + 1);
}

/** `2025-06-18+`, `2025-03-26 only` or `2025-03-26 – 2025-06-18`. */
export function revisionRange(requirement: Requirement): string {
  const revisions = revisionsOf(requirement);
  if (revisions.length === 1) return `${revisions[0]} only`;
  if (revisions.at(-1) === LATEST) return `${revisions[0]}+`;
  return `${revisions[0]} – ${revisions.at(-1)}`;
}

/** The section a requirement is stated in for one revision. */
export const sectionIn = (requirement: Requirement, revision: Revision): string =>
  revision === LATEST && requirement.latest ? requirement.latest : requirement.section;

/** The name of a requirement's test (the `describe` block). */
export const testName = (requirement: Requirement): string => `${requirement.id}: ${requirement.title}`;

/** What a requirement test receives: the revision whose client it plays. */
export interface RevisionContext {
  readonly revision: Revision;
}

/**
 * The `requirement(id, test)` function of one area: registers a `describe` named after the
 * requirement, with one test per revision it applies to, each named with its revision, level and
 * section.
 */
export function requirementsOf(area: Area) {
  return function requirement(id: string, run: (ctx: RevisionContext) => Promise<void>): void {
    const found = index.get(id);
    if (!found) throw new Error(`unknown requirement ${id}`);
    if (found.area !== area) throw new Error(`${id} belongs to ${AREAS[found.area]}`);
    if (found.untested) throw new Error(`${id} is declared untested: ${found.untested}`);
    describe(testName(found), () => {
      for (const revision of revisionsOf(found)) {
        it(`MCP ${revision} · ${found.level} · ${sectionIn(found, revision)}`, () => run({ revision }));
      }
    });
  };
}
