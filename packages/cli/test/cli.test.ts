import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClient, PinOAuthProvider, whoami } from '../../adapter-node/test/helpers/mcp-client.js';
import { type CliProcess, freePort, spawnCli } from './helpers/spawn.js';
import { startUpstreamMcp } from './helpers/upstream.js';

let dir: string;
const running: CliProcess[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'portcullis-cli-'));
});
afterAll(async () => {
  await Promise.all(running.map((p) => p.stop()));
  await rm(dir, { recursive: true, force: true });
});

function start(args: string[], env: Record<string, string>): CliProcess {
  const cli = spawnCli(args, env, dir);
  running.push(cli);
  return cli;
}

describe('portcullis CLI', () => {
  it('runs a gateway the MCP SDK client can use, and its refresh token survives a restart', async () => {
    const port = String(await freePort());
    const first = start([], { PORT: port, LOG_EVENTS: 'true' });
    const [, mcpUrl] = await first.waitFor(/MCP endpoint:\s+(\S+)/);
    const [, pin] = await first.waitFor(/PIN:\s+(\d+)\s+\(generated/);
    expect(mcpUrl).toBe(`http://127.0.0.1:${port}/mcp`);

    // Zero configuration: SQLite and a secret under .portcullis/, the secret readable by the owner only.
    const secret = await stat(join(dir, '.portcullis', 'secret'));
    expect(secret.mode & 0o777).toBe(0o600);
    await stat(join(dir, '.portcullis', 'portcullis.db'));

    const provider = new PinOAuthProvider(pin as string);
    const client = await connectClient(mcpUrl as string, provider);
    expect(provider.authorizations).toBe(1);
    expect(provider.issuer).toBe(`http://127.0.0.1:${port}`);
    const me = await whoami(client);
    expect(me.userId).toBe('owner');
    expect(me.clientId).toBe(provider.clientInformation()?.client_id);
    expect(me.resource).toBe(mcpUrl);
    expect(first.stdout()).toContain('"type":"token_issued"');
    expect(first.stdout()).not.toContain(provider.tokens()?.access_token);
    await client.close();

    expect(await first.stop()).toBe(0);

    const second = start([], { PORT: port });
    const [, secondPin] = await second.waitFor(/PIN:\s+(\d+)/);
    expect(secondPin).not.toBe(pin); // a fresh PIN per run; the grant lives on in SQLite
    provider.dropAccessToken();
    const again = await connectClient(mcpUrl as string, provider);
    expect(provider.authorizations).toBe(1); // refreshed, no new PIN page
    expect((await whoami(again)).userId).toBe('owner');
    await again.close();
    expect(await second.stop()).toBe(0);
  });

  it('proxies to UPSTREAM_MCP_URL with UPSTREAM_TOKEN and the identity headers', async () => {
    const upstream = await startUpstreamMcp();
    try {
      const port = String(await freePort());
      const cli = start([], {
        PORT: port,
        STORAGE_URL: 'memory:',
        PORTCULLIS_PIN: '86420864',
        UPSTREAM_MCP_URL: upstream.url,
        UPSTREAM_TOKEN: 'upstream-pat-value',
        LOG_EVENTS: 'false',
      });
      const [, mcpUrl] = await cli.waitFor(/MCP endpoint:\s+(\S+)/);
      expect(cli.stdout()).toContain(`MCP server:    ${upstream.url}`);
      const provider = new PinOAuthProvider('86420864');
      const client = await connectClient(mcpUrl as string, provider);
      const result = await client.callTool({ name: 'upstream_user', arguments: {} });
      expect(result.content).toEqual([{ type: 'text', text: 'owner' }]);
      const last = upstream.seen.at(-1)!;
      expect(last.get('authorization')).toBe('Bearer upstream-pat-value');
      expect(last.get('x-forwarded-user')).toBe('owner');
      expect(
        upstream.seen.some((h) => h.get('authorization')?.includes(provider.tokens()!.access_token)),
      ).toBe(false);
      await client.close();
      expect(cli.stdout()).not.toContain('upstream-pat-value');
      expect(await cli.stop()).toBe(0);
    } finally {
      await upstream.close();
    }
  });

  it('prints every option with its environment variable on --help', async () => {
    const cli = start(['--help'], {});
    expect(await cli.exited).toBe(0);
    for (const env of [
      'PORT',
      'HOST',
      'PUBLIC_URL',
      'TRUST_PROXY',
      'STORAGE_URL',
      'PORTCULLIS_SECRET',
      'PORTCULLIS_PIN',
      'OIDC_ISSUER',
      'OIDC_CLIENT_ID',
      'OIDC_CLIENT_SECRET',
      'ALLOWED_DOMAINS',
      'UPSTREAM_MCP_URL',
      'UPSTREAM_TOKEN',
      'IDENTITY_USER_HEADER',
      'IDENTITY_EMAIL_HEADER',
      'ACCESS_TOKEN_TTL',
      'REFRESH_TOKEN_TTL',
    ]) {
      expect(cli.stdout()).toMatch(new RegExp(`^  ${env} / `, 'm'));
    }
  });

  it.each([
    [{ PORT: 'eighty' }, /PORT \(port\) must be a number/],
    [{ IDENTITY: 'oidc' }, /OIDC_ISSUER \(oidcIssuer\) is required when IDENTITY=oidc/],
    [{ PORTCULLIS_SECRET: 'short' }, /PORTCULLIS_SECRET \(secret\) must be at least 32 characters/],
    [{ PUBLIC_URL: 'http://mcp.example.com' }, /PUBLIC_URL \(publicUrl\) must be https/],
    [{ STORAGE_URL: 'ftp://x/y' }, /scheme 'ftp:' is not supported/],
    [{ TRUST_PROXY: 'maybe' }, /TRUST_PROXY \(trustProxy\) must be true or false/],
    [
      { OIDC_ISSUER: 'https://accounts.google.com', OIDC_CLIENT_ID: 'id', OIDC_CLIENT_SECRET: 'oidc-secret' },
      /set ALLOWED_EMAILS, ALLOWED_DOMAINS or ALLOWED_CLAIMS, or ALLOW_ANYONE=true/,
    ],
  ])('refuses bad configuration %o with one line and exit code 2', async (env, message) => {
    const cli = start([], env);
    expect(await cli.exited).toBe(2);
    const lines = cli.stderr().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^portcullis: /);
    expect(lines[0]).toMatch(message);
    expect(cli.stderr()).not.toMatch(/\n\s+at /);
    if ('PORTCULLIS_SECRET' in env) expect(cli.stderr()).not.toContain(env.PORTCULLIS_SECRET);
  });

  it('reads a JSON config file, refuses unknown keys, and lets the environment win', async () => {
    const file = join(dir, 'bad.json');
    await writeFile(file, JSON.stringify({ port: 1, prot: 2 }));
    const bad = start(['--config', file], {});
    expect(await bad.exited).toBe(2);
    expect(bad.stderr()).toMatch(/unknown setting\(s\) prot/);

    const port = String(await freePort());
    const good = join(dir, 'good.json');
    await writeFile(
      good,
      JSON.stringify({
        port: 1,
        pin: '24681357',
        storageUrl: 'memory:',
        mcpPath: '/tools/mcp',
        logEvents: false,
      }),
    );
    const cli = start([`--config=${good}`], { PORT: port });
    const [, url] = await cli.waitFor(/MCP endpoint:\s+(\S+)/);
    expect(url).toBe(`http://127.0.0.1:${port}/tools/mcp`);
    expect(cli.stdout()).toContain('Storage:       memory');
    expect(cli.stdout()).not.toContain('24681357');
    const metadata = await fetch(`http://127.0.0.1:${port}/.well-known/oauth-protected-resource/tools/mcp`);
    expect(((await metadata.json()) as { resource: string }).resource).toBe(url);
    const unauthenticated = await fetch(url as string, { method: 'POST', body: '{}' });
    expect(unauthenticated.status).toBe(401);
    expect(unauthenticated.headers.get('www-authenticate')).toContain('resource_metadata=');
    expect(await cli.stop()).toBe(0);
  });

  it('signs users in with an OIDC provider when OIDC_ISSUER is set', async () => {
    const { createServer } = await import('node:http');
    const idpPort = await freePort();
    const idp = `http://127.0.0.1:${idpPort}`;
    const discovery = createServer((req, res) => {
      if (req.url !== '/.well-known/openid-configuration') return void res.writeHead(404).end();
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({
          issuer: idp,
          authorization_endpoint: `${idp}/auth`,
          token_endpoint: `${idp}/token`,
          jwks_uri: `${idp}/jwks`,
          response_types_supported: ['code'],
          subject_types_supported: ['public'],
          id_token_signing_alg_values_supported: ['RS256'],
          code_challenge_methods_supported: ['S256'],
        }),
      );
    });
    await new Promise<void>((resolve) => discovery.listen(idpPort, '127.0.0.1', resolve));
    try {
      const port = String(await freePort());
      const cli = start([], {
        PORT: port,
        STORAGE_URL: 'memory:',
        OIDC_ISSUER: idp,
        OIDC_CLIENT_ID: 'gateway-client',
        OIDC_CLIENT_SECRET: 'gateway-client-secret',
        ALLOWED_DOMAINS: 'example.com',
      });
      await cli.waitFor(/Sign-in:\s+OpenID Connect/);
      const base = `http://127.0.0.1:${port}`;
      const registered = await fetch(`${base}/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          redirect_uris: ['http://127.0.0.1:9/cb'],
          token_endpoint_auth_method: 'none',
        }),
      });
      const { client_id } = (await registered.json()) as { client_id: string };
      const authorize = new URL(`${base}/authorize`);
      authorize.search = new URLSearchParams({
        response_type: 'code',
        client_id,
        redirect_uri: 'http://127.0.0.1:9/cb',
        code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
        code_challenge_method: 'S256',
        state: 'xyz',
        resource: `${base}/mcp`,
      }).toString();
      const redirect = await fetch(authorize, { redirect: 'manual' });
      expect(redirect.status).toBe(302);
      const to = new URL(redirect.headers.get('location') as string);
      expect(`${to.origin}${to.pathname}`).toBe(`${idp}/auth`);
      expect(to.searchParams.get('client_id')).toBe('gateway-client');
      expect(to.searchParams.get('redirect_uri')).toBe(`${base}/callback`);
      expect(to.searchParams.get('code_challenge_method')).toBe('S256');
      expect(to.searchParams.get('scope')?.split(' ')).toEqual(expect.arrayContaining(['openid', 'email']));
      expect(cli.stderr()).toBe('');
      expect(cli.stdout()).not.toContain('gateway-client-secret');
      expect(await cli.stop()).toBe(0);
    } finally {
      discovery.close();
    }
  });

  it('reports a port in use as a start-up error', async () => {
    const port = String(await freePort());
    const first = start([], { PORT: port, STORAGE_URL: 'memory:', PORTCULLIS_PIN: '13572468' });
    await first.waitFor(/MCP endpoint/);
    const second = start([], { PORT: port, STORAGE_URL: 'memory:', PORTCULLIS_PIN: '13572468' });
    expect(await second.exited).toBe(2);
    expect(second.stderr()).toMatch(/^portcullis: cannot listen on 127\.0\.0\.1:\d+ \(EADDRINUSE\)\n$/);
    await first.stop();
  });
});

describe('startGateway behind a TLS-terminating proxy', () => {
  it('announces the PUBLIC_URL issuer whatever Host the proxy forwards', async () => {
    const { parseConfig, startGateway } = await import('../src/index.js');
    const gateway = await startGateway(
      parseConfig({
        port: 0,
        storageUrl: 'memory:',
        pin: '55667788',
        trustProxy: true,
        publicUrl: 'https://mcp.example.com',
        logEvents: false,
      }),
    );
    try {
      expect(gateway.mcpUrl).toBe('https://mcp.example.com/mcp');
      const local = `http://127.0.0.1:${gateway.port}`;
      const headers = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'mcp.example.com' };
      const metadata = (await (
        await fetch(`${local}/.well-known/oauth-authorization-server`, { headers })
      ).json()) as {
        issuer: string;
        token_endpoint: string;
      };
      expect(metadata.issuer).toBe('https://mcp.example.com');
      expect(metadata.token_endpoint).toBe('https://mcp.example.com/token');
      const refused = await fetch(`${local}/mcp`, { method: 'POST', headers, body: '{}' });
      expect(refused.status).toBe(401);
      expect(refused.headers.get('www-authenticate')).toContain(
        'resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"',
      );
    } finally {
      await gateway.close();
    }
  });
});

describe('pnpm demo (scripts/demo.mjs)', () => {
  it('starts a zero-configuration gateway and prints the MCP URL and the PIN', async () => {
    const { spawn } = await import('node:child_process');
    const { fileURLToPath } = await import('node:url');
    const script = fileURLToPath(new URL('../../../scripts/demo.mjs', import.meta.url));
    const port = String(await freePort());
    const child = spawn(process.execPath, [script], {
      env: { PATH: process.env.PATH ?? '', PORT: port },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const banner = new Promise<void>((resolve, reject) => {
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        out += chunk;
        if (/PIN:\s+\d+/.test(out)) resolve();
      });
      child.on('exit', (code) => reject(new Error(`demo exited with ${code}: ${out}`)));
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    await banner;
    expect(out).toContain(`MCP endpoint:  http://127.0.0.1:${port}/mcp`);
    expect(out).toContain('Storage:       sqlite .portcullis/portcullis.db');
    const metadata = await fetch(`http://127.0.0.1:${port}/.well-known/oauth-authorization-server`);
    expect(((await metadata.json()) as { issuer: string }).issuer).toBe(`http://127.0.0.1:${port}`);
    child.kill('SIGINT');
    expect(await exited).toBe(0);
  });
});
