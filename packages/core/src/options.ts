import { type RandomSource, webRandom } from './crypto/random.js';
import { isSecureOrLoopback } from './rules/loopback.js';
import type { RegistrationPolicy } from './rules/registration-policy.js';
import type { ConfiguredResource } from './rules/resource.js';
import { resourceScopes, SCOPE_TOKEN } from './rules/scope.js';
import type { Storage } from './storage/types.js';
import type { StorageObserver } from './stores/records.js';
import type { PortcullisEvent } from './types.js';
import type { IdentityUpstream } from './upstream.js';
import * as v from './validation/schema.js';

/** A protected resource the authorization server issues tokens for (RFC 9728, RFC 8707). */
export interface ResourceOptions {
  /** Path of the resource on the issuer's origin, e.g. `/mcp`. */
  readonly path: string;
  /** The resource identifier; defaults to the issuer's origin + `path`. */
  readonly resource?: string;
  /** Human-readable name for RFC 9728 `resource_name`. */
  readonly name?: string;
  /**
   * Scopes this resource accepts: a client may request any of them, e.g. a step-up `write`
   * (RFC 9728 §2). Defaults to the server's supported scopes. `offline_access` is never a resource scope.
   */
  readonly scopes?: readonly string[];
  /**
   * The baseline scopes advertised in the protected-resource metadata (`scopes_supported`) and in the
   * scope of a 401 challenge: what a client asks for first (MCP 2026-07-28 scope selection), each one
   * of `scopes`. Defaults to `scopes`; `offline_access` is never advertised (SEP-2207).
   */
  readonly advertisedScopes?: readonly string[];
}

/**
 * The options of {@link createAuthorizationServer} that configure the core itself (everything but
 * `extensions`, which `AuthorizationServerOptions` adds).
 */
export interface CoreOptions {
  /** The issuer: `https://` origin plus optional base path (RFC 8414 §2); `http://` only on loopback. */
  readonly issuer: string;
  /** Where grants, tokens and clients are kept. */
  readonly storage: Storage;
  /** Who the user is: PIN, OIDC, Cloudflare Access, trusted header, or custom. */
  readonly upstream: IdentityUpstream;
  /** Server secret(s), ≥ 32 characters; the first seals, all open (rotation). */
  readonly secret: string | readonly string[];
  /** Protected resources; default one resource at `/mcp`. */
  readonly resources?: readonly ResourceOptions[];
  /** Scopes: supported ones and those granted when a client asks for none. Default `mcp`. */
  readonly scopes?: {
    /** Scopes clients may request (RFC 6749 §3.3); default `['mcp']`. */
    readonly supported?: readonly string[];
    /** Scopes granted when the request names none (or an empty `scope=`); default the first supported scope. */
    readonly default?: readonly string[];
    /**
     * Refuse requests naming scopes that cannot be granted (unknown, or not allowed for the client or
     * the resource) with `invalid_scope`, and registrations naming unknown scopes with
     * `invalid_client_metadata`. By default (`false`) the grantable subset is granted and returned in
     * `scope` (RFC 6749 §3.3), the default scopes when none is left. `offline_access` is always accepted
     * and advertised in AS metadata: it asks for a refresh token, which every client that registered the
     * `refresh_token` grant receives whether it asked or not.
     */
    readonly strict?: boolean;
  };
  /** Lifetimes in seconds. */
  readonly lifetimes?: {
    /** Authorization codes (RFC 6749 §4.1.2 recommends at most 10 minutes); default 300. */
    readonly authorizationCode?: number;
    /** Access tokens; default 3600. */
    readonly accessToken?: number;
    /** Refresh tokens, renewed on every rotation up to the grant lifetime; default 30 days. */
    readonly refreshToken?: number;
    /** How long a user has to finish login and consent. */
    readonly pendingAuthorization?: number;
    /** Absolute lifetime of a grant: refresh rotation never extends a session past it. Default 90 days. */
    readonly grant?: number;
  };
  /** Dynamic client registration (RFC 7591). Enabled by default. */
  readonly registration?: {
    /** Serve `/register`; default `true`. */
    readonly enabled?: boolean;
    /**
     * New client records allowed per source (an IPv4 address, an IPv6 /64; needs `clientIp`), in a
     * one-minute burst window and a one-hour window; defaults 60 and 300 (a client backend such as
     * Claude.ai's registers for many users at once from one address). Identical re-registrations of
     * a public client after the first share one client and do not count.
     */
    readonly rateLimit?: {
      /** Registrations per source per minute; default a fifth of `perHour`, at least 60 (at most `perHour`). */
      readonly perMinute?: number;
      /** Registrations per source per hour; default 300. */
      readonly perHour?: number;
    };
    /** @deprecated Use `rateLimit.perHour`; kept as its alias. */
    readonly maxPerHour?: number;
    /**
     * Seconds a registered client may go unused (no authorization or token request) before it expires
     * and cleanup deletes it; at least `lifetimes.refreshToken`. Default 90 days (or the refresh-token
     * lifetime plus a day, if longer); `0` keeps clients forever. Client ID Metadata Documents never
     * expire this way.
     */
    readonly unusedClientLifetime?: number;
    /**
     * RFC 7591 §3: registrations must present one of these initial access tokens as a bearer token
     * (each at least 32 characters); a missing or wrong one gets 401 `invalid_token`. Default none.
     */
    readonly initialAccessTokens?: readonly string[];
    /**
     * Who may register: called with each validated registration; a refusal answers 400 with its RFC
     * 7591 §3.2.2 error. `redirectUriAllowList({ schemes, hosts })` is one. Default: everyone.
     */
    readonly policy?: RegistrationPolicy;
  };
  /**
   * Client ID Metadata Documents: clients whose client_id is an https URL serving their metadata
   * (draft-ietf-oauth-client-id-metadata-document). Enabled by default; private and local hosts are
   * always refused.
   */
  readonly clientIdMetadataDocuments?: {
    /** Accept https URL client_ids; default `true`. */
    readonly enabled?: boolean;
    /** How long a fetched document is cached, in seconds; default 300. */
    readonly cacheSeconds?: number;
    /** The fetch used to get documents (e.g. one with an egress proxy); default the global fetch. */
    readonly fetch?: (input: string, init: RequestInit) => Promise<Response>;
  };
  /**
   * Caches verified access tokens in memory for a few seconds, keyed by the token's hash. Revocations
   * made through this instance take effect at once; on other instances sharing the storage a revoked
   * token may still pass for up to `ttlSeconds`. Off by default.
   */
  readonly tokenCache?: {
    /** How long a verified token is trusted from memory, 1–5 seconds; default 2. */
    readonly ttlSeconds?: number;
    /** Most tokens kept (least recently used are dropped); default 10 000. */
    readonly maxEntries?: number;
  };
  /** How long one storage operation may take before the request answers 503; default 8000 ms. */
  readonly storageTimeoutMs?: number;
  /**
   * The reuse interval (OAuth 2.1 §4.3.1, RFC 9700 §4.14.2), in seconds: for this long after a refresh
   * token or an authorization code was first used, the same client repeating that request (several
   * processes refreshing at once, a retry after a lost response or a 503) gets the same tokens again
   * instead of a replay refusal. A repeat after it, or one that differs (another client, another PKCE
   * verifier or redirect URI), is still a replay and revokes the grant. The default, 20, covers a retry
   * after a storage timeout (8 s) and the `Retry-After` of its 503 (5 s); at most 300; `0` disables it.
   */
  readonly reuseIntervalSeconds?: number;
  /** Remember consent per user and client; default `true`. */
  readonly rememberConsent?: boolean;
  /** Name shown on the authorization pages; default `Portcullis`. */
  readonly serviceName?: string;
  /**
   * Accept a storage whose `consume` is not atomic. Only safe when exactly one instance serves the
   * issuer; named to be explicit.
   */
  readonly allowNonAtomicStorage?: 'single-instance';
  /** Observes every storage call (operation, kind, duration, success), e.g. for a latency histogram. */
  readonly onStorageCall?: StorageObserver;
  /** Audit hook. Never receives secrets. Errors it throws are ignored. */
  readonly onEvent?: (event: PortcullisEvent) => void | Promise<void>;
  /** The client IP of a request, for rate limits (adapters provide it). */
  readonly clientIp?: (request: Request) => string | undefined;
  /** Clock in epoch milliseconds (tests). */
  readonly now?: () => number;
  /** Random source (tests). */
  readonly random?: RandomSource;
}

/** An issuer rule: the URL of a string that is one must pass `test`, else the problem is `message`. */
const issuerRule =
  (test: (url: URL, value: string) => boolean, message: string): v.Rule<string> =>
  (value) =>
    !URL.canParse(value) || test(new URL(value), value) ? undefined : message;

const issuerSchema = v.string(
  v.rule((value) => URL.canParse(value), 'must be an absolute URL'),
  issuerRule(isSecureOrLoopback, 'must use https (http is allowed on loopback only)'),
  // RFC 8414 §2: no query or fragment in the issuer.
  issuerRule(
    (url, value) => !url.search && !url.hash && !value.includes('#'),
    'must not have a query or fragment',
  ),
  issuerRule((url) => !url.username && !url.password, 'must not contain credentials'),
);

const seconds = (most: number) => v.optional(v.int(v.positive, v.max(most)));
const count = v.optional(v.int(v.positive));
const flag = v.optional(v.boolean());
const scopeTokens = v.optional(
  v.array(
    v.string(
      v.matches(SCOPE_TOKEN, 'scope tokens are printable ASCII without spaces, quotes or backslashes'),
    ),
  ),
);
const fn = v.optional(
  v.custom<(...args: never[]) => unknown>((value) => typeof value === 'function', 'must be a function'),
);
const implementing = (members: string[], message: string) =>
  v.custom<object>(
    (value) => typeof value === 'object' && value !== null && members.every((m) => m in value),
    message,
  );
const isUrl = (value: string) => URL.canParse(value.trim());

const optionsSchema = v.object({
  issuer: issuerSchema,
  storage: implementing(['consume', 'capabilities'], 'must implement the Storage interface'),
  upstream: implementing(['begin', 'handle'], 'must implement the IdentityUpstream interface'),
  secret: v.refine(
    v.union<string | string[]>(
      [v.string(), v.array(v.string(), v.minLength(1))],
      'required: a string of at least 32 characters (or a non-empty array of them, newest first)',
    ),
    v.rule(
      (value) => (typeof value === 'string' ? [value] : value).every((s) => s.length >= 32),
      'every secret must be at least 32 characters',
    ),
  ),
  resources: v.optional(
    v.array(
      v.object({
        path: v.string(v.matches(/^\/[^?#]*$/, 'must be a path starting with "/"')),
        resource: v.optional(v.string(v.rule(isUrl, 'must be an absolute URL'))),
        name: v.optional(v.string()),
        scopes: scopeTokens,
        advertisedScopes: scopeTokens,
      }),
      v.minLength(1),
    ),
  ),
  scopes: v.optional(v.object({ supported: scopeTokens, default: scopeTokens, strict: flag })),
  lifetimes: v.optional(
    v.object({
      authorizationCode: seconds(600),
      accessToken: seconds(86_400 * 7),
      refreshToken: seconds(86_400 * 365),
      pendingAuthorization: seconds(3600),
      grant: seconds(86_400 * 3650),
    }),
  ),
  registration: v.optional(
    v.object({
      enabled: flag,
      rateLimit: v.optional(v.object({ perMinute: count, perHour: count })),
      maxPerHour: count,
      unusedClientLifetime: v.optional(v.int(v.min(0), v.max(86_400 * 3650))),
      initialAccessTokens: v.optional(
        v.array(v.string(v.minLength(32, 'initial access tokens must be at least 32 characters'))),
      ),
      policy: fn,
    }),
  ),
  clientIdMetadataDocuments: v.optional(
    v.object({ enabled: flag, cacheSeconds: seconds(86_400), fetch: fn }),
  ),
  tokenCache: v.optional(
    v.object({ ttlSeconds: seconds(5), maxEntries: v.optional(v.int(v.positive, v.max(1_000_000))) }),
  ),
  storageTimeoutMs: seconds(120_000),
  reuseIntervalSeconds: v.optional(v.int(v.min(0), v.max(300))),
  rememberConsent: flag,
  serviceName: v.optional(v.string(v.minLength(1), v.maxLength(100))),
  allowNonAtomicStorage: v.optional(v.oneOf(['single-instance'])),
  onEvent: fn,
  onStorageCall: fn,
  clientIp: fn,
  extensions: v.optional(
    v.array(implementing(['name'], 'must be an extension made by a Portcullis extension factory')),
  ),
  now: fn,
  random: fn,
});

/** Thrown by {@link createAuthorizationServer} for invalid options; the message lists every problem. */
export class ConfigurationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigurationError';
  }
}

/** A {@link ConfigurationError} listing `problems`, each `<option path>: <what is wrong>`. */
export const invalidOptions = (...problems: string[]): ConfigurationError =>
  new ConfigurationError(`Invalid Portcullis options:\n  - ${problems.join('\n  - ')}`);

/**
 * The options after validation, with defaults filled in (lifetimes in seconds, `tokenCache.ttlMs` in ms).
 * @internal
 */
export interface ResolvedConfig {
  readonly issuer: string;
  readonly issuerUrl: URL;
  readonly storage: Storage;
  readonly upstream: IdentityUpstream;
  readonly secrets: readonly string[];
  readonly resources: readonly ConfiguredResource[];
  /** Resource scopes clients may request (never `offline_access`, which is always accepted). */
  readonly scopesSupported: readonly string[];
  readonly defaultScopes: readonly string[];
  /** Refuse ungrantable scopes instead of granting the grantable subset. */
  readonly strictScopes: boolean;
  readonly lifetimes: { code: number; access: number; refresh: number; pending: number; grant: number };
  readonly registration: {
    enabled: boolean;
    /** Registration rate windows per source. */
    limits: readonly RateWindow[];
    /** How long a registered client may go unused, in ms; `null`: forever. */
    unusedClientMs: number | null;
    /** RFC 7591 §3 initial access tokens; empty: none required. */
    initialAccessTokens: readonly string[];
    policy: RegistrationPolicy | undefined;
  };
  readonly clientIdMetadataDocuments: {
    enabled: boolean;
    cacheSeconds: number;
    fetch: (input: string, init: RequestInit) => Promise<Response>;
  };
  readonly tokenCache: { ttlMs: number; maxEntries: number } | undefined;
  readonly storageTimeoutMs: number;
  /** The reuse interval in ms; `0` when disabled. */
  readonly reuseIntervalMs: number;
  readonly rememberConsent: boolean;
  readonly serviceName: string;
  readonly onEvent: (event: PortcullisEvent) => void;
  readonly onStorageCall: StorageObserver | undefined;
  readonly clientIp: (request: Request) => string | undefined;
  readonly now: () => number;
  readonly random: RandomSource;
}

/** A fixed rate-limit window: at most `max` events per `seconds`. */
export interface RateWindow {
  readonly seconds: number;
  readonly max: number;
}

const DAY = 86_400;

/** The registration windows from the options (a burst window and an hourly one). */
function registrationLimits(options: CoreOptions['registration']): RateWindow[] {
  const perHour = options?.rateLimit?.perHour ?? options?.maxPerHour ?? 300;
  const perMinute = Math.min(options?.rateLimit?.perMinute ?? Math.max(60, Math.ceil(perHour / 5)), perHour);
  return [
    { seconds: 60, max: perMinute },
    { seconds: 3600, max: perHour },
  ];
}

/** Validates options and fills defaults; throws {@link ConfigurationError} listing every problem. */
export function resolveConfig(options: CoreOptions): ResolvedConfig {
  const parsed = v.validate(optionsSchema, options);
  if (!parsed.ok) {
    const problems = parsed.issues.map((i) => `${i.path.join('.') || 'options'}: ${i.message}`);
    throw invalidOptions(...problems);
  }
  const issuer = options.issuer.replace(/\/+$/, '');
  const issuerUrl = new URL(issuer);
  if (!options.storage.capabilities.atomic && options.allowNonAtomicStorage !== 'single-instance') {
    throw invalidOptions(
      'storage: this storage cannot consume codes and refresh tokens atomically; ' +
        'use an atomic storage (SQL, Redis, Durable Object) or set allowNonAtomicStorage: "single-instance"',
    );
  }
  const upstream = options.upstream as IdentityUpstream & Record<string, unknown>;
  if (!upstream.upstreamTokens && (upstream.refreshUpstreamToken || upstream.revokeUpstreamToken)) {
    // Earlier versions read these methods: refuse rather than silently stop refreshing and revoking.
    throw invalidOptions(
      'upstream: refreshUpstreamToken and revokeUpstreamToken are no longer read; set ' +
        'upstreamTokens: refreshableUpstreamTokens({ refresh, revoke }) from @portcullis/core/upstreams',
    );
  }
  // SEP-2207: offline_access is the refresh-token wish, never a resource scope, even when configured.
  const scopesSupported = resourceScopes(options.scopes?.supported ?? ['mcp']);
  const defaultScopes = resourceScopes(options.scopes?.default ?? scopesSupported.slice(0, 1));
  const unknownDefault = defaultScopes.filter((s) => !scopesSupported.includes(s));
  if (unknownDefault.length > 0) {
    throw invalidOptions(`scopes.default: not supported: ${unknownDefault.join(' ')}`);
  }
  const resources = (options.resources ?? [{ path: '/mcp' }]).map((r, i) => {
    const scopes = resourceScopes(r.scopes ?? scopesSupported);
    const advertisedScopes = resourceScopes(r.advertisedScopes ?? scopes);
    const stray = advertisedScopes.filter((s) => !scopes.includes(s));
    if (stray.length > 0) {
      throw invalidOptions(`resources.${i}.advertisedScopes: not in its scopes: ${stray.join(' ')}`);
    }
    return {
      path: r.path,
      // MCP canonical server URI: a resource at the origin root is the origin, without a trailing slash.
      resource: r.resource ?? (r.path === '/' ? issuerUrl.origin : `${issuerUrl.origin}${r.path}`),
      ...(r.name ? { name: r.name } : {}),
      scopes,
      advertisedScopes,
    };
  });
  const refreshSeconds = options.lifetimes?.refreshToken ?? 30 * DAY;
  const unused = options.registration?.unusedClientLifetime ?? Math.max(90 * DAY, refreshSeconds + DAY);
  if (unused > 0 && unused < refreshSeconds) {
    // A client that still holds a live refresh token must not expire for want of use.
    throw invalidOptions('registration.unusedClientLifetime: must be 0 or at least lifetimes.refreshToken');
  }
  const rawEvent = options.onEvent;
  return {
    issuer,
    issuerUrl,
    storage: options.storage,
    upstream: options.upstream,
    secrets: typeof options.secret === 'string' ? [options.secret] : [...options.secret],
    resources,
    scopesSupported,
    defaultScopes,
    strictScopes: options.scopes?.strict ?? false,
    lifetimes: {
      code: options.lifetimes?.authorizationCode ?? 300,
      access: options.lifetimes?.accessToken ?? 3600,
      refresh: refreshSeconds,
      pending: options.lifetimes?.pendingAuthorization ?? 600,
      grant: options.lifetimes?.grant ?? 90 * 86_400,
    },
    registration: {
      enabled: options.registration?.enabled ?? true,
      limits: registrationLimits(options.registration),
      unusedClientMs: unused > 0 ? unused * 1000 : null,
      initialAccessTokens: [...(options.registration?.initialAccessTokens ?? [])],
      policy: options.registration?.policy,
    },
    clientIdMetadataDocuments: {
      enabled: options.clientIdMetadataDocuments?.enabled ?? true,
      cacheSeconds: options.clientIdMetadataDocuments?.cacheSeconds ?? 300,
      fetch: options.clientIdMetadataDocuments?.fetch ?? ((input, init) => fetch(input, init)),
    },
    tokenCache: options.tokenCache
      ? {
          ttlMs: (options.tokenCache.ttlSeconds ?? 2) * 1000,
          maxEntries: options.tokenCache.maxEntries ?? 10_000,
        }
      : undefined,
    storageTimeoutMs: options.storageTimeoutMs ?? 8000,
    reuseIntervalMs: (options.reuseIntervalSeconds ?? 20) * 1000,
    rememberConsent: options.rememberConsent ?? true,
    serviceName: options.serviceName ?? 'Portcullis',
    onEvent: (event) => {
      if (!rawEvent) return;
      try {
        void Promise.resolve(rawEvent(event)).catch(() => {});
      } catch {
        // An audit hook must never break a flow.
      }
    },
    onStorageCall: options.onStorageCall,
    clientIp: options.clientIp ?? (() => undefined),
    now: options.now ?? Date.now,
    random: options.random ?? webRandom,
  };
}
