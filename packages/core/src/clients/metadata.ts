import { OAuthError } from '../errors.js';
import { isLoopbackHttp } from '../rules/loopback.js';
import { redirectUriProblem } from '../rules/redirect-uri.js';
import { formatScope, registeredScopes } from '../rules/scope.js';
import type { AuthMethodName, ClientRecord } from '../stores/schemas.js';
import * as v from '../validation/schema.js';
import { resolveAuthMethods } from './auth-methods.js';

const MAX_REDIRECT_URIS = 10;
const text = (max: number) => v.string(v.maxLength(max));
const httpUri = v.string(
  v.maxLength(2000),
  v.rule((value) => {
    try {
      const url = new URL(value);
      return url.protocol === 'https:' || url.protocol === 'http:';
    } catch {
      return false;
    }
  }, 'must be an http(s) URL'),
);
const names = v.array(text(200), v.maxLength(20));

/** The grant type that uses the authorization endpoint, so needs redirect URIs (RFC 6749 §3.1.2). */
const REDIRECT_GRANT = 'authorization_code';
/** A grant type that only renews what another one issued (RFC 6749 §6): alone it is no usable grant. */
const RENEWING_GRANT = 'refresh_token';

/**
 * The shapes of the RFC 7591 §2 members this server uses; every other member is ignored (§3.1).
 * Values are narrowed to what is supported afterwards, not refused for naming more.
 */
const metadataSchema = v.object({
  redirect_uris: v.optional(v.array(v.string(), v.minLength(1), v.maxLength(MAX_REDIRECT_URIS))),
  grant_types: v.optional(names),
  response_types: v.optional(names),
  client_name: v.optional(text(200)),
  client_uri: v.optional(httpUri),
  logo_uri: v.optional(httpUri),
  scope: v.optional(text(1000)),
  contacts: v.optional(v.array(text(320), v.maxLength(10))),
  tos_uri: v.optional(httpUri),
  policy_uri: v.optional(httpUri),
  software_id: v.optional(text(200)),
  software_version: v.optional(text(100)),
  dpop_bound_access_tokens: v.optional(v.boolean()),
});

/** What the server supports, for narrowing client metadata to it. */
export interface MetadataSupport {
  /** Scopes clients may request. */
  readonly scopesSupported: readonly string[];
  /** Refuse unknown scopes instead of registering the known subset. */
  readonly strictScopes: boolean;
  /** The `grant_type` names the token endpoint offers (from its grant registry). */
  readonly grantTypes: readonly string[];
  /** The response types the authorization endpoint issues. */
  readonly responseTypes: readonly string[];
  /** Whether token requests can carry DPoP proofs (RFC 9449), so `dpop_bound_access_tokens` is kept. */
  readonly dpop?: boolean;
}

/** The client record fields that registration metadata determines. */
export type ClientMetadata = Omit<
  ClientRecord,
  'clientId' | 'secretHash' | 'registrationTokenHash' | 'issuedAt' | 'lastUsedAt'
>;

const invalid = (description: string) => new OAuthError('invalid_client_metadata', description);

/** RFC 6749 §3.1.2 / RFC 8252 redirect URIs: each one acceptable, or the registration is refused. */
function checkRedirectUris(redirects: unknown): void {
  if (redirects === undefined)
    throw new OAuthError(
      'invalid_redirect_uri',
      'redirect_uris is required for the authorization code grant',
    );
  if (!Array.isArray(redirects)) return; // the schema names the problem
  if (redirects.length > MAX_REDIRECT_URIS) {
    throw new OAuthError(
      'invalid_redirect_uri',
      `At most ${MAX_REDIRECT_URIS} redirect URIs may be registered`,
    );
  }
  for (const uri of redirects) {
    if (typeof uri !== 'string')
      throw new OAuthError('invalid_redirect_uri', 'Every redirect URI must be a string');
    const problem = redirectUriProblem(uri);
    // RFC 7591 §3.2.2: invalid_redirect_uri names the offending value's problem.
    if (problem)
      throw new OAuthError(
        'invalid_redirect_uri',
        `The redirect URI ${JSON.stringify(uri.slice(0, 200))} ${problem}`,
      );
  }
}

/** The supported subset of a requested list, in the client's order; the default when it was absent. */
function supportedSubset(
  requested: readonly string[] | undefined,
  supported: readonly string[],
  fallback: readonly string[],
): string[] {
  return [...new Set(requested ?? fallback)].filter((value) => supported.includes(value));
}

/**
 * OIDC Registration §2 `application_type`, stored as declared (MCP 2026-07-28: a server that is not an
 * OpenID Provider does not refuse by it; the redirect-URI rules above already cover both kinds, and
 * OIDC's web-client limits concern the implicit grant only). When absent or unknown: `native` for a
 * client whose redirect URIs are all loopback or private-use schemes (RFC 8252 §7.1, §7.3), else `web`.
 */
function applicationType(value: unknown, redirectUris: readonly string[]): 'native' | 'web' {
  if (value === 'native' || value === 'web') return value;
  const native =
    redirectUris.length > 0 &&
    redirectUris.every((uri) => {
      const url = new URL(uri);
      return isLoopbackHttp(url) || (url.protocol !== 'https:' && url.protocol !== 'http:');
    });
  return native ? 'native' : 'web';
}

/**
 * Validates RFC 7591 §2 metadata tolerantly (§3.2.1: the server may replace requested values): grant
 * and response types are narrowed to the supported ones, scopes to the known ones, unused members
 * ignored. Refused are only what is unsafe or meaningless: a bad redirect URI, no usable grant type or
 * response type, an unusable authentication method, malformed values. A client whose grant types never
 * use the authorization endpoint (e.g. `client_credentials`) needs no redirect URIs and has no
 * response types (RFC 7591 §2.1).
 * @param fallbackAuthMethod the method when none is named (RFC 7591 §2: `client_secret_basic`).
 */
export function validateMetadata(
  support: MetadataSupport,
  body: Record<string, unknown>,
  fallbackAuthMethod: AuthMethodName = 'client_secret_basic',
): ClientMetadata {
  const listed = Array.isArray(body.grant_types)
    ? body.grant_types.filter((g) => typeof g === 'string')
    : undefined;
  const redirects = supportedSubset(listed, support.grantTypes, [REDIRECT_GRANT]).includes(REDIRECT_GRANT);
  if (redirects || body.redirect_uris !== undefined) checkRedirectUris(body.redirect_uris);
  const parsed = v.validate(metadataSchema, body);
  if (!parsed.ok) {
    const issue = parsed.issues[0];
    const field = issue?.path.join('.') || 'metadata';
    throw invalid(`Invalid ${field}: ${issue?.message ?? 'invalid value'}`);
  }
  const m = parsed.value;
  // RFC 7591 §2: grant_types defaults to authorization_code, response_types to code.
  const grantTypes = supportedSubset(m.grant_types, support.grantTypes, [REDIRECT_GRANT]);
  if (!grantTypes.some((grant) => grant !== RENEWING_GRANT)) {
    const issuing = support.grantTypes.filter((grant) => grant !== RENEWING_GRANT);
    throw invalid(
      `No usable grant type: this server needs ${issuing.join(' or ')} (it supports ${support.grantTypes.join(', ')})`,
    );
  }
  const responseTypes = grantTypes.includes(REDIRECT_GRANT)
    ? supportedSubset(m.response_types, support.responseTypes, ['code'])
    : [];
  if (grantTypes.includes(REDIRECT_GRANT) && responseTypes.length === 0) {
    throw invalid(`No usable response type: this server supports ${support.responseTypes.join(', ')}`);
  }
  const scopes = registeredScopes(m.scope, {
    supported: support.scopesSupported,
    strict: support.strictScopes,
  });
  if (!scopes.ok) throw invalid(`Unsupported scope: ${scopes.refused.join(' ').slice(0, 200)}`);
  return {
    ...resolveAuthMethods(body, fallbackAuthMethod),
    applicationType: applicationType(body.application_type, m.redirect_uris ?? []),
    redirectUris: m.redirect_uris ?? [],
    grantTypes,
    responseTypes,
    clientName: m.client_name,
    clientUri: m.client_uri,
    logoUri: m.logo_uri,
    scope: scopes.scopes.length > 0 ? formatScope(scopes.scopes) : undefined,
    contacts: m.contacts,
    tosUri: m.tos_uri,
    policyUri: m.policy_uri,
    softwareId: m.software_id,
    softwareVersion: m.software_version,
    // RFC 9449 §5.2, RFC 7591 §3.2.1: kept only where the server can bind tokens.
    ...(m.dpop_bound_access_tokens && support.dpop ? { dpopBoundAccessTokens: true } : {}),
  };
}
