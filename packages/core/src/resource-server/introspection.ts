import type { Props } from '../types.js';
import {
  audiences,
  type ClaimNames,
  confirmation,
  identityFromClaims,
  parseScopes,
  type TokenVerifier,
  type VerificationResult,
  type VerifiedAccessToken,
} from './verifier.js';

/** Options of {@link introspectionVerifier}. */
export interface IntrospectionVerifierOptions {
  /** The authorization server's RFC 7662 introspection endpoint. */
  readonly endpoint: string | URL;
  /** The resource server's client credentials at the authorization server (client_secret_basic). */
  readonly clientId: string;
  readonly clientSecret: string;
  /** Seconds an introspection answer is reused (never past the token's `exp`); default 60, 0 disables. */
  readonly cacheTtl?: number;
  /** Most answers kept in the cache; the oldest are dropped first. Default 1000. */
  readonly cacheMaxEntries?: number;
  /** Required `iss` of the answer, when the AS includes one. */
  readonly issuer?: string;
  /** Accepted `aud` value(s); default the resource server's resource identifier. */
  readonly audience?: string | readonly string[];
  /** Refuse answers without `aud` (default `true`); set `false` for servers that never send it. */
  readonly requireAudience?: boolean;
  /** Claim names for identity fields. */
  readonly claims?: ClaimNames;
  /** Derives `props` from the introspection answer. */
  readonly props?: (claims: Readonly<Record<string, unknown>>) => Props;
  /** Timeout of one introspection call, in ms; default 5000. */
  readonly timeoutMs?: number;
  /** The fetch to use; default the global one. */
  readonly fetch?: typeof fetch;
}

interface CacheEntry {
  readonly result: VerificationResult;
  /** Epoch ms after which the entry is stale. */
  readonly until: number;
}

async function sha256(value: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(value)));
  let out = '';
  for (const byte of digest) out += byte.toString(16).padStart(2, '0');
  return out;
}

// RFC 6749 §2.3.1: client id and secret are form-urlencoded before being base64-encoded.
function basicAuth(clientId: string, clientSecret: string): string {
  const encode = (v: string) => encodeURIComponent(v).replace(/%20/g, '+');
  return `Basic ${btoa(`${encode(clientId)}:${encode(clientSecret)}`)}`;
}

/**
 * Verifies opaque access tokens with RFC 7662 token introspection, caching answers by the token's
 * SHA-256 hash in a bounded in-memory cache.
 *
 * @example
 * ```ts
 * const verify = introspectionVerifier({
 *   endpoint: 'https://auth.example.com/introspect',
 *   clientId: 'mcp-resource', clientSecret: process.env.INTROSPECTION_SECRET!,
 *   cacheTtl: 60,
 * });
 * ```
 */
export function introspectionVerifier(options: IntrospectionVerifierOptions): TokenVerifier {
  const endpoint = new URL(String(options.endpoint));
  const ttlMs = (options.cacheTtl ?? 60) * 1000;
  const maxEntries = options.cacheMaxEntries ?? 1000;
  const doFetch = options.fetch ?? fetch;
  const cache = new Map<string, CacheEntry>();
  const authorization = basicAuth(options.clientId, options.clientSecret);

  function remember(key: string, result: VerificationResult, until: number): void {
    if (ttlMs <= 0 || until <= 0) return;
    cache.delete(key);
    while (cache.size >= maxEntries) {
      const oldest = cache.keys().next();
      if (oldest.done) break;
      cache.delete(oldest.value);
    }
    cache.set(key, { result, until });
  }

  async function introspect(token: string, now: number, resource: string): Promise<VerificationResult> {
    let response: Response;
    try {
      response = await doFetch(endpoint, {
        method: 'POST',
        headers: {
          authorization,
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        body: new URLSearchParams({ token, token_type_hint: 'access_token' }),
        signal: AbortSignal.timeout(options.timeoutMs ?? 5000),
        redirect: 'error',
      });
    } catch {
      return { ok: false, reason: 'unavailable', description: 'The introspection endpoint is unreachable.' };
    }
    if (!response.ok) {
      await response.body?.cancel();
      return {
        ok: false,
        reason: 'unavailable',
        description: 'The introspection endpoint refused the request.',
      };
    }
    let claims: Record<string, unknown>;
    try {
      const parsed: unknown = await response.json();
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
        throw new TypeError('not an object');
      claims = parsed as Record<string, unknown>;
    } catch {
      return { ok: false, reason: 'unavailable', description: 'The introspection response is not JSON.' };
    }
    // RFC 7662 §2.2: only `active: true` means the token may be used.
    if (claims.active !== true)
      return { ok: false, reason: 'invalid', description: 'The access token is not active.' };
    const exp = typeof claims.exp === 'number' ? claims.exp : undefined;
    if (exp !== undefined && exp * 1000 <= now) {
      return { ok: false, reason: 'invalid', description: 'The access token has expired.' };
    }
    if (typeof claims.nbf === 'number' && claims.nbf * 1000 > now) {
      return { ok: false, reason: 'invalid', description: 'The access token is not valid yet.' };
    }
    if (options.issuer !== undefined && claims.iss !== undefined && claims.iss !== options.issuer) {
      return {
        ok: false,
        reason: 'invalid',
        description: 'The access token was issued by an untrusted issuer.',
      };
    }
    const auds = audiences(claims.aud);
    const accepted = options.audience ?? resource;
    const acceptedList = typeof accepted === 'string' ? [accepted] : accepted;
    if (auds.length === 0 ? (options.requireAudience ?? true) : !auds.some((a) => acceptedList.includes(a))) {
      return {
        ok: false,
        reason: 'invalid',
        description: 'The access token was issued for another resource.',
      };
    }
    const identity = identityFromClaims(claims, options.claims);
    const userId = identity.userId ?? (typeof claims.username === 'string' ? claims.username : undefined);
    if (!userId) return { ok: false, reason: 'invalid', description: 'The access token has no subject.' };
    const verified: VerifiedAccessToken = {
      clientId: identity.clientId ?? '',
      userId,
      ...(identity.email ? { email: identity.email } : {}),
      ...(identity.name ? { name: identity.name } : {}),
      scopes: parseScopes(claims.scope ?? claims.scp),
      audiences: auds,
      expiresAt: exp ?? Math.floor((now + ttlMs) / 1000),
      props: options.props ? options.props(claims) : {},
      ...confirmation(claims),
    };
    return { ok: true, token: verified };
  }

  return {
    async verify(token, context): Promise<VerificationResult> {
      const key = `${await sha256(token)}:${context.resource}`;
      const hit = cache.get(key);
      if (hit && hit.until > context.now) {
        if (hit.result.ok && hit.result.token.expiresAt * 1000 <= context.now) {
          return { ok: false, reason: 'invalid', description: 'The access token has expired.' };
        }
        return hit.result;
      }
      if (hit) cache.delete(key);
      const result = await introspect(token, context.now, context.resource);
      if (result.ok) {
        remember(key, result, Math.min(context.now + ttlMs, result.token.expiresAt * 1000));
      } else if (result.reason === 'invalid') {
        remember(key, result, context.now + ttlMs);
      }
      return result;
    },
  };
}
