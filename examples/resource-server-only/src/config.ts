/** Reads the example's configuration from environment variables. */

/** How incoming access tokens are verified. */
export type Verification =
  | { readonly mode: 'jwt'; readonly jwksUrl: string; readonly typ: string | false }
  | {
      readonly mode: 'introspection';
      readonly endpoint: string;
      readonly clientId: string;
      readonly clientSecret: string;
      readonly cacheTtl: number;
    }
  | { readonly mode: 'cloudflare-access'; readonly teamDomain: string; readonly audience: string };

/** The validated configuration. */
export interface Config {
  /** Public origin of this app, e.g. `https://mcp.example.com`. */
  readonly publicUrl: string;
  /** Path of the MCP endpoint; the resource identifier is `publicUrl + mcpPath`. */
  readonly mcpPath: string;
  /** Issuer of the external authorization server. */
  readonly authorizationServer: string;
  readonly verification: Verification;
  /** The upstream MCP server (only reachable from this app). */
  readonly upstream: string;
  readonly userHeader: string;
  readonly emailHeader: string;
  /** What the user header carries. */
  readonly userValue: 'userId' | 'email';
  readonly scopes: readonly string[];
  readonly host: string;
  readonly port: number;
}

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name]?.trim();
  if (!value) throw new Error(`${name} is required`);
  return value;
}

function url(env: NodeJS.ProcessEnv, name: string, fallback?: string): string {
  const value = env[name]?.trim() || fallback;
  if (!value) throw new Error(`${name} is required`);
  try {
    return new URL(value).toString().replace(/\/+$/, '');
  } catch {
    throw new Error(`${name} must be an absolute URL`);
  }
}

/** Parses and checks the environment; throws with the variable name on bad input. */
export function readConfig(env: NodeJS.ProcessEnv): Config {
  const mode = env.TOKEN_VERIFICATION?.trim() || 'jwt';
  let verification: Verification;
  let defaultAs: string | undefined;
  if (mode === 'jwt') {
    const issuer = url(env, 'AUTHORIZATION_SERVER');
    verification = {
      mode,
      jwksUrl: url(env, 'JWKS_URL', `${issuer}/.well-known/jwks.json`),
      typ: env.JWT_TYP === 'any' ? false : env.JWT_TYP?.trim() || 'at+jwt',
    };
  } else if (mode === 'introspection') {
    verification = {
      mode,
      endpoint: url(env, 'INTROSPECTION_ENDPOINT'),
      clientId: required(env, 'INTROSPECTION_CLIENT_ID'),
      clientSecret: required(env, 'INTROSPECTION_CLIENT_SECRET'),
      cacheTtl: Number(env.INTROSPECTION_CACHE_TTL ?? '60'),
    };
  } else if (mode === 'cloudflare-access') {
    const teamDomain = required(env, 'CF_ACCESS_TEAM');
    verification = { mode, teamDomain, audience: required(env, 'CF_ACCESS_AUD') };
    defaultAs = `https://${teamDomain.includes('.') ? teamDomain : `${teamDomain}.cloudflareaccess.com`}`;
  } else {
    throw new Error('TOKEN_VERIFICATION must be jwt, introspection or cloudflare-access');
  }
  const port = Number(env.PORT ?? '8080');
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error('PORT must be a port number');
  const userValue = env.USER_VALUE?.trim() || 'email';
  if (userValue !== 'email' && userValue !== 'userId') throw new Error('USER_VALUE must be email or userId');
  return {
    publicUrl: url(env, 'PUBLIC_URL'),
    mcpPath: env.MCP_PATH?.trim() || '/mcp',
    authorizationServer: url(env, 'AUTHORIZATION_SERVER', defaultAs),
    verification,
    upstream: url(env, 'UPSTREAM_MCP'),
    userHeader: env.USER_HEADER?.trim() || 'X-Forwarded-User',
    emailHeader: env.EMAIL_HEADER?.trim() || 'X-Forwarded-Email',
    userValue,
    scopes: (env.SCOPES ?? 'mcp').split(/[\s,]+/).filter(Boolean),
    host: env.HOST?.trim() || '127.0.0.1',
    port,
  };
}
