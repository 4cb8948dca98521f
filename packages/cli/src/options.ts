/** One gateway setting: its key in the JSON config file, its environment variable, and its help text. */
export interface OptionSpec {
  /** Key in the JSON config file. */
  readonly key: string;
  /** Environment variable. */
  readonly env: string;
  /** What it does, for `--help` and the README. */
  readonly description: string;
  /** The default, as shown to people. */
  readonly defaultText?: string;
  /** Key material or a credential: `portcullis admin config` masks it. */
  readonly secret?: true;
}

/** Every gateway setting, in the order `--help` prints them. */
export const OPTIONS: readonly OptionSpec[] = [
  { key: 'port', env: 'PORT', description: 'TCP port to listen on', defaultText: '8787' },
  { key: 'host', env: 'HOST', description: 'Interface to bind', defaultText: '127.0.0.1' },
  {
    key: 'publicUrl',
    env: 'PUBLIC_URL',
    description: 'Public base URL clients use; becomes the OAuth issuer (https, or http on loopback)',
    defaultText: 'http://<host>:<port>',
  },
  {
    key: 'trustProxy',
    env: 'TRUST_PROXY',
    description: 'Trust Forwarded / X-Forwarded-Proto / X-Forwarded-Host (only behind your own proxy)',
    defaultText: 'false',
  },
  {
    key: 'dataDir',
    env: 'PORTCULLIS_DATA_DIR',
    description: 'Directory for the SQLite file and the generated secret',
    defaultText: '.portcullis',
  },
  {
    key: 'storageUrl',
    env: 'STORAGE_URL',
    description: 'SQLite file path (or sqlite:<path>), postgres://, mysql://, redis:// or memory:',
    defaultText: '<dataDir>/portcullis.db',
  },
  {
    key: 'storagePrefix',
    env: 'STORAGE_PREFIX',
    description: 'SQL table prefix (a-z, 0-9, _) or Redis key prefix',
    defaultText: 'portcullis_ / portcullis:',
  },
  {
    key: 'secret',
    env: 'PORTCULLIS_SECRET',
    description: 'Secret key material, 32+ characters (comma-separated list to rotate: current first)',
    defaultText: 'generated once into <dataDir>/secret (mode 0600)',
    secret: true,
  },
  {
    key: 'identity',
    env: 'IDENTITY',
    description: 'How users sign in: pin or oidc',
    defaultText: 'oidc when OIDC_ISSUER is set, else pin',
  },
  {
    key: 'pin',
    env: 'PORTCULLIS_PIN',
    description: 'PIN or passphrase for PIN consent (6+ characters)',
    defaultText: 'a random PIN printed once at start',
    secret: true,
  },
  {
    key: 'pinMaxAttempts',
    env: 'PIN_MAX_ATTEMPTS',
    description: 'Wrong PINs allowed per authorization request before it is cancelled',
    defaultText: '5',
  },
  {
    key: 'pinAttemptsPerClient',
    env: 'PIN_ATTEMPTS_PER_CLIENT',
    description: 'PIN attempts per client IP per 15 minutes',
    defaultText: '20',
  },
  {
    key: 'pinAttemptsTotal',
    env: 'PIN_ATTEMPTS_TOTAL',
    description: 'PIN attempts across all callers per 15 minutes',
    defaultText: '100',
  },
  {
    key: 'oidcIssuer',
    env: 'OIDC_ISSUER',
    description: 'OpenID Provider issuer URL (e.g. https://accounts.google.com)',
  },
  { key: 'oidcClientId', env: 'OIDC_CLIENT_ID', description: 'OIDC client id registered at the provider' },
  { key: 'oidcClientSecret', env: 'OIDC_CLIENT_SECRET', description: 'OIDC client secret', secret: true },
  {
    key: 'oidcScopes',
    env: 'OIDC_SCOPES',
    description: 'Scopes requested from the provider (space or comma separated)',
    defaultText: 'openid email profile',
  },
  {
    key: 'allowedDomains',
    env: 'ALLOWED_DOMAINS',
    description: 'Comma-separated email domains allowed to sign in (verified email required)',
    defaultText: 'none: with OIDC set an allow-list or ALLOW_ANYONE',
  },
  {
    key: 'allowedEmails',
    env: 'ALLOWED_EMAILS',
    description: 'Comma-separated email addresses allowed to sign in',
    defaultText: 'none',
  },
  {
    key: 'allowedClaims',
    env: 'ALLOWED_CLAIMS',
    description: 'Comma-separated claim=value pairs the OIDC user must all have (e.g. hd=example.com)',
    defaultText: 'none',
  },
  {
    key: 'allowAnyone',
    env: 'ALLOW_ANYONE',
    description: 'Admit anyone the OIDC provider signs in (an explicit choice instead of an allow-list)',
    defaultText: 'false',
  },
  {
    key: 'upstreamMcpUrl',
    env: 'UPSTREAM_MCP_URL',
    description: 'Upstream MCP server to proxy to',
    defaultText: 'the built-in demo MCP server',
  },
  {
    key: 'upstreamToken',
    env: 'UPSTREAM_TOKEN',
    description: 'Bearer token sent to the upstream MCP server',
    secret: true,
  },
  {
    key: 'userHeader',
    env: 'IDENTITY_USER_HEADER',
    description: 'Header carrying the user to the upstream; "" to send no identity headers',
    defaultText: 'X-Forwarded-User',
  },
  {
    key: 'emailHeader',
    env: 'IDENTITY_EMAIL_HEADER',
    description: 'Header carrying the email to the upstream; "" to disable',
    defaultText: 'X-Forwarded-Email',
  },
  {
    key: 'userHeaderValue',
    env: 'IDENTITY_USER_VALUE',
    description: 'What the user header holds: userId or email (ADR 006 style)',
    defaultText: 'userId',
  },
  {
    key: 'identityAssertion',
    env: 'IDENTITY_ASSERTION',
    description:
      'Send the upstream a signed JWT of the caller (aud = UPSTREAM_MCP_URL, exp < 1 min): off, jwks (ES256, keys at <issuer>/.well-known/jwks.json) or hs256',
    defaultText: 'off',
  },
  {
    key: 'identityAssertionHeader',
    env: 'IDENTITY_ASSERTION_HEADER',
    description: 'Header carrying the signed identity assertion',
    defaultText: 'Portcullis-Jwt-Assertion',
  },
  {
    key: 'identityAssertionSecret',
    env: 'IDENTITY_ASSERTION_SECRET',
    description: 'Shared HMAC secret for IDENTITY_ASSERTION=hs256, 32+ characters',
  },
  { key: 'mcpPath', env: 'MCP_PATH', description: 'Path of the protected MCP endpoint', defaultText: '/mcp' },
  {
    key: 'scopes',
    env: 'SCOPES',
    description: 'Scopes clients may request (space or comma separated)',
    defaultText: 'mcp',
  },
  {
    key: 'authorizationCodeTtl',
    env: 'AUTHORIZATION_CODE_TTL',
    description: 'Authorization code lifetime, seconds',
    defaultText: '300',
  },
  {
    key: 'accessTokenTtl',
    env: 'ACCESS_TOKEN_TTL',
    description: 'Access token lifetime, seconds',
    defaultText: '3600',
  },
  {
    key: 'refreshTokenTtl',
    env: 'REFRESH_TOKEN_TTL',
    description: 'Refresh token lifetime, seconds',
    defaultText: '2592000 (30 days)',
  },
  {
    key: 'cleanupInterval',
    env: 'CLEANUP_INTERVAL',
    description: 'Seconds between sweeps of expired records (0 disables)',
    defaultText: '600',
  },
  { key: 'bodyLimit', env: 'BODY_LIMIT', description: 'Largest request body, bytes', defaultText: '1048576' },
  {
    key: 'storageTimeoutMs',
    env: 'STORAGE_TIMEOUT_MS',
    description: 'A slower storage operation answers 503, milliseconds',
    defaultText: '8000',
  },
  {
    key: 'tokenCacheTtl',
    env: 'TOKEN_CACHE_TTL',
    description:
      'Seconds (1-5) a verified access token is trusted from memory; 0 is off (revocation is then instant)',
    defaultText: '0',
  },
  {
    key: 'tokenCacheSize',
    env: 'TOKEN_CACHE_SIZE',
    description: 'Most access tokens the token cache keeps',
    defaultText: '10000',
  },
  {
    key: 'reuseInterval',
    env: 'REUSE_INTERVAL',
    description:
      'Seconds a retried code or refresh-token request gets the same tokens (0: every reuse is a replay)',
    defaultText: '20',
  },
  {
    key: 'registration',
    env: 'REGISTRATION',
    description:
      'Dynamic client registration (RFC 7591): true, or false to rely on Client ID Metadata Documents',
    defaultText: 'true',
  },
  {
    key: 'registrationPerMinute',
    env: 'REGISTRATION_PER_MINUTE',
    description: 'Client registrations per source address per minute',
    defaultText: '60',
  },
  {
    key: 'registrationPerHour',
    env: 'REGISTRATION_PER_HOUR',
    description: 'Client registrations per source address per hour',
    defaultText: '300',
  },
  {
    key: 'registrationTokens',
    env: 'REGISTRATION_TOKENS',
    description:
      'Comma-separated initial access tokens (32+ characters) a registration must present (RFC 7591 §3)',
    defaultText: 'none required',
    secret: true,
  },
  {
    key: 'redirectSchemes',
    env: 'REGISTRATION_REDIRECT_SCHEMES',
    description: 'Comma-separated redirect URI schemes clients may register (e.g. https,http,vscode)',
    defaultText: 'any',
  },
  {
    key: 'redirectHosts',
    env: 'REGISTRATION_REDIRECT_HOSTS',
    description: 'Comma-separated http(s) redirect hosts clients may register (.example.com for subdomains)',
    defaultText: 'any',
  },
  {
    key: 'unusedClientTtl',
    env: 'UNUSED_CLIENT_TTL',
    description: 'Seconds a registered client may go unused before it expires (0 keeps clients forever)',
    defaultText: '7776000 (90 days)',
  },
  {
    key: 'health',
    env: 'HEALTH',
    description: 'Serve liveness /healthz and readiness /readyz (readiness checks the storage)',
    defaultText: 'true',
  },
  {
    key: 'metricsPort',
    env: 'METRICS_PORT',
    description: 'Serve Prometheus metrics at /metrics on this port (0: any free port)',
    defaultText: 'off',
  },
  {
    key: 'metricsHost',
    env: 'METRICS_HOST',
    description: 'Interface the metrics listener binds',
    defaultText: '127.0.0.1',
  },
  {
    key: 'adminPort',
    env: 'ADMIN_PORT',
    description: 'Serve the management API (as portcullis admin) on this port; needs ADMIN_TOKEN',
    defaultText: 'off',
  },
  {
    key: 'adminHost',
    env: 'ADMIN_HOST',
    description: 'Interface the management listener binds',
    defaultText: '127.0.0.1',
  },
  {
    key: 'adminToken',
    env: 'ADMIN_TOKEN',
    description: 'Bearer token (32+ characters) every management API request must carry',
    secret: true,
  },
  {
    key: 'logEvents',
    env: 'LOG_EVENTS',
    description: 'Print audit events as JSON lines on stdout',
    defaultText: 'true',
  },
  {
    key: 'logLevel',
    env: 'LOG_LEVEL',
    description: 'Least level of audit events printed: info, warn or error',
    defaultText: 'info',
  },
];

/** The `--help` text: usage, then every option with its environment variable and default. */
export function helpText(): string {
  const lines = [
    'Usage: portcullis [--config <file.json>] [--help] [--version]',
    '       portcullis admin <command> [--json] [--config <file.json>]   (portcullis admin --help)',
    '',
    'Runs an OAuth 2.1 authorization server in front of an MCP server.',
    'Settings come from a JSON config file (keys below) and environment variables; the environment wins.',
    '',
    'Options (ENV_VAR / configKey):',
  ];
  const width = Math.max(...OPTIONS.map((o) => o.env.length + o.key.length + 3));
  for (const option of OPTIONS) {
    const name = `${option.env} / ${option.key}`.padEnd(width);
    const suffix = option.defaultText ? ` [default: ${option.defaultText}]` : '';
    lines.push(`  ${name}  ${option.description}${suffix}`);
  }
  lines.push(
    '',
    'Flags:',
    '  -c, --config <file>  Read settings from a JSON file',
    '  -h, --help           Print this help',
    '  -v, --version        Print the version',
  );
  return lines.join('\n');
}
