/**
 * An OAuth 2.1 front door for a PAT-authenticated MCP server, on Cloudflare Workers.
 *
 * MCP clients (claude.ai, Claude Code, the MCP SDK…) discover, register (RFC 7591), authorize with
 * PKCE on a PIN consent page, and call `/mcp` with their own tokens; the Worker verifies them and
 * proxies to `UPSTREAM_MCP` with `UPSTREAM_TOKEN`. The client's token never reaches the upstream.
 */
import { perIssuer, portcullis } from '@portcullis/adapter-workers';
import { mcpProxy, staticToken } from '@portcullis/core/mcp';
import { pinUpstream } from '@portcullis/core/upstreams';
import { cloudflareStorage } from '@portcullis/storage-kv';
import { type Env, requireSettings, seconds } from './env.js';

export { PortcullisCoordinator } from '@portcullis/storage-kv';

export default portcullis((env: Env) => {
  requireSettings(env);
  const serviceName = env.SERVICE_NAME ?? 'MCP proxy';
  return {
    ...(env.BASE_URL ? { issuer: env.BASE_URL } : {}),
    storage: cloudflareStorage({
      coordinator: env.PORTCULLIS,
      ...(env.OAUTH_KV ? { kv: env.OAUTH_KV } : {}),
    }),
    upstream: pinUpstream({ pin: env.AUTH_PIN, serviceName }),
    secret: env.PORTCULLIS_SECRET.split(',').map((s) => s.trim()),
    serviceName,
    lifetimes: {
      authorizationCode: seconds(env, 'AUTH_CODE_TTL', 300),
      accessToken: seconds(env, 'ACCESS_TOKEN_TTL', 3600),
      refreshToken: seconds(env, 'REFRESH_TOKEN_TTL', 30 * 86_400),
    },
    apiRoute: '/mcp',
    apiHandler: perIssuer((authenticator) =>
      mcpProxy({
        upstream: env.UPSTREAM_MCP,
        authenticator,
        credentials: staticToken(
          env.UPSTREAM_TOKEN,
          env.UPSTREAM_TOKEN_HEADER ? { header: env.UPSTREAM_TOKEN_HEADER, scheme: null } : {},
        ),
      }),
    ),
    defaultHandler: (request) =>
      new URL(request.url).pathname === '/'
        ? new Response(`${serviceName}: connect your MCP client to ${new URL('/mcp', request.url)}\n`, {
            headers: { 'content-type': 'text/plain; charset=utf-8' },
          })
        : Response.json({ error: 'not_found' }, { status: 404 }),
  };
});
