import type { DurableObjectNamespaceLike, KVNamespaceLike } from '@portcullis/storage-kv';

/** The Worker's bindings: see wrangler.toml (vars, KV, Durable Object) and the secrets in the README. */
export interface Env {
  /** Durable Object binding of `PortcullisCoordinator`: codes, refresh tokens, PIN counters, grants. */
  readonly PORTCULLIS: DurableObjectNamespaceLike;
  /** KV namespace for clients and access tokens; optional (without it everything lives in the Durable Object). */
  readonly OAUTH_KV?: KVNamespaceLike;
  /** The upstream MCP endpoint, e.g. `https://api.githubcopilot.com/mcp`. */
  readonly UPSTREAM_MCP: string;
  /** Secret: the PAT / bearer token sent upstream. Never shown to clients. */
  readonly UPSTREAM_TOKEN: string;
  /** Secret: the PIN typed on the consent page (at least 6 characters). */
  readonly AUTH_PIN: string;
  /** Secret: at least 32 characters sealing grants; comma-separate old ones after it to rotate. */
  readonly PORTCULLIS_SECRET: string;
  /** Public URL of the Worker; default the request's origin. */
  readonly BASE_URL?: string;
  /** Name shown on the consent page. */
  readonly SERVICE_NAME?: string;
  /** Lifetimes in seconds. */
  readonly AUTH_CODE_TTL?: string;
  readonly ACCESS_TOKEN_TTL?: string;
  readonly REFRESH_TOKEN_TTL?: string;
  /** Header carrying the upstream token (default `Authorization`, sent as `Bearer <token>`). */
  readonly UPSTREAM_TOKEN_HEADER?: string;
}

/** Reads a lifetime var: a whole number of seconds, or the default when unset. */
export function seconds(
  env: Env,
  name: 'AUTH_CODE_TTL' | 'ACCESS_TOKEN_TTL' | 'REFRESH_TOKEN_TTL',
  fallback: number,
): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a whole number of seconds`);
  return value;
}

/** Checks the vars and secrets the proxy cannot run without; names what is missing, never a value. */
export function requireSettings(env: Env): void {
  const missing = (['UPSTREAM_MCP', 'UPSTREAM_TOKEN', 'AUTH_PIN', 'PORTCULLIS_SECRET'] as const).filter(
    (name) => typeof env[name] !== 'string' || env[name].trim() === '',
  );
  if (missing.length > 0) throw new Error(`missing settings: ${missing.join(', ')}`);
  let upstream: URL;
  try {
    upstream = new URL(env.UPSTREAM_MCP);
  } catch {
    throw new Error('UPSTREAM_MCP must be an absolute URL');
  }
  if (upstream.protocol !== 'https:' && upstream.protocol !== 'http:') {
    throw new Error('UPSTREAM_MCP must be an http(s) URL');
  }
}
