import { randomInt } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  clientIp,
  type FetchHandler,
  gracefulShutdown,
  handleNodeRequest,
  portcullisRoutes,
} from '@portcullis/adapter-node';
import {
  type AuthorizationServer,
  ConfigurationError,
  createAuthorizationServer,
  createManagement,
  healthRoutes,
  type IdentityUpstream,
  type PortcullisEvent,
  redirectUriAllowList,
  type Storage,
} from '@portcullis/core';
import { jwks, type SigningKeys } from '@portcullis/core/extensions';
import {
  identityHeaders,
  legacySse,
  mcpProxy,
  protectMcpServer,
  signedIdentity,
  staticToken,
  type UpstreamCredentials,
} from '@portcullis/core/mcp';
import { pinUpstream } from '@portcullis/core/upstreams';
import { serveAdmin } from './admin-http.js';
import { ConfigError, type GatewayConfig } from './config.js';
import { createDemoMcpServer } from './demo-mcp.js';
import { oidcIdentity } from './identity.js';
import { createGatewayMetrics, type GatewayMetrics, serveMetrics } from './metrics.js';
import { loadOrCreateSecret } from './secret.js';
import { gatewaySigningKeys } from './signing-keys.js';
import { openStorage } from './storage.js';

/** A running gateway, as {@link startGateway} returns it. */
export interface Gateway {
  /** The issuer (public base URL). */
  readonly issuer: string;
  /** The protected MCP endpoint clients connect to. */
  readonly mcpUrl: string;
  /** The port actually bound. */
  readonly port: number;
  /** The PIN when PIN consent is on. */
  readonly pin?: string;
  /** `true` when the PIN was generated at this start (print it: it is not stored anywhere). */
  readonly pinGenerated: boolean;
  /** `true` when the secret was generated at this start (and written to `<dataDir>/secret`). */
  readonly secretGenerated: boolean;
  /** e.g. `sqlite .portcullis/portcullis.db`. */
  readonly storageDescription: string;
  /** `demo` or the upstream MCP URL. */
  readonly mcpTarget: string;
  /** The port of the Prometheus `/metrics` listener, when `METRICS_PORT` is set. */
  readonly metricsPort?: number;
  /** The port of the management API listener, when `ADMIN_PORT` is set. */
  readonly adminPort?: number;
  readonly authorizationServer: AuthorizationServer;
  /** Graceful shutdown: stop accepting, let requests finish (up to `timeoutMs`), close the storage. */
  close(timeoutMs?: number): Promise<void>;
}

/** Options of {@link startGateway}. */
export interface StartGatewayOptions {
  /** Receives each audit event (the CLI prints them as JSON lines when `logEvents` is on). */
  readonly onEvent?: (event: PortcullisEvent) => void;
  /** Receives unexpected handler errors. */
  readonly onError?: (error: unknown) => void;
}

/** The core's tuning knobs from the configuration: storage timeout, token cache, registration policy. */
function coreTuning(config: GatewayConfig) {
  const allowList = config.redirectSchemes.length > 0 || config.redirectHosts.length > 0;
  return {
    storageTimeoutMs: config.storageTimeoutMs,
    reuseIntervalSeconds: config.reuseInterval,
    ...(config.tokenCacheTtl > 0
      ? { tokenCache: { ttlSeconds: config.tokenCacheTtl, maxEntries: config.tokenCacheSize } }
      : {}),
    registration: {
      enabled: config.registration,
      rateLimit: {
        perHour: config.registrationPerHour,
        ...(config.registrationPerMinute !== undefined ? { perMinute: config.registrationPerMinute } : {}),
      },
      ...(config.unusedClientTtl !== undefined ? { unusedClientLifetime: config.unusedClientTtl } : {}),
      ...(config.registrationTokens.length > 0 ? { initialAccessTokens: config.registrationTokens } : {}),
      ...(allowList
        ? {
            policy: redirectUriAllowList({
              ...(config.redirectSchemes.length > 0 ? { schemes: config.redirectSchemes } : {}),
              ...(config.redirectHosts.length > 0 ? { hosts: config.redirectHosts } : {}),
            }),
          }
        : {}),
    },
  };
}

async function openMetrics(
  metrics: GatewayMetrics,
  config: GatewayConfig,
  undo: () => Promise<void> | void | undefined,
): Promise<{ server: import('node:http').Server; port: number }> {
  try {
    return await serveMetrics(metrics, config.metricsHost, config.metricsPort ?? 0);
  } catch (error) {
    await undo();
    const code = error instanceof Error && 'code' in error ? String(error.code) : 'error';
    throw new ConfigError(
      `cannot listen for metrics on ${config.metricsHost}:${config.metricsPort} (${code})`,
    );
  }
}

/** A generated PIN: 8 random digits. */
export function generatePin(): string {
  return Array.from({ length: 8 }, () => randomInt(10)).join('');
}

async function probe(storage: Storage, description: string): Promise<void> {
  try {
    await storage.get('cache', 'portcullis:startup-probe');
  } catch (error) {
    await storage.close?.().catch(() => undefined);
    const reason = error instanceof Error ? error.message.split('\n')[0] : 'unknown error';
    throw new ConfigError(`cannot use storage ${description}: ${reason}`);
  }
}

function upstreamCredentials(
  config: GatewayConfig,
  issuer: string,
  keys: SigningKeys | undefined,
): UpstreamCredentials {
  const parts: UpstreamCredentials[] = [];
  if (config.upstreamToken) parts.push(staticToken(config.upstreamToken));
  if (config.identityAssertion !== 'off' && config.upstreamMcpUrl) {
    parts.push(
      signedIdentity({
        issuer,
        audience: config.upstreamMcpUrl,
        header: config.identityAssertionHeader,
        signing: keys ? { keys } : { hmacSecret: config.identityAssertionSecret ?? '' },
      }),
    );
  }
  if (config.userHeader !== '') {
    parts.push(
      identityHeaders({
        userHeader: config.userHeader,
        emailHeader: config.emailHeader === '' ? null : config.emailHeader,
        userValue: config.userHeaderValue,
      }),
    );
  }
  return {
    headers: parts.flatMap((part) => part.headers),
    async apply(info, headers) {
      for (const part of parts) {
        const refused = await part.apply(info, headers);
        if (refused) return refused;
      }
    },
  };
}

function homePage(mcpUrl: string): Response {
  return new Response(`Portcullis gateway.\nMCP endpoint: ${mcpUrl}\n`, {
    headers: { 'content-type': 'text/plain; charset=utf-8' },
  });
}

/**
 * Starts a complete gateway from a validated configuration: storage, secret, identity upstream,
 * authorization server, the MCP endpoint (built-in demo server or a proxy to `upstreamMcpUrl`), a
 * `node:http` server and periodic cleanup of expired records. The `portcullis` CLI calls this.
 *
 * @throws ConfigError when the configuration cannot be used (bad storage, port in use, …).
 * @example
 * ```ts
 * const gateway = await startGateway(loadConfig({ env: process.env }));
 * console.log(`MCP endpoint: ${gateway.mcpUrl}`);
 * process.once('SIGTERM', () => gateway.close());
 * ```
 */
export async function startGateway(
  config: GatewayConfig,
  options: StartGatewayOptions = {},
): Promise<Gateway> {
  const secrets = [...(config.secret ?? [])];
  let secretGenerated = false;
  if (secrets.length === 0) {
    const loaded = await loadOrCreateSecret(config.dataDir);
    secrets.push(...loaded.secrets);
    secretGenerated = loaded.created;
  }

  let upstream: IdentityUpstream;
  let pin: string | undefined;
  let pinGenerated = false;
  if (config.identity === 'pin') {
    pin = config.pin ?? generatePin();
    pinGenerated = config.pin === undefined;
    upstream = pinUpstream({
      pin,
      serviceName: 'Portcullis gateway',
      maxAttemptsPerRequest: config.pinMaxAttempts,
      maxAttemptsPerClient: config.pinAttemptsPerClient,
      maxAttemptsPerWindow: config.pinAttemptsTotal,
    });
  } else {
    upstream = oidcIdentity(config);
  }

  const { storage, description } = await openStorage(config.storageUrl, config.storagePrefix);
  await probe(storage, description);

  let handler: FetchHandler = async () => new Response('starting', { status: 503 });
  const adapterOptions = {
    trustProxy: config.trustProxy,
    bodyLimit: config.bodyLimit,
    ...(config.publicUrl ? { publicUrl: config.publicUrl } : {}),
    ...(options.onError ? { onError: options.onError } : {}),
  };
  const server = createServer((req, res) => {
    void handleNodeRequest(req, res, (request) => handler(request), adapterOptions);
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    await storage.close?.().catch(() => undefined);
    const code = error instanceof Error && 'code' in error ? String(error.code) : 'error';
    throw new ConfigError(`cannot listen on ${config.host}:${config.port} (${code})`);
  }
  const port = (server.address() as AddressInfo).port;
  const issuer = config.publicUrl ? config.issuer : config.issuer.replace(/:\d+$/, `:${port}`);

  const metrics = config.metricsPort !== undefined ? createGatewayMetrics() : undefined;
  const onEvent = (event: PortcullisEvent) => {
    metrics?.onEvent(event);
    options.onEvent?.(event);
  };
  // The signing keys of identity assertions live sealed in the storage, shared by every instance.
  const keys = config.identityAssertion === 'jwks' ? gatewaySigningKeys(storage, secrets) : undefined;
  let as: AuthorizationServer;
  const serverOptions = {
    issuer,
    storage,
    upstream,
    secret: secrets,
    resources: [{ path: config.mcpPath, name: 'MCP server' }],
    scopes: { supported: config.scopes, default: config.scopes },
    lifetimes: {
      authorizationCode: config.authorizationCodeTtl,
      accessToken: config.accessTokenTtl,
      refreshToken: config.refreshTokenTtl,
    },
    serviceName: 'Portcullis gateway',
    clientIp,
    onEvent,
    ...(metrics ? { onStorageCall: metrics.onStorageCall } : {}),
    ...(keys ? { extensions: [jwks(keys)] } : {}),
    ...coreTuning(config),
  };
  try {
    as = createAuthorizationServer(serverOptions);
  } catch (error) {
    server.close();
    await storage.close?.().catch(() => undefined);
    if (error instanceof ConfigurationError) throw new ConfigError(`invalid configuration: ${error.message}`);
    throw error;
  }

  const mcpUrl = `${new URL(issuer).origin}${config.mcpPath}`;
  let mcp: FetchHandler = config.upstreamMcpUrl
    ? mcpProxy({
        upstream: config.upstreamMcpUrl,
        authenticator: as,
        credentials: upstreamCredentials(config, issuer, keys),
        // The gateway proxies legacy HTTP+SSE upstreams too (MCP 2024-11-05).
        legacySse: legacySse(),
      })
    : protectMcpServer({ authenticator: as, server: () => createDemoMcpServer() });
  if (metrics && config.upstreamMcpUrl) {
    const proxy = mcp;
    mcp = (request) => metrics.upstream(() => proxy(request));
  }
  const health = config.health
    ? healthRoutes({ storage, timeoutMs: Math.min(config.storageTimeoutMs, 2000) })
    : undefined;
  const routes = portcullisRoutes(as, { mcp: { path: config.mcpPath, handler: mcp } });
  const basePath = new URL(issuer).pathname.replace(/\/$/, '');
  handler = async (request) => {
    const probe = health ? await health(request) : null;
    if (probe) return probe;
    const response = await routes(request);
    if (response) return response;
    const { pathname } = new URL(request.url);
    if (request.method === 'GET' && (pathname === '/' || pathname === `${basePath}/`))
      return homePage(mcpUrl);
    return new Response(JSON.stringify({ error: 'not_found', error_description: 'No such endpoint' }), {
      status: 404,
      headers: { 'content-type': 'application/json' },
    });
  };

  const sweep =
    config.cleanupInterval > 0
      ? setInterval(() => {
          as.cleanup().catch((error: unknown) => options.onError?.(error));
        }, config.cleanupInterval * 1000)
      : undefined;
  sweep?.unref();
  void as.cleanup().catch((error: unknown) => options.onError?.(error));

  const metricsListener = metrics
    ? await openMetrics(metrics, config, () => {
        server.close();
        if (sweep) clearInterval(sweep);
        return storage.close?.();
      })
    : undefined;

  const adminListener =
    config.adminPort !== undefined && config.adminToken
      ? await serveAdmin(createManagement(serverOptions), {
          host: config.adminHost,
          port: config.adminPort,
          token: config.adminToken,
        }).catch(async (error: unknown) => {
          server.close();
          metricsListener?.server.close();
          if (sweep) clearInterval(sweep);
          await storage.close?.();
          const code = error instanceof Error && 'code' in error ? String(error.code) : 'error';
          throw new ConfigError(
            `cannot listen for the admin API on ${config.adminHost}:${config.adminPort} (${code})`,
          );
        })
      : undefined;

  let closing: Promise<void> | undefined;
  return {
    issuer,
    mcpUrl,
    port,
    ...(pin !== undefined ? { pin } : {}),
    pinGenerated,
    secretGenerated,
    storageDescription: description,
    mcpTarget: config.upstreamMcpUrl ?? 'demo',
    ...(metricsListener ? { metricsPort: metricsListener.port } : {}),
    ...(adminListener ? { adminPort: adminListener.port } : {}),
    authorizationServer: as,
    close(timeoutMs = 10_000) {
      if (sweep) clearInterval(sweep);
      metricsListener?.server.close();
      adminListener?.server.close();
      closing ??= gracefulShutdown(server, { timeoutMs, onClosed: () => storage.close?.() });
      return closing;
    },
  };
}
