/** A scope token: printable ASCII without space, `"` or `\` (RFC 6749 §3.3). */
export const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

/**
 * `offline_access` (OIDC Core §11): the client's wish for a refresh token. It is a matter between the
 * client and the authorization server, never a scope of a resource (MCP 2026-07-28, SEP-2207): it is
 * advertised in AS metadata only, accepted in requests and never stored in grants or tokens.
 */
export const OFFLINE_ACCESS = 'offline_access';

/**
 * The scopes of a `scope` parameter (RFC 6749 §3.3: space-delimited, order irrelevant), duplicates
 * dropped; `undefined` when the parameter was absent or empty (an empty `scope=` means the defaults).
 */
export function parseScope(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const scopes = [...new Set(value.split(' ').filter(Boolean))];
  return scopes.length > 0 ? scopes : undefined;
}

/** A scope list as a `scope` value: each scope once, space-separated. */
export const formatScope = (scopes: readonly string[]): string => [...new Set(scopes)].join(' ');

/** The resource scopes of a list: without `offline_access` (SEP-2207). */
export const resourceScopes = (scopes: readonly string[]): string[] =>
  scopes.filter((scope) => scope !== OFFLINE_ACCESS);

/** What a scope rule decided: the scopes to grant, or the scopes that refuse the request. */
export type ScopeDecision =
  | { readonly ok: true; readonly scopes: string[] }
  | { readonly ok: false; readonly refused: string[] };

const granted = (scopes: string[]): ScopeDecision => ({ ok: true, scopes });

/** How an authorization request's scopes are judged. */
export interface ScopePolicy {
  /** Whether a scope may be granted (supported, allowed for the client and the resource). */
  readonly grantable: (scope: string) => boolean;
  /** The scopes granted when the request names none. */
  readonly defaults: readonly string[];
  /** Refuse with `invalid_scope` instead of granting the grantable subset. */
  readonly strict: boolean;
}

/**
 * The scope policy for a client and a resource (RFC 6749 §3.3): a scope is grantable when the server
 * supports it, the client registered it (or registered no `scope`) and the resource accepts it.
 */
export function clientScopePolicy(
  server: {
    readonly scopesSupported: readonly string[];
    readonly defaultScopes: readonly string[];
    readonly strictScopes: boolean;
  },
  clientScope: string | undefined,
  accepted: readonly string[],
): ScopePolicy {
  const allowed = clientScope ? clientScope.split(' ') : server.scopesSupported;
  return {
    grantable: (s) => server.scopesSupported.includes(s) && allowed.includes(s) && accepted.includes(s),
    defaults: server.defaultScopes,
    strict: server.strictScopes,
  };
}

/**
 * The scopes an authorization request is granted (RFC 6749 §3.3). `offline_access` is set aside; a
 * request naming no other scope gets the defaults. Tolerant (default): scopes that cannot be granted
 * are dropped and the rest granted, the defaults when nothing is left ("the authorization server MAY
 * fully or partially ignore the scope requested"); strict: any such scope refuses the request.
 */
export function grantScopes(requested: readonly string[] | undefined, policy: ScopePolicy): ScopeDecision {
  const wanted = resourceScopes(requested ?? []);
  const asked = wanted.length > 0 ? wanted : [...policy.defaults];
  const refused = asked.filter((scope) => !policy.grantable(scope));
  if (refused.length === 0) return granted(asked);
  if (policy.strict) return { ok: false, refused };
  const subset = asked.filter(policy.grantable);
  if (subset.length > 0) return granted(subset);
  const fallback = policy.defaults.filter(policy.grantable);
  return fallback.length > 0 ? granted(fallback) : { ok: false, refused };
}

/**
 * The scopes of a refresh (RFC 6749 §6): omitted (or only `offline_access`) keeps the current ones;
 * a narrower set is granted; a scope the grant lacks refuses the request. Unknown scopes are dropped
 * (RFC 6749 §3.3) unless `strict`.
 */
export function refreshScopes(
  requested: readonly string[] | undefined,
  grant: { readonly granted: readonly string[]; readonly current: readonly string[] },
  support: { readonly supported: readonly string[]; readonly strict: boolean },
): ScopeDecision {
  const wanted = resourceScopes(requested ?? []);
  const known = support.strict
    ? wanted
    : wanted.filter((scope) => support.supported.includes(scope) || grant.granted.includes(scope));
  if (known.length === 0) return granted([...grant.current]);
  const extra = known.filter((scope) => !grant.granted.includes(scope));
  return extra.length > 0 ? { ok: false, refused: extra } : granted(known);
}

/**
 * The scopes a client registers (RFC 7591 §2 `scope`, which the server may replace, §3.2.1): the
 * supported subset of what it asked for — empty meaning the server's defaults; in strict mode unknown
 * scopes refuse the registration.
 */
export function registeredScopes(
  requested: string | undefined,
  support: { readonly supported: readonly string[]; readonly strict: boolean },
): ScopeDecision {
  const wanted = resourceScopes(parseScope(requested) ?? []);
  const unknown = wanted.filter((scope) => !support.supported.includes(scope));
  if (unknown.length > 0 && support.strict) return { ok: false, refused: unknown };
  return granted(wanted.filter((scope) => support.supported.includes(scope)));
}
