import type { Core, VerifiedToken } from './context.js';
import { resourceMetadataUrl, withoutTrailingSlash } from './endpoints/metadata.js';
import { jsonResponse, StorageUnavailableError } from './errors.js';
import { openGrant } from './grant.js';
import { isClientIdUrl } from './policy/client-id-document.js';
import { grantRecord, tokenRecord } from './records.js';
import { type BearerChallenge, formatBearerChallenge, readBearerToken } from './resource-server/challenge.js';
import type { AuthenticateOptions, AuthenticateResult, Props, TokenInfo, UpstreamToken } from './types.js';

type Resource = Core['config']['resources'][number];
type BearerErrorCode = NonNullable<BearerChallenge['error']>;

/** The configured resource a request path belongs to (longest path prefix), or the first one. */
export function resourceFor(core: Core, request: Request, wanted?: string): Resource {
  const { resources } = core.config;
  if (wanted) {
    const match = resources.find((r) => withoutTrailingSlash(r.resource) === withoutTrailingSlash(wanted));
    if (match) return match;
  }
  const path = new URL(request.url).pathname;
  let best: Resource | undefined;
  for (const r of resources) {
    const base = withoutTrailingSlash(r.path);
    const inside = base === '/' || path === base || path.startsWith(`${base}/`);
    if (inside && (!best || base.length > withoutTrailingSlash(best.path).length)) best = r;
  }
  return best ?? resources[0]!;
}

/** A 401/403/400 with the RFC 6750 §3 challenge, pointing at the RFC 9728 metadata. */
export function challenge(
  core: Core,
  resource: Resource,
  status: 400 | 401 | 403,
  error?: { code: BearerErrorCode; description: string },
  scope?: readonly string[],
): Response {
  const scopes = scope ?? resource.scopes;
  const header = formatBearerChallenge({
    resourceMetadata: resourceMetadataUrl(core, resource.path),
    ...(error ? { error: error.code, description: error.description } : {}),
    ...(scopes.length ? { scope: scopes.join(' ') } : {}),
  });
  const body = error
    ? { error: error.code, error_description: error.description }
    : { error: 'invalid_token', error_description: 'Authentication required' };
  return jsonResponse(body, status, { 'WWW-Authenticate': header });
}

/** Looks a token up (or in the token cache): live record, live grant, opened secrets; else `null`. */
async function verifyToken(core: Core, token: string): Promise<VerifiedToken | null> {
  const key = await core.hash(token);
  const now = core.now();
  const cached = core.tokenCache?.get(key);
  if (cached) return cached.record.expiresAt > now ? cached : null;
  const record = await core.records.get('access', key, tokenRecord);
  if (!record || record.expiresAt <= now) return null;
  // RFC 7592 §2.3: deleting a client invalidates its tokens, so the client must still exist (read in parallel).
  const [grant, clientExists] = await Promise.all([
    core.records.get('grant', record.grantId, grantRecord),
    isClientIdUrl(record.clientId) ? true : core.records.exists('client', record.clientId),
  ]);
  if (!grant || !clientExists) return null;
  const secrets = await openGrant(core, grant);
  if (!secrets) return null;
  const verified = { record, grant, secrets };
  const ttl = core.config.tokenCache?.ttlMs;
  if (ttl) core.tokenCache?.set(key, verified, Math.min(now + ttl, record.expiresAt));
  return verified;
}

/**
 * Verifies the bearer token of a request for a protected resource (RFC 6750): header only, not
 * expired, not revoked, issued for this resource (RFC 8707 audience), with the required scopes.
 */
export async function authenticate(
  core: Core,
  request: Request,
  options: AuthenticateOptions = {},
): Promise<AuthenticateResult> {
  const resource = resourceFor(core, request, options.resource);
  const fail = (
    status: 400 | 401 | 403,
    code?: BearerErrorCode,
    description?: string,
    scope?: readonly string[],
  ) => ({
    ok: false as const,
    response: challenge(
      core,
      resource,
      status,
      code ? { code, description: description ?? code } : undefined,
      scope,
    ),
  });
  // OAuth 2.1 §5.1.1: tokens in the query string are refused.
  if (new URL(request.url).searchParams.has('access_token')) {
    return fail(
      400,
      'invalid_request',
      'Access tokens in the query string are not accepted; use the Authorization header',
    );
  }
  if ((request.headers.get('authorization') ?? '').trim() === '') return fail(401);
  // RFC 6750 §2.1: `Bearer` followed by a token68.
  const token = readBearerToken(request);
  if (token === null || token === 'malformed') {
    return fail(400, 'invalid_request', 'The Authorization header must be "Bearer <token>"');
  }
  try {
    const verified = await verifyToken(core, token);
    if (!verified) return fail(401, 'invalid_token', 'The access token is invalid, expired or revoked');
    const { record, grant, secrets } = verified;
    if (withoutTrailingSlash(record.resource) !== withoutTrailingSlash(resource.resource)) {
      return fail(401, 'invalid_token', 'The access token was not issued for this resource');
    }
    const required = options.requiredScopes ?? [];
    const missing = required.filter((s) => !record.scopes.includes(s));
    if (missing.length > 0) {
      // RFC 6750 §3.1: insufficient_scope names the scope needed.
      return fail(
        403,
        'insufficient_scope',
        `This request requires the scope: ${required.join(' ')}`,
        required,
      );
    }
    const info: TokenInfo = {
      token,
      clientId: record.clientId,
      userId: grant.userId,
      ...(secrets.email !== undefined ? { email: secrets.email } : {}),
      ...(secrets.name !== undefined ? { name: secrets.name } : {}),
      scopes: record.scopes,
      resource: record.resource,
      props: secrets.props as Props,
      expiresAt: Math.floor(record.expiresAt / 1000),
      ...(secrets.upstreamToken ? { upstreamToken: secrets.upstreamToken as unknown as UpstreamToken } : {}),
    };
    return { ok: true, info };
  } catch (error) {
    if (error instanceof StorageUnavailableError) {
      core.config.onEvent({
        type: 'storage_error',
        operation: error.operation,
        message: 'storage unavailable',
      });
      return {
        ok: false,
        response: jsonResponse(
          { error: 'temporarily_unavailable', error_description: 'Token storage is unavailable; try again' },
          503,
          { 'Retry-After': '5' },
        ),
      };
    }
    throw error;
  }
}
