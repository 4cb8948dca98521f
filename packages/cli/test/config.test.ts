import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ConfigError,
  configFromEnv,
  loadConfig,
  loadOrCreateSecret,
  openStorage,
  parseConfig,
} from '../src/index.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'portcullis-config-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('gateway configuration', () => {
  it('fills in safe defaults', () => {
    const config = parseConfig({});
    expect(config).toMatchObject({
      port: 8787,
      host: '127.0.0.1',
      issuer: 'http://127.0.0.1:8787',
      trustProxy: false,
      identity: 'pin',
      storageUrl: join('.portcullis', 'portcullis.db'),
      mcpPath: '/mcp',
      userHeader: 'X-Forwarded-User',
      emailHeader: 'X-Forwarded-Email',
      authorizationCodeTtl: 300,
      refreshTokenTtl: 2_592_000,
    });
  });

  it('reads environment variables, coerces types and splits lists', () => {
    const config = parseConfig(
      configFromEnv({
        PORT: '9000',
        TRUST_PROXY: 'yes',
        PUBLIC_URL: 'https://mcp.example.com/',
        OIDC_ISSUER: 'https://accounts.google.com',
        OIDC_CLIENT_ID: 'id',
        OIDC_CLIENT_SECRET: 'secret',
        ALLOWED_DOMAINS: 'example.com, example.org',
        IDENTITY_EMAIL_HEADER: '',
        UNRELATED: 'ignored',
      }),
    );
    expect(config.port).toBe(9000);
    expect(config.trustProxy).toBe(true);
    expect(config.issuer).toBe('https://mcp.example.com');
    expect(config.identity).toBe('oidc');
    expect(config.allowedDomains).toEqual(['example.com', 'example.org']);
    expect(config.emailHeader).toBe('');
  });

  it('refuses OIDC sign-in that would admit anyone by omission, and says how to choose', () => {
    const oidc = { oidcIssuer: 'https://accounts.google.com', oidcClientId: 'id', oidcClientSecret: 's' };
    expect(() => parseConfig(oidc)).toThrow(
      /ALLOWED_EMAILS \(allowedEmails\) or another allow-list is required with IDENTITY=oidc: set ALLOWED_EMAILS, ALLOWED_DOMAINS or ALLOWED_CLAIMS, or ALLOW_ANYONE=true/,
    );
    expect(parseConfig({ ...oidc, allowAnyone: 'true' }).allowAnyone).toBe(true);
    expect(
      parseConfig({ ...oidc, allowedClaims: 'hd=example.com, groups=mcp, groups=ops' }).allowedClaims,
    ).toEqual({
      hd: ['example.com'],
      groups: ['mcp', 'ops'],
    });
    expect(() => parseConfig({ ...oidc, allowedClaims: 'hd' })).toThrow(
      /ALLOWED_CLAIMS \(allowedClaims\) must be claim=value pairs/,
    );
  });

  it('reads every tuning knob: token cache, storage timeout, PIN and registration limits, policy', () => {
    const config = parseConfig(
      configFromEnv({
        TOKEN_CACHE_TTL: '3',
        TOKEN_CACHE_SIZE: '500',
        STORAGE_TIMEOUT_MS: '2500',
        PIN_MAX_ATTEMPTS: '3',
        PIN_ATTEMPTS_PER_CLIENT: '10',
        PIN_ATTEMPTS_TOTAL: '50',
        REGISTRATION: 'false',
        REGISTRATION_PER_MINUTE: '5',
        REGISTRATION_PER_HOUR: '50',
        REGISTRATION_TOKENS: 'initial-access-token-0123456789-abcdef',
        REGISTRATION_REDIRECT_SCHEMES: 'https,vscode',
        REGISTRATION_REDIRECT_HOSTS: 'claude.ai,.example.com',
        UNUSED_CLIENT_TTL: '0',
        HEALTH: 'false',
        METRICS_PORT: '9464',
        LOG_LEVEL: 'warn',
      }),
    );
    expect(config).toMatchObject({
      tokenCacheTtl: 3,
      tokenCacheSize: 500,
      storageTimeoutMs: 2500,
      pinMaxAttempts: 3,
      pinAttemptsPerClient: 10,
      pinAttemptsTotal: 50,
      registration: false,
      registrationPerMinute: 5,
      registrationPerHour: 50,
      registrationTokens: ['initial-access-token-0123456789-abcdef'],
      redirectSchemes: ['https', 'vscode'],
      redirectHosts: ['claude.ai', '.example.com'],
      unusedClientTtl: 0,
      health: false,
      metricsPort: 9464,
      logLevel: 'warn',
    });
    expect(() => parseConfig({ tokenCacheTtl: 9 })).toThrow(
      /TOKEN_CACHE_TTL \(tokenCacheTtl\) must be at most 5/,
    );
    expect(() => parseConfig({ registrationTokens: 'short' })).toThrow(/REGISTRATION_TOKENS .* at least 32/);
    expect(() => parseConfig({ unusedClientTtl: 60 })).toThrow(
      /UNUSED_CLIENT_TTL .* at least REFRESH_TOKEN_TTL/,
    );
  });

  it('requires PUBLIC_URL behind a trusted proxy, since the issuer cannot come from request headers', () => {
    expect(() => parseConfig({ trustProxy: true })).toThrow(
      /PUBLIC_URL \(publicUrl\) is required with TRUST_PROXY/,
    );
    expect(parseConfig({ trustProxy: true, publicUrl: 'https://mcp.example.com' }).issuer).toBe(
      'https://mcp.example.com',
    );
  });

  it('lets the environment override the config file', async () => {
    const file = join(dir, 'config.json');
    await writeFile(file, JSON.stringify({ port: 7000, host: '0.0.0.0', scopes: ['mcp', 'admin'] }));
    const config = loadConfig({ configFile: file, env: { PORT: '7001' } });
    expect(config.port).toBe(7001);
    expect(config.scopes).toEqual(['mcp', 'admin']);
    expect(config.issuer).toBe('http://127.0.0.1:7001'); // a wildcard bind is announced on loopback
  });

  it('lists every problem on one line, naming settings but never their values', () => {
    let message = '';
    try {
      parseConfig({
        port: 70000,
        secret: 'tooshort-secret-value',
        upstreamToken: 'pat-123',
        userHeader: 'Bad Header',
      });
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      message = (error as Error).message;
    }
    expect(message.split('\n')).toHaveLength(1);
    expect(message).toContain('PORT (port) must be at most 65535');
    expect(message).toContain('PORTCULLIS_SECRET (secret) must be at least 32 characters');
    expect(message).toContain('UPSTREAM_TOKEN (upstreamToken) needs UPSTREAM_MCP_URL');
    expect(message).toContain('IDENTITY_USER_HEADER (userHeader) must be a valid header name');
    expect(message).not.toContain('tooshort-secret-value');
    expect(message).not.toContain('pat-123');
  });

  it('reports unreadable and malformed config files clearly', async () => {
    expect(() => loadConfig({ configFile: join(dir, 'missing.json'), env: {} })).toThrow(
      /cannot read config file .*ENOENT/,
    );
    const broken = join(dir, 'broken.json');
    await writeFile(broken, '{ "port": ');
    expect(() => loadConfig({ configFile: broken, env: {} })).toThrow(/is not valid JSON/);
  });
});

describe('generated secret', () => {
  it('is created once with mode 0600 and reused', async () => {
    const dataDir = join(dir, 'data');
    const first = await loadOrCreateSecret(dataDir);
    expect(first.created).toBe(true);
    expect(first.secret.length).toBeGreaterThanOrEqual(32);
    expect((await stat(join(dataDir, 'secret'))).mode & 0o777).toBe(0o600);
    const second = await loadOrCreateSecret(dataDir);
    expect(second).toEqual({ secret: first.secret, secrets: [first.secret], created: false });
  });

  it('agrees on one secret when two starts race', async () => {
    const dataDir = join(dir, 'race');
    const results = await Promise.all([loadOrCreateSecret(dataDir), loadOrCreateSecret(dataDir)]);
    expect(results[0].secret).toBe(results[1].secret);
    expect(results.filter((r) => r.created)).toHaveLength(1);
  });
});

const run = `t${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const services = [
  ['postgres', process.env.POSTGRES_URL, `${run}_`],
  ['mysql', process.env.MYSQL_URL, `${run}_`],
  ['redis', process.env.REDIS_URL, `${run}:`],
] as const;

describe('storage from STORAGE_URL', () => {
  it('opens a SQLite file (creating its directory), sqlite: URLs and memory:', async () => {
    for (const location of [
      join(dir, 'nested', 'db', 'p.db'),
      `sqlite:${join(dir, 'other.db')}`,
      'memory:',
    ]) {
      const { storage } = await openStorage(location);
      await storage.put('cache', 'k', 'v', null);
      expect((await storage.get('cache', 'k'))?.value).toBe('v');
      await storage.close?.();
    }
    await stat(join(dir, 'nested', 'db', 'p.db'));
  });

  it('refuses unknown schemes and bad SQL prefixes', async () => {
    await expect(openStorage('mongodb://127.0.0.1/x')).rejects.toThrow(/scheme 'mongodb:' is not supported/);
    await expect(openStorage(join(dir, 'x.db'), 'Bad-Prefix')).rejects.toThrow(/STORAGE_PREFIX/);
  });

  it.each(services)(
    'opens %s from its URL (required when PORTCULLIS_REQUIRE_SERVICES=1)',
    async (name, url, prefix) => {
      if (!url) {
        if (process.env.PORTCULLIS_REQUIRE_SERVICES === '1') throw new Error(`${name} URL is not set`);
        return;
      }
      const { storage, description } = await openStorage(url, prefix);
      try {
        expect(description).toMatch(new RegExp(`^${name} `));
        expect(description).not.toMatch(/@/); // no credentials in the banner
        expect(storage.capabilities.atomic).toBe(true);
        await storage.put('code', 'c1', 'payload', Date.now() + 60_000);
        expect(await storage.consume('code', 'c1', Date.now())).toEqual({
          status: 'consumed',
          value: 'payload',
        });
        expect((await storage.consume('code', 'c1', Date.now())).status).toBe('already_consumed');
        await storage.delete('code', 'c1');
      } finally {
        await storage.close?.();
      }
    },
  );
});

describe('README', () => {
  it('documents every CLI option', async () => {
    const { readFile } = await import('node:fs/promises');
    const { OPTIONS } = await import('../src/index.js');
    const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
    for (const option of OPTIONS) {
      expect(readme).toMatch(new RegExp(`\\| \`${option.env}\` +\\| \`${option.key}\` +\\|`));
    }
  });
});

describe('--version', () => {
  it("prints this package's version", async () => {
    const { readFile } = await import('node:fs/promises');
    const { runCli } = await import('../src/index.js');
    const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    const out: string[] = [];
    const result = await runCli(['--version'], {}, { out: (line) => out.push(line), err: () => undefined });
    expect(result).toEqual({ exitCode: 0 });
    expect(out).toEqual([pkg.version]);
  });
});
