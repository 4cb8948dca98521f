import { clientIp, portcullisExpress } from '@portcullis/adapter-node';
import {
  type AuthorizationServer,
  createAuthorizationServer,
  type IdentityUpstream,
  type Storage,
} from '@portcullis/core';
import { identityHeaders, mcpProxy } from '@portcullis/core/mcp';
import { googleUpstream } from '@portcullis/core/upstreams';
import { sqlStorageFromUrl } from '@portcullis/storage-sql';
import express, { type Express } from 'express';
import type { GatewayEnv } from './config.js';

/** The assembled gateway: an Express app plus what it needs to shut down cleanly. */
export interface OidcGateway {
  readonly app: Express;
  readonly authorizationServer: AuthorizationServer;
  readonly storage: Storage;
  /** Releases the database pool. */
  close(): Promise<void>;
}

/** Overrides for tests and custom setups. */
export interface GatewayOverrides {
  /** Another identity upstream instead of Google (tests use a PIN; any OIDC provider works). */
  readonly upstream?: IdentityUpstream;
  /** Another storage instead of `DATABASE_URL`. */
  readonly storage?: Storage;
}

/**
 * ADR 006 in code: users sign in with Google, Portcullis issues and validates its own tokens, and
 * `/mcp` is proxied to the upstream MCP server with `X-Forwarded-User` / `X-Forwarded-Email` set to the
 * verified Google email (anything a client sends in those headers is dropped).
 *
 * @example
 * ```ts
 * const gateway = createGateway(readEnv(process.env));
 * gateway.app.listen(8080);
 * ```
 */
export function createGateway(env: GatewayEnv, overrides: GatewayOverrides = {}): OidcGateway {
  const storage = overrides.storage ?? sqlStorageFromUrl(env.DATABASE_URL, { tablePrefix: env.TABLE_PREFIX });
  const upstream =
    overrides.upstream ??
    googleUpstream({
      clientId: env.GOOGLE_CLIENT_ID,
      clientSecret: env.GOOGLE_CLIENT_SECRET,
      allowedDomains: env.ALLOWED_DOMAINS,
      allowedEmails: env.ALLOWED_EMAILS,
      userId: 'email',
      // Google's access token is not needed upstream: the identity headers carry the user.
      captureUpstreamToken: false,
    });
  const as = createAuthorizationServer({
    issuer: env.PUBLIC_URL.replace(/\/+$/, ''),
    storage,
    upstream,
    secret: env.PORTCULLIS_SECRET,
    resources: [{ path: '/mcp', name: 'MCP gateway' }],
    serviceName: 'MCP gateway',
    clientIp,
    onEvent: (event) => console.log(JSON.stringify({ time: new Date().toISOString(), ...event })),
  });
  const mcp = mcpProxy({
    upstream: env.UPSTREAM_MCP_URL,
    authenticator: as,
    credentials: identityHeaders({
      userHeader: 'X-Forwarded-User',
      emailHeader: 'X-Forwarded-Email',
      userValue: 'email',
    }),
  });

  const app = express();
  app.disable('x-powered-by');
  if (env.TRUST_PROXY) app.set('trust proxy', true);
  app.get('/healthz', (_req, res) => {
    res.json({ ok: true });
  });
  app.use(portcullisExpress(as, { mcp, trustProxy: env.TRUST_PROXY, publicUrl: env.PUBLIC_URL }));
  return {
    app,
    authorizationServer: as,
    storage,
    close: async () => {
      await storage.close?.();
    },
  };
}
