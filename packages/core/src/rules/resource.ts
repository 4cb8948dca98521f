/** A protected resource as the server is configured with it (RFC 9728, RFC 8707). */
export interface ConfiguredResource {
  /** Path of the resource on the issuer's origin, e.g. `/mcp`. */
  readonly path: string;
  /** The resource identifier (RFC 8707), e.g. `https://mcp.example.com/mcp`. */
  readonly resource: string;
  /** `resource_name` of RFC 9728 §2. */
  readonly name?: string;
  /** Scopes the resource accepts (a client may request them, e.g. for step-up). */
  readonly scopes: readonly string[];
  /** The baseline scopes of its RFC 9728 metadata and 401 challenges (a subset of `scopes`). */
  readonly advertisedScopes: readonly string[];
}

/** Strips one trailing slash, so `https://x/mcp/` and `https://x/mcp` name the same resource. */
export const withoutTrailingSlash = (value: string): string =>
  value.length > 1 && value.endsWith('/') ? value.slice(0, -1) : value;

/**
 * The canonical form of a resource identifier (MCP "Canonical Server URI", RFC 3986 §6.2.2): scheme
 * and host lower-cased, default port dropped, no trailing slash; a value that is not a URL stays as it is.
 */
export function canonicalResource(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return withoutTrailingSlash(value);
  }
  const path = url.pathname === '/' ? '' : withoutTrailingSlash(url.pathname);
  return `${url.protocol}//${url.host}${path}${url.search}`;
}

/** Whether two resource identifiers name the same resource (RFC 8707 §2, compared in canonical form). */
export const sameResource = (a: string, b: string): boolean => canonicalResource(a) === canonicalResource(b);

/** Why a `resource` parameter is malformed: RFC 8707 §2 wants an absolute URI without a fragment. */
export function resourceParameterProblem(value: string): string | undefined {
  if (value.includes('#')) return 'The resource must not contain a fragment';
  try {
    new URL(value);
  } catch {
    return 'The resource must be an absolute URI';
  }
  return undefined;
}

/** The configured resource a `resource` parameter names, or `undefined`. */
export const findResource = <R extends ConfiguredResource>(
  resources: readonly R[],
  identifier: string,
): R | undefined => resources.find((r) => sameResource(r.resource, identifier));

/** The configured resource a request path belongs to (longest path prefix), or the first one. */
export function resourceForPath<R extends ConfiguredResource>(resources: readonly R[], pathname: string): R {
  let best: R | undefined;
  for (const r of resources) {
    const base = withoutTrailingSlash(r.path);
    const inside = base === '/' || pathname === base || pathname.startsWith(`${base}/`);
    if (inside && (!best || base.length > withoutTrailingSlash(best.path).length)) best = r;
  }
  return best ?? resources[0]!;
}

/**
 * The RFC 9728 §3.1 metadata URL of a resource: the well-known segment is inserted between the origin
 * and the resource's path (`https://h/mcp` → `https://h/.well-known/oauth-protected-resource/mcp`).
 */
export function protectedResourceMetadataUrl(resource: string): string {
  const url = new URL(resource);
  const path = url.pathname === '/' ? '' : withoutTrailingSlash(url.pathname);
  return `${url.origin}/.well-known/oauth-protected-resource${path}`;
}
