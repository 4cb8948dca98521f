/**
 * Concurrent refresh with real processes (OAuth 2.1 §4.3.1, RFC 9700 §4.14.2): several client processes
 * refresh one refresh token at the same moment through two gateway processes sharing a real store. Every
 * process must end with a working token on /mcp at both gateways; a refresh replayed after the reuse
 * interval must still revoke the whole family.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mysqlStorage, postgresStorage, type SqlStorage } from '@portcullis/storage-sql';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const GATEWAY_SOURCE = fileURLToPath(new URL('./gateway.ts', import.meta.url));
const REFRESHER = fileURLToPath(new URL('./refresher.mjs', import.meta.url));
/** One issuer for both gateways, as for a cluster behind one name; it is only an identifier here. */
const ISSUER = 'http://127.0.0.1:9800';
/** Long enough to cover the spread of the concurrent refreshes, also on a loaded machine. */
const REUSE_INTERVAL_SECONDS = 10;
const CLIENT_PROCESSES = 6;
const REDIRECT = 'http://127.0.0.1:65000/cb';
const VERIFIER = `${'c'.repeat(43)}0123456789`;
const required = process.env.PORTCULLIS_REQUIRE_SERVICES === '1';
const run = randomBytes(4).toString('hex');

/** A child process running a JavaScript file, its stdout read line by line. */
interface Child {
  readonly child: ChildProcess;
  line(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  stop(): Promise<void>;
}

/** Every child still running, stopped after the suite even when a test failed or timed out. */
const running = new Set<ChildProcess>();
const buildDir = mkdtempSync(join(tmpdir(), 'pc-refresh-gateway-'));
afterAll(() => {
  for (const child of running) child.kill('SIGKILL');
  rmSync(buildDir, { recursive: true, force: true });
});

/**
 * The gateway script bundled once with esbuild (as the packages are built), so each gateway process
 * starts in a fraction of a second instead of compiling the sources again. The drivers stay external,
 * resolved from the CLI package's dependencies (pg, mysql2, better-sqlite3, ioredis).
 */
const gateway: Promise<string> = (async () => {
  type Esbuild = { build(options: Record<string, unknown>): Promise<unknown> };
  const esbuild = createRequire(join(ROOT, 'packages/storage-kv/package.json'))('esbuild') as Esbuild;
  const outfile = join(buildDir, 'gateway.mjs');
  await esbuild.build({
    entryPoints: [GATEWAY_SOURCE],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    tsconfig: join(ROOT, 'tsconfig.json'),
    external: ['pg', 'mysql2', 'mysql2/promise', 'better-sqlite3', 'ioredis'],
    // CommonJS dependencies bundled into ESM (undici) require Node built-ins at run time.
    banner: {
      js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
    },
    logLevel: 'error',
  });
  symlinkSync(join(ROOT, 'packages/cli/node_modules'), join(buildDir, 'node_modules'), 'dir');
  return outfile;
})();

function startChild(script: string, env: Record<string, string>): Child {
  const child = spawn(process.execPath, [script], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  running.add(child);
  const lines: string[] = [];
  let stderr = '';
  let partial = '';
  const waiters = new Set<() => void>();
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
    for (const wake of waiters) wake();
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  child.on('exit', () => {
    running.delete(child);
    for (const wake of waiters) wake();
  });
  return {
    child,
    line: (pattern, timeoutMs = 30_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          for (const line of lines) {
            const match = line.match(pattern);
            if (match) {
              waiters.delete(check);
              clearTimeout(timer);
              resolve(match);
              return;
            }
          }
          if (child.exitCode !== null) {
            waiters.delete(check);
            clearTimeout(timer);
            reject(new Error(`process exited (${child.exitCode}) before ${pattern}: ${stderr}`));
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no ${pattern} within ${timeoutMs} ms: ${stderr}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      }),
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(killer);
    },
  };
}

/** A store both gateways share, with its own prefix for this run and a way to remove what it wrote. */
interface SharedStore {
  readonly name: string;
  readonly env: Record<string, string> | undefined;
  cleanup(): Promise<void>;
}

async function dropSqlTables(storage: SqlStorage): Promise<void> {
  const driver = await storage.driver();
  for (const table of ['records', 'migrations'])
    await driver.execute(`DROP TABLE IF EXISTS ${storage.tablePrefix}${table}`);
  await storage.close();
}

function sqlStore(name: 'postgres' | 'mysql', variable: 'POSTGRES_URL' | 'MYSQL_URL'): SharedStore {
  const url = process.env[variable];
  const prefix = `pc_refresh_${run}_`;
  return {
    name,
    env: url ? { STORE: name, STORE_URL: url, STORE_PREFIX: prefix } : undefined,
    cleanup: async () => {
      if (!url) return;
      const open = name === 'postgres' ? postgresStorage : mysqlStorage;
      await dropSqlTables(open(url, { tablePrefix: prefix, autoMigrate: false }));
    },
  };
}

function redisStore(): SharedStore {
  const url = process.env.REDIS_URL;
  const prefix = `pc-refresh-${run}:`;
  return {
    name: 'redis',
    env: url ? { STORE: 'redis', STORE_URL: url, STORE_PREFIX: prefix } : undefined,
    cleanup: async () => {
      if (!url) return;
      const requireKv = createRequire(join(ROOT, 'packages/storage-kv/package.json'));
      type Client = {
        keys(p: string): Promise<string[]>;
        del(...k: string[]): Promise<number>;
        quit(): Promise<unknown>;
      };
      const { Redis } = requireKv('ioredis') as { Redis: new (url: string) => Client };
      const client = new Redis(url);
      const keys = await client.keys(`${prefix}*`);
      if (keys.length > 0) await client.del(...keys);
      await client.quit();
    },
  };
}

function sqliteStore(): SharedStore {
  // In the build directory, which the suite removes at the end whatever happens.
  const file = join(buildDir, `shared-${run}.db`);
  return {
    name: 'a SQLite file',
    env: { STORE: 'sqlite', STORE_URL: file, STORE_PREFIX: `pc_refresh_${run}_` },
    cleanup: async () => {
      for (const suffix of ['', '-wal', '-shm']) rmSync(`${file}${suffix}`, { force: true });
    },
  };
}

const form = (url: string, fields: Record<string, string>) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields),
  });

const mcpStatus = async (gateway: string, accessToken: string) =>
  (await fetch(`${gateway}/mcp`, { headers: { authorization: `Bearer ${accessToken}` } })).status;

/** Registers a public client at one gateway, authorizes at it and redeems the code at the other. */
async function signIn(at: string, redeemAt: string) {
  const registered = await fetch(`${at}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      redirect_uris: [REDIRECT],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
    }),
  });
  expect(registered.status).toBe(201);
  const clientId = ((await registered.json()) as { client_id: string }).client_id;
  const challenge = Buffer.from(
    await crypto.subtle.digest('SHA-256', new TextEncoder().encode(VERIFIER)),
  ).toString('base64url');
  const authorize = new URL(`${at}/authorize`);
  authorize.search = new URLSearchParams({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: REDIRECT,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state: 'concurrency',
  }).toString();
  const redirected = await fetch(authorize, { redirect: 'manual' });
  expect(redirected.status).toBe(302);
  const code = new URL(redirected.headers.get('location') ?? '').searchParams.get('code');
  expect(code).toBeTruthy();
  const tokens = await form(`${redeemAt}/token`, {
    grant_type: 'authorization_code',
    code: code ?? '',
    redirect_uri: REDIRECT,
    code_verifier: VERIFIER,
    client_id: clientId,
  });
  expect(tokens.status).toBe(200);
  return { clientId, ...((await tokens.json()) as { access_token: string; refresh_token: string }) };
}

interface RefreshOutcome {
  readonly status: number;
  readonly error?: string;
  readonly accessToken?: string;
  readonly refreshToken?: string;
  readonly mcp: number[];
}

const stores = [
  sqlStore('postgres', 'POSTGRES_URL'),
  redisStore(),
  sqliteStore(),
  sqlStore('mysql', 'MYSQL_URL'),
];

/** Starts the two gateway processes of a store and waits until both listen. */
async function startGateways(
  storeEnv: Record<string, string>,
): Promise<{ gateways: Child[]; urls: string[] }> {
  const env = { ...storeEnv, ISSUER, REUSE_INTERVAL_SECONDS: String(REUSE_INTERVAL_SECONDS) };
  const script = await gateway;
  const gateways = [startChild(script, env), startChild(script, env)];
  try {
    const urls = (await Promise.all(gateways.map((g) => g.line(/^listening (\S+)$/)))).map((m) => m[1] ?? '');
    return { gateways, urls };
  } catch (error) {
    await Promise.all(gateways.map((g) => g.stop()));
    throw error;
  }
}

let spawning: Promise<unknown> = Promise.resolve();

/**
 * Starts the processes of one store: its two gateways, listening, and its client processes, ready and
 * waiting for their job on stdin. The stores take turns at this CPU-bound step; their scenarios (mostly
 * waiting out the reuse interval) then run at the same time.
 */
function startProcesses(storeEnv: Record<string, string>) {
  const started = spawning.then(async () => {
    const clients = Array.from({ length: CLIENT_PROCESSES }, () => startChild(REFRESHER, {}));
    try {
      const [{ gateways, urls }] = await Promise.all([
        startGateways(storeEnv),
        Promise.all(clients.map((c) => c.line(/^ready$/))),
      ]);
      return { clients, gateways, urls };
    } catch (error) {
      await Promise.all(clients.map((c) => c.stop()));
      throw error;
    }
  });
  spawning = started.catch(() => undefined);
  return started;
}

/** Releases the client processes together on one refresh token; returns what each one saw. */
async function refreshTogether(
  clients: Child[],
  urls: string[],
  clientId: string,
  refreshToken: string,
): Promise<RefreshOutcome[]> {
  const [a = '', b = ''] = urls;
  // Released together: the refreshes reach both gateways at the same moment.
  clients.forEach((c, i) => {
    const [tokenAt, other] = i % 2 === 0 ? [a, b] : [b, a];
    c.child.stdin?.write(`${JSON.stringify({ tokenAt, other, clientId, refreshToken })}\n`);
  });
  return Promise.all(clients.map(async (c) => JSON.parse((await c.line(/^\{.*\}$/))[0]) as RefreshOutcome));
}

const refresh = (gateway: string, clientId: string, refreshToken: string) =>
  form(`${gateway}/token`, { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: clientId });

describe.concurrent(`concurrent refresh: ${CLIENT_PROCESSES} client processes, two gateway processes`, () => {
  for (const store of stores) {
    const storeEnv = store.env;
    const name = `on ${store.name}: every process gets a working token; a replay after the interval revokes the family`;
    if (!storeEnv) {
      if (required) it(`${name} (needs its service URL)`, () => expect.fail('service URL not set'));
      else it.skip(`${name} (runs when its service URL is set)`, () => {});
      continue;
    }
    it(name, async () => {
      const { clients, gateways, urls } = await startProcesses(storeEnv);
      try {
        const [a = '', b = ''] = urls;
        const first = await signIn(a, b);
        const outcomes = await refreshTogether(clients, urls, first.clientId, first.refresh_token);
        const seen = outcomes.map((o) => ({ status: o.status, error: o.error, mcp: o.mcp }));
        expect(seen).toEqual(
          Array(CLIENT_PROCESSES).fill({ status: 200, error: undefined, mcp: [200, 200] }),
        );
        // Every process got the same successor pair, so they all share one family from here on.
        expect(new Set(outcomes.map((o) => o.refreshToken)).size).toBe(1);
        expect(new Set(outcomes.map((o) => o.accessToken)).size).toBe(1);

        // The family goes on: the shared successor rotates normally.
        const next = await refresh(b, first.clientId, outcomes[0]?.refreshToken ?? '');
        expect(next.status).toBe(200);
        const newest = (await next.json()) as { access_token: string; refresh_token: string };
        expect(await mcpStatus(a, newest.access_token)).toBe(200);

        // After the interval, presenting the first refresh token again is reuse: the family is revoked.
        await new Promise((resolve) => setTimeout(resolve, REUSE_INTERVAL_SECONDS * 1000 + 500));
        const replay = await refresh(a, first.clientId, first.refresh_token);
        expect(replay.status).toBe(400);
        expect(((await replay.json()) as { error: string }).error).toBe('invalid_grant');
        expect(await mcpStatus(a, newest.access_token)).toBe(401);
        expect(await mcpStatus(b, newest.access_token)).toBe(401);
        expect((await refresh(b, first.clientId, newest.refresh_token)).status).toBe(400);
      } finally {
        await Promise.all([...clients, ...gateways].map((c) => c.stop()));
        await store.cleanup();
      }
    }, 90_000);
  }
});
