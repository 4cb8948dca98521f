import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { OPTIONS } from './options.js';

/** A configuration problem, with a one-line message naming the setting (never its value). */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

const TRUE = new Set(['1', 'true', 'yes', 'on']);
const FALSE = new Set(['0', 'false', 'no', 'off']);

const bool = z.unknown().transform((value, ctx) => {
  if (typeof value === 'boolean') return value;
  const v = typeof value === 'string' ? value.trim().toLowerCase() : '';
  if (TRUE.has(v)) return true;
  if (FALSE.has(v)) return false;
  ctx.addIssue({ code: 'custom', message: 'must be true or false' });
  return z.NEVER;
});

const int = (min: number, max: number) =>
  z.coerce
    .number({ message: 'must be a number' })
    .int({ message: 'must be a whole number' })
    .min(min, { message: `must be at least ${min}` })
    .max(max, { message: `must be at most ${max}` });

const list = z
  .union([z.array(z.string()), z.string()])
  .transform((value) =>
    (Array.isArray(value) ? value : value.split(/[\s,]+/)).map((item) => item.trim()).filter(Boolean),
  );

const httpUrl = z.string().refine(
  (value) => {
    try {
      const url = new URL(value);
      return url.protocol === 'https:' || url.protocol === 'http:';
    } catch {
      return false;
    }
  },
  { message: 'must be an http(s) URL' },
);

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);
const isLoopback = (hostname: string) => LOOPBACK.has(hostname) || hostname.endsWith('.localhost');

const schema = z
  .object({
    port: int(0, 65535).default(8787),
    host: z.string().min(1, { message: 'must not be empty' }).default('127.0.0.1'),
    publicUrl: httpUrl.optional(),
    trustProxy: bool.default(false),
    dataDir: z.string().min(1).default('.portcullis'),
    storageUrl: z.string().min(1).optional(),
    storagePrefix: z.string().min(1).optional(),
    secret: list.optional(),
    identity: z.enum(['pin', 'oidc'], { message: 'must be pin or oidc' }).optional(),
    pin: z
      .string()
      .regex(/^[\x20-\x7e]{6,128}$/, { message: 'must be 6 to 128 printable characters' })
      .optional(),
    oidcIssuer: httpUrl.optional(),
    oidcClientId: z.string().min(1).optional(),
    oidcClientSecret: z.string().min(1).optional(),
    oidcScopes: list.default(['openid', 'email', 'profile']),
    allowedDomains: list.default([]),
    allowedEmails: list.default([]),
    allowedClaims: list.default([]).transform((pairs, ctx) => {
      const claims: Record<string, string[]> = {};
      for (const pair of pairs) {
        const at = pair.indexOf('=');
        if (at <= 0 || at === pair.length - 1) {
          ctx.addIssue({ code: 'custom', message: 'must be claim=value pairs' });
          return z.NEVER;
        }
        const name = pair.slice(0, at);
        claims[name] = [...(claims[name] ?? []), pair.slice(at + 1)];
      }
      return claims;
    }),
    allowAnyone: bool.default(false),
    pinMaxAttempts: int(1, 100).default(5),
    pinAttemptsPerClient: int(1, 100_000).default(20),
    pinAttemptsTotal: int(1, 1_000_000).default(100),
    upstreamMcpUrl: httpUrl.optional(),
    upstreamToken: z.string().min(1).optional(),
    userHeader: z.string().default('X-Forwarded-User'),
    emailHeader: z.string().default('X-Forwarded-Email'),
    userHeaderValue: z.enum(['userId', 'email'], { message: 'must be userId or email' }).default('userId'),
    identityAssertion: z
      .enum(['off', 'jwks', 'hs256'], { message: 'must be off, jwks or hs256' })
      .default('off'),
    identityAssertionHeader: z.string().default('Portcullis-Jwt-Assertion'),
    identityAssertionSecret: z.string().optional(),
    mcpPath: z
      .string()
      .regex(/^\/[A-Za-z0-9._~\-/]*$/, { message: 'must be a path starting with /' })
      .default('/mcp'),
    scopes: list.default(['mcp']),
    authorizationCodeTtl: int(10, 600).default(300),
    accessTokenTtl: int(60, 86_400 * 7).default(3600),
    refreshTokenTtl: int(60, 86_400 * 365).default(2_592_000),
    cleanupInterval: int(0, 86_400).default(600),
    bodyLimit: int(1024, 100 * 1024 * 1024).default(1024 * 1024),
    storageTimeoutMs: int(100, 120_000).default(8000),
    tokenCacheTtl: int(0, 5).default(0),
    tokenCacheSize: int(1, 1_000_000).default(10_000),
    reuseInterval: int(0, 300).default(20),
    registration: bool.default(true),
    registrationPerMinute: int(1, 1_000_000).optional(),
    registrationPerHour: int(1, 1_000_000).default(300),
    registrationTokens: list.default([]),
    redirectSchemes: list.default([]),
    redirectHosts: list.default([]),
    unusedClientTtl: int(0, 86_400 * 3650).optional(),
    health: bool.default(true),
    metricsPort: int(0, 65535).optional(),
    metricsHost: z.string().min(1).default('127.0.0.1'),
    adminPort: int(0, 65535).optional(),
    adminHost: z.string().min(1).default('127.0.0.1'),
    adminToken: z.string().min(32, { message: 'must be at least 32 characters' }).optional(),
    logEvents: bool.default(true),
    logLevel: z.enum(['info', 'warn', 'error'], { message: 'must be info, warn or error' }).default('info'),
  })
  .strict()
  .superRefine((config, ctx) => {
    const identity = config.identity ?? (config.oidcIssuer ? 'oidc' : 'pin');
    if (identity === 'oidc') {
      for (const key of ['oidcIssuer', 'oidcClientId', 'oidcClientSecret'] as const) {
        if (!config[key])
          ctx.addIssue({ code: 'custom', path: [key], message: 'is required when IDENTITY=oidc' });
      }
    }
    const restricted =
      config.allowedDomains.length > 0 ||
      config.allowedEmails.length > 0 ||
      Object.keys(config.allowedClaims).length > 0;
    if (identity === 'oidc' && !restricted && !config.allowAnyone) {
      // Safe by default: an identity provider signs in anyone it knows (any Google account).
      ctx.addIssue({
        code: 'custom',
        path: ['allowedEmails'],
        message:
          'or another allow-list is required with IDENTITY=oidc: set ALLOWED_EMAILS, ALLOWED_DOMAINS or ALLOWED_CLAIMS, or ALLOW_ANYONE=true to admit everyone the provider signs in',
      });
    }
    for (const token of config.registrationTokens) {
      if (token.length < 32) {
        ctx.addIssue({
          code: 'custom',
          path: ['registrationTokens'],
          message: 'must be at least 32 characters each',
        });
        break;
      }
    }
    if (
      config.unusedClientTtl !== undefined &&
      config.unusedClientTtl > 0 &&
      config.unusedClientTtl < config.refreshTokenTtl
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['unusedClientTtl'],
        message:
          'must be 0 or at least REFRESH_TOKEN_TTL (a client holding a live refresh token must not expire)',
      });
    }
    if (config.adminPort !== undefined && !config.adminToken) {
      ctx.addIssue({ code: 'custom', path: ['adminToken'], message: 'is required with ADMIN_PORT' });
    }
    if (config.upstreamToken && !config.upstreamMcpUrl) {
      ctx.addIssue({ code: 'custom', path: ['upstreamToken'], message: 'needs UPSTREAM_MCP_URL' });
    }
    for (const secret of config.secret ?? []) {
      if (secret.length < 32) {
        ctx.addIssue({ code: 'custom', path: ['secret'], message: 'must be at least 32 characters' });
        break;
      }
    }
    if (config.trustProxy && !config.publicUrl) {
      // The issuer is fixed at start-up; behind a proxy only PUBLIC_URL can name it (never request headers).
      ctx.addIssue({
        code: 'custom',
        path: ['publicUrl'],
        message: 'is required with TRUST_PROXY (it becomes the issuer)',
      });
    }
    if (config.publicUrl) {
      const url = new URL(config.publicUrl);
      // OAuth 2.1 §1.5 / RFC 8252 §8.3: plain http only for loopback.
      if (url.protocol === 'http:' && !isLoopback(url.hostname)) {
        ctx.addIssue({
          code: 'custom',
          path: ['publicUrl'],
          message: 'must be https (http only on loopback)',
        });
      }
      if (url.search || url.hash) {
        ctx.addIssue({ code: 'custom', path: ['publicUrl'], message: 'must not have a query or fragment' });
      }
    }
    if (config.identityAssertion !== 'off' && !config.upstreamMcpUrl) {
      ctx.addIssue({ code: 'custom', path: ['identityAssertion'], message: 'needs UPSTREAM_MCP_URL' });
    }
    if (config.identityAssertion === 'hs256' && (config.identityAssertionSecret ?? '').length < 32) {
      ctx.addIssue({
        code: 'custom',
        path: ['identityAssertionSecret'],
        message: 'must be at least 32 characters with IDENTITY_ASSERTION=hs256',
      });
    }
    for (const key of ['userHeader', 'emailHeader', 'identityAssertionHeader'] as const) {
      if (config[key] !== '' && !/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(config[key])) {
        ctx.addIssue({ code: 'custom', path: [key], message: 'must be a valid header name' });
      }
    }
  });

/** The raw (unvalidated) settings: file values overlaid with environment values. */
export type RawConfig = Record<string, unknown>;

/** A validated gateway configuration, with defaults filled in. */
export interface GatewayConfig
  extends Omit<z.output<typeof schema>, 'identity' | 'storageUrl' | 'publicUrl'> {
  readonly identity: 'pin' | 'oidc';
  /** Resolved storage location (defaults to `<dataDir>/portcullis.db`). */
  readonly storageUrl: string;
  /** The issuer: `publicUrl` without a trailing slash, or `http://<host>:<port>`. */
  readonly issuer: string;
  readonly publicUrl?: string;
}

function describeKey(key: string): string {
  const spec = OPTIONS.find((option) => option.key === key);
  return spec ? `${spec.env} (${spec.key})` : key;
}

/** Reads the environment variables of every known option (empty values count as unset). */
export function configFromEnv(env: NodeJS.ProcessEnv): RawConfig {
  const raw: RawConfig = {};
  for (const option of OPTIONS) {
    const value = env[option.env];
    const headerOption = option.key === 'userHeader' || option.key === 'emailHeader';
    if (value !== undefined && (value !== '' || headerOption)) raw[option.key] = value;
  }
  return raw;
}

/** Reads a JSON config file (an object whose keys are the option keys). */
export function configFromFile(path: string): RawConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = error instanceof Error && 'code' in error ? String(error.code) : 'unreadable';
    throw new ConfigError(`cannot read config file ${path} (${code})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ConfigError(`config file ${path} is not valid JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError(`config file ${path} must hold a JSON object`);
  }
  return parsed as RawConfig;
}

/**
 * Validates raw settings and fills in defaults.
 * @throws ConfigError with one line listing every problem.
 */
export function parseConfig(raw: RawConfig): GatewayConfig {
  const result = schema.safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      if (issue.code === 'unrecognized_keys') return `unknown setting(s) ${issue.keys.join(', ')}`;
      const key = String(issue.path[0] ?? 'config');
      return `${describeKey(key)} ${issue.message}`;
    });
    throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
  }
  const config = result.data;
  const shownHost = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  const hostPart = shownHost.includes(':') ? `[${shownHost}]` : shownHost;
  const issuer = (config.publicUrl ?? `http://${hostPart}:${config.port}`).replace(/\/+$/, '');
  return {
    ...config,
    identity: config.identity ?? (config.oidcIssuer ? 'oidc' : 'pin'),
    storageUrl: config.storageUrl ?? join(config.dataDir, 'portcullis.db'),
    issuer,
  };
}

/** Loads the configuration: the `--config` file (if any), overlaid with the environment, validated. */
export function loadConfig(options: { env: NodeJS.ProcessEnv; configFile?: string }): GatewayConfig {
  const fromFile = options.configFile ? configFromFile(options.configFile) : {};
  return parseConfig({ ...fromFile, ...configFromEnv(options.env) });
}
