import { z } from 'zod';
import type { RandomSource } from './crypto/random.js';
import type { Storage } from './storage/types.js';
import type { PortcullisEvent } from './types.js';
import type { IdentityUpstream } from './upstream.js';

/** A protected resource the authorization server issues tokens for (RFC 9728, RFC 8707). */
export interface ResourceOptions {
  /** Path of the resource on the issuer's origin, e.g. `/mcp`. */
  readonly path: string;
  /** The resource identifier; defaults to the issuer's origin + `path`. */
  readonly resource?: string;
  /** Human-readable name for RFC 9728 `resource_name`. */
  readonly name?: string;
  /** Scopes this resource accepts; defaults to the server's supported scopes. */
  readonly scopes?: readonly string[];
}

/** Options of {@link createAuthorizationServer}. */
export interface AuthorizationServerOptions {
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
  readonly scopes?: { readonly supported?: readonly string[]; readonly default?: readonly string[] };
  /** Lifetimes in seconds. */
  readonly lifetimes?: {
    readonly authorizationCode?: number;
    readonly accessToken?: number;
    readonly refreshToken?: number;
    /** How long a user has to finish login and consent. */
    readonly pendingAuthorization?: number;
    /** Absolute lifetime of a grant: refresh rotation never extends a session past it. Default 90 days. */
    readonly grant?: number;
  };
  /** Dynamic client registration (RFC 7591). Enabled by default. */
  readonly registration?: {
    readonly enabled?: boolean;
    /** Registrations allowed per client IP per hour (needs `clientIp`); default 30. */
    readonly maxPerHour?: number;
  };
  /**
   * Client ID Metadata Documents: clients whose client_id is an https URL serving their metadata
   * (draft-ietf-oauth-client-id-metadata-document). Enabled by default; private and local hosts are
   * always refused.
   */
  readonly clientIdMetadataDocuments?: {
    readonly enabled?: boolean;
    /** How long a fetched document is cached, in seconds; default 300. */
    readonly cacheSeconds?: number;
    /** The fetch used to get documents (e.g. one with an egress proxy); default the global fetch. */
    readonly fetch?: (input: string, init: RequestInit) => Promise<Response>;
  };
  /** How long one storage operation may take before the request answers 503; default 8000 ms. */
  readonly storageTimeoutMs?: number;
  /** Remember consent per user and client; default `true`. */
  readonly rememberConsent?: boolean;
  /** Name shown on the authorization pages; default `Portcullis`. */
  readonly serviceName?: string;
  /**
   * Accept a storage whose `consume` is not atomic. Only safe when exactly one instance serves the
   * issuer; named to be explicit.
   */
  readonly allowNonAtomicStorage?: 'single-instance';
  /** Audit hook. Never receives secrets. Errors it throws are ignored. */
  readonly onEvent?: (event: PortcullisEvent) => void | Promise<void>;
  /** The client IP of a request, for rate limits (adapters provide it). */
  readonly clientIp?: (request: Request) => string | undefined;
  /** Clock in epoch milliseconds (tests). */
  readonly now?: () => number;
  /** Random source (tests). */
  readonly random?: RandomSource;
}

const loopback = (host: string) =>
  host === 'localhost' || host === '[::1]' || /^127(\.\d{1,3}){3}$/.test(host);

const issuerSchema = z.string().superRefine((value, ctx) => {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'must be an absolute URL' });
    return;
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback(url.hostname))) {
    ctx.addIssue({ code: 'custom', message: 'must use https (http is allowed on loopback only)' });
  }
  // RFC 8414 §2: no query or fragment in the issuer.
  if (url.search || url.hash || value.includes('#'))
    ctx.addIssue({ code: 'custom', message: 'must not have a query or fragment' });
  if (url.username || url.password) ctx.addIssue({ code: 'custom', message: 'must not contain credentials' });
});

const seconds = (max: number) => z.number().int().positive().max(max);
const scopeToken = z
  .string()
  .regex(
    /^[\x21\x23-\x5B\x5D-\x7E]+$/,
    'scope tokens are printable ASCII without spaces, quotes or backslashes',
  );

const optionsSchema = z.object({
  issuer: issuerSchema,
  storage: z.custom<Storage>(
    (v) => typeof v === 'object' && v !== null && 'consume' in v && 'capabilities' in v,
    {
      message: 'must implement the Storage interface',
    },
  ),
  upstream: z.custom<IdentityUpstream>(
    (v) => typeof v === 'object' && v !== null && 'begin' in v && 'handle' in v,
    {
      message: 'must implement the IdentityUpstream interface',
    },
  ),
  secret: z
    .union([z.string(), z.array(z.string()).min(1)])
    .refine(
      (v) => (typeof v === 'string' ? [v] : v).every((s) => s.length >= 32),
      'every secret must be at least 32 characters',
    ),
  resources: z
    .array(
      z.object({
        path: z.string().regex(/^\/[^?#]*$/, 'must be a path starting with "/"'),
        resource: z.url().optional(),
        name: z.string().optional(),
        scopes: z.array(scopeToken).optional(),
      }),
    )
    .min(1)
    .optional(),
  scopes: z
    .object({ supported: z.array(scopeToken).optional(), default: z.array(scopeToken).optional() })
    .optional(),
  lifetimes: z
    .object({
      authorizationCode: seconds(600).optional(),
      accessToken: seconds(86_400 * 7).optional(),
      refreshToken: seconds(86_400 * 365).optional(),
      pendingAuthorization: seconds(3600).optional(),
      grant: seconds(86_400 * 3650).optional(),
    })
    .optional(),
  registration: z
    .object({ enabled: z.boolean().optional(), maxPerHour: z.number().int().positive().optional() })
    .optional(),
  clientIdMetadataDocuments: z
    .object({
      enabled: z.boolean().optional(),
      cacheSeconds: seconds(86_400).optional(),
      fetch: z.function().optional(),
    })
    .optional(),
  storageTimeoutMs: z.number().int().positive().max(120_000).optional(),
  rememberConsent: z.boolean().optional(),
  serviceName: z.string().min(1).max(100).optional(),
  allowNonAtomicStorage: z.literal('single-instance').optional(),
  onEvent: z.function().optional(),
  clientIp: z.function().optional(),
  now: z.function().optional(),
  random: z.function().optional(),
});

/** Thrown by {@link createAuthorizationServer} for invalid options; the message lists every problem. */
export class ConfigurationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigurationError';
  }
}

/** The options after validation, with defaults filled in. */
export interface ResolvedConfig {
  readonly issuer: string;
  readonly issuerUrl: URL;
  readonly storage: Storage;
  readonly upstream: IdentityUpstream;
  readonly secrets: readonly string[];
  readonly resources: readonly { path: string; resource: string; name?: string; scopes: readonly string[] }[];
  readonly scopesSupported: readonly string[];
  readonly defaultScopes: readonly string[];
  readonly lifetimes: { code: number; access: number; refresh: number; pending: number; grant: number };
  readonly registration: { enabled: boolean; maxPerHour: number };
  readonly clientIdMetadataDocuments: {
    enabled: boolean;
    cacheSeconds: number;
    fetch: (input: string, init: RequestInit) => Promise<Response>;
  };
  readonly storageTimeoutMs: number;
  readonly rememberConsent: boolean;
  readonly serviceName: string;
  readonly onEvent: (event: PortcullisEvent) => void;
  readonly clientIp: (request: Request) => string | undefined;
  readonly now: () => number;
  readonly random: RandomSource;
}

/** Validates options (zod) and fills defaults; throws {@link ConfigurationError} listing every problem. */
export function resolveConfig(
  options: AuthorizationServerOptions,
  defaults: { random: RandomSource },
): ResolvedConfig {
  const parsed = optionsSchema.safeParse(options);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || 'options'}: ${i.message}`);
    throw new ConfigurationError(`Invalid Portcullis options:\n  - ${problems.join('\n  - ')}`);
  }
  const issuer = options.issuer.replace(/\/+$/, '');
  const issuerUrl = new URL(issuer);
  if (!options.storage.capabilities.atomic && options.allowNonAtomicStorage !== 'single-instance') {
    throw new ConfigurationError(
      'Invalid Portcullis options:\n  - storage: this storage cannot consume codes and refresh tokens atomically; ' +
        'use an atomic storage (SQL, Redis, Durable Object) or set allowNonAtomicStorage: "single-instance"',
    );
  }
  const scopesSupported = [...(options.scopes?.supported ?? ['mcp'])];
  const defaultScopes = [...(options.scopes?.default ?? scopesSupported.slice(0, 1))];
  const unknownDefault = defaultScopes.filter((s) => !scopesSupported.includes(s));
  if (unknownDefault.length > 0) {
    throw new ConfigurationError(
      `Invalid Portcullis options:\n  - scopes.default: not supported: ${unknownDefault.join(' ')}`,
    );
  }
  const resources = (options.resources ?? [{ path: '/mcp' }]).map((r) => ({
    path: r.path,
    resource: r.resource ?? `${issuerUrl.origin}${r.path}`,
    ...(r.name ? { name: r.name } : {}),
    scopes: [...(r.scopes ?? scopesSupported)],
  }));
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
    lifetimes: {
      code: options.lifetimes?.authorizationCode ?? 300,
      access: options.lifetimes?.accessToken ?? 3600,
      refresh: options.lifetimes?.refreshToken ?? 30 * 86_400,
      pending: options.lifetimes?.pendingAuthorization ?? 600,
      grant: options.lifetimes?.grant ?? 90 * 86_400,
    },
    registration: {
      enabled: options.registration?.enabled ?? true,
      maxPerHour: options.registration?.maxPerHour ?? 30,
    },
    clientIdMetadataDocuments: {
      enabled: options.clientIdMetadataDocuments?.enabled ?? true,
      cacheSeconds: options.clientIdMetadataDocuments?.cacheSeconds ?? 300,
      fetch: options.clientIdMetadataDocuments?.fetch ?? ((input, init) => fetch(input, init)),
    },
    storageTimeoutMs: options.storageTimeoutMs ?? 8000,
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
    clientIp: options.clientIp ?? (() => undefined),
    now: options.now ?? Date.now,
    random: options.random ?? defaults.random,
  };
}
