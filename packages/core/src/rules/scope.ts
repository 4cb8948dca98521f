/** A scope token: printable ASCII without space, `"` or `\` (RFC 6749 §3.3). */
export const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

/**
 * The scopes of a `scope` parameter (RFC 6749 §3.3: space-delimited, order irrelevant), duplicates
 * dropped; `undefined` when the parameter was absent.
 */
export function parseScope(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  return [...new Set(value.split(' ').filter(Boolean))];
}

/** A scope list as a `scope` value: each scope once, space-separated. */
export const formatScope = (scopes: readonly string[]): string => [...new Set(scopes)].join(' ');
