import {
  createResourceServer,
  introspectionVerifier,
  jwtVerifier,
  type TokenVerifier,
} from '@portcullis/core';
import { identityHeaders, legacySse, mcpProxy } from '@portcullis/core/mcp';
import { cloudflareAccessVerifier } from '@portcullis/core/upstreams';
import type { Config } from './config.js';

function verifier(config: Config): TokenVerifier {
  const v = config.verification;
  switch (v.mode) {
    case 'jwt':
      return jwtVerifier({ jwksUrl: v.jwksUrl, issuer: config.authorizationServer, typ: v.typ });
    case 'introspection':
      return introspectionVerifier({
        endpoint: v.endpoint,
        clientId: v.clientId,
        clientSecret: v.clientSecret,
        cacheTtl: v.cacheTtl,
        issuer: config.authorizationServer,
      });
    case 'cloudflare-access':
      // Access validated the OAuth token at the edge; the origin checks the assertion it added.
      return cloudflareAccessVerifier({
        teamDomain: v.teamDomain,
        audience: v.audience,
        scopes: config.scopes,
      });
  }
}

/** The app: RFC 9728 metadata, and `/mcp` proxied to the upstream with verified identity headers. */
export function createApp(config: Config) {
  const resourceServer = createResourceServer({
    resource: `${config.publicUrl}${config.mcpPath}`,
    authorizationServers: [config.authorizationServer],
    verify: verifier(config),
    scopesSupported: config.scopes,
    requiredScopes: config.verification.mode === 'cloudflare-access' ? [] : config.scopes,
  });
  const proxy = mcpProxy({
    upstream: config.upstream,
    authenticator: resourceServer,
    credentials: identityHeaders({
      userHeader: config.userHeader,
      emailHeader: config.emailHeader,
      userValue: config.userValue,
    }),
    // Legacy HTTP+SSE upstreams (MCP 2024-11-05) too: their `endpoint` event becomes a signed URL here.
    legacySse: legacySse(),
  });

  async function fetch(request: Request): Promise<Response> {
    const metadata = await resourceServer.protectedResourceMetadata(request);
    if (metadata) return metadata;
    const { pathname } = new URL(request.url);
    if (pathname === config.mcpPath) return proxy(request);
    if (pathname === '/healthz') return new Response('ok');
    return new Response(JSON.stringify({ error: 'not_found' }), {
      status: 404,
      headers: { 'content-type': 'application/json' },
    });
  }

  return { fetch, resourceServer };
}
