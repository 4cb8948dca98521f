/**
 * The packed tarballs, installed into fresh projects outside the workspace, type-check with
 * `skipLibCheck: false` and run: Express only, Fastify only, a Worker (workers-types, no Node types),
 * CommonJS (`require`, also without Node's `require(esm)`), and the `@portcullis/cli` gateway.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { declarationProblems } from '../../scripts/check-dts.mjs';
import { Miniflare } from '../support/deps.js';
import {
  buildAndPack,
  freePort,
  installProject,
  lastJsonLine,
  type PackageDir,
  root,
  run,
  succeeded,
  typecheck,
  workspaceVersion,
} from './pack.js';

const work = mkdtempSync(join(tmpdir(), 'portcullis-packaging-'));
const dirOf = (project: string) => join(work, project);
let tarballs: Record<PackageDir, string>;

/** What each Node project's program prints after requesting its own server. */
interface Answers {
  readonly metadata: { readonly status: number; readonly issuer: string };
  readonly mcp: { readonly status: number; readonly challenge: string | null };
}

function expectServed(answers: Answers, issuer: string) {
  expect(answers.metadata).toEqual({ status: 200, issuer });
  expect(answers.mcp.status).toBe(401);
  // RFC 9728 §5.1: the challenge points at the protected resource metadata.
  expect(answers.mcp.challenge).toContain(
    `resource_metadata="${issuer}/.well-known/oauth-protected-resource`,
  );
}

async function runProgram(project: string, args: readonly string[] = []) {
  const port = await freePort();
  const result = succeeded(
    await run(process.execPath, [...args, join('dist', 'main.js')], {
      cwd: dirOf(project),
      env: { ...process.env, PORT: String(port) },
      timeoutMs: 30_000,
    }),
    `${project} program`,
  );
  return { answers: lastJsonLine(result.stdout) as Answers & Record<string, unknown>, port };
}

beforeAll(async () => {
  tarballs = await buildAndPack(join(work, 'tarballs'));
  await Promise.all([
    installProject('express', dirOf('express'), tarballs),
    installProject('fastify', dirOf('fastify'), tarballs),
    installProject('worker', dirOf('worker'), tarballs),
    installProject('commonjs', dirOf('commonjs'), tarballs),
    // better-sqlite3 at the workspace's version, with the workspace's native build copied in
    // (compiling SQLite is not what this test is about).
    installProject('cli', dirOf('cli'), tarballs, {
      overrides: { 'better-sqlite3': workspaceVersion('storage-sql', 'better-sqlite3') },
      npmArgs: ['--ignore-scripts'],
    }),
  ]);
  cpSync(
    join(root, 'packages', 'storage-sql', 'node_modules', 'better-sqlite3', 'build'),
    join(dirOf('cli'), 'node_modules', 'better-sqlite3', 'build'),
    { recursive: true },
  );
}, 600_000);

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

describe('packed tarballs', () => {
  it('install every published package, whose declarations import no optional peer', () => {
    const installed = new Map<string, string>();
    for (const project of ['express', 'worker', 'cli']) {
      const scope = join(dirOf(project), 'node_modules', '@portcullis');
      for (const name of readdirSync(scope)) installed.set(name, join(scope, name));
    }
    expect([...installed.keys()].sort()).toEqual(Object.keys(tarballs).sort());
    expect([...installed.values()].flatMap((dir) => declarationProblems(dir))).toEqual([]);
  });

  it('Express only: type-checks without fastify or the MCP SDK, and serves', async () => {
    const dir = dirOf('express');
    expect(existsSync(join(dir, 'node_modules', 'fastify'))).toBe(false);
    expect(existsSync(join(dir, 'node_modules', '@modelcontextprotocol'))).toBe(false);
    const tsc = await typecheck(dir);
    expect(tsc.stdout + tsc.stderr).toBe('');
    const { answers, port } = await runProgram('express');
    expectServed(answers, `http://127.0.0.1:${port}`);
    expect(answers.hello).toEqual({ hello: 'express' });
  });

  it('Fastify only: type-checks without express, and serves', async () => {
    const dir = dirOf('fastify');
    expect(existsSync(join(dir, 'node_modules', 'express'))).toBe(false);
    expect(existsSync(join(dir, 'node_modules', '@types', 'express'))).toBe(false);
    const tsc = await typecheck(dir);
    expect(tsc.stdout + tsc.stderr).toBe('');
    const { answers, port } = await runProgram('fastify');
    expectServed(answers, `http://127.0.0.1:${port}`);
    expect(answers.hello).toEqual({ hello: 'fastify' });
  });

  it('CommonJS: require() works, with and without require(esm), and type-checks', async () => {
    const dir = dirOf('commonjs');
    expect(JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).type).toBeUndefined();
    const tsc = await typecheck(dir);
    expect(tsc.stdout + tsc.stderr).toBe('');
    const emitted = readFileSync(join(dir, 'dist', 'main.js'), 'utf8');
    expect(emitted).toContain('require("@portcullis/core")');
    expect(emitted).toContain('require("@portcullis/core/upstreams")');
    // Node 20.0–20.18 have no require(esm): the CommonJS build must not need it.
    for (const flags of [[], ['--no-experimental-require-module']]) {
      const { answers, port } = await runProgram('commonjs', flags);
      expectServed(answers, `http://127.0.0.1:${port}`);
      expect(answers.module).toBe('commonjs');
    }
  });

  it('Worker: type-checks with workers-types and no Node types, bundles and serves in workerd', async () => {
    const dir = dirOf('worker');
    expect(existsSync(join(dir, 'node_modules', '@types', 'node'))).toBe(false);
    const tsc = await typecheck(dir);
    expect(tsc.stdout + tsc.stderr).toBe('');
    const esbuild = createRequire(join(root, 'packages', 'adapter-workers', 'package.json'))(
      'esbuild',
    ) as typeof import('../../packages/adapter-workers/node_modules/esbuild/lib/main.js');
    const bundle = await esbuild.build({
      absWorkingDir: dir,
      entryPoints: ['src/worker.ts'],
      bundle: true,
      format: 'esm',
      platform: 'neutral',
      target: 'es2022',
      conditions: ['workerd', 'worker', 'browser'],
      mainFields: ['module', 'main'],
      write: false,
      logLevel: 'silent',
    });
    const script = bundle.outputFiles[0]?.text ?? '';
    expect(script).not.toContain('node_modules/.pnpm'); // resolved from the project, not the workspace
    const mf = new Miniflare({
      modules: true,
      script,
      compatibilityDate: '2025-07-01',
      kvNamespaces: ['OAUTH_KV'],
      durableObjects: { PORTCULLIS: { className: 'PortcullisCoordinator', useSQLite: true } },
      bindings: { PORTCULLIS_SECRET: 'packaging-test-secret-0123456789abcdef' },
    });
    try {
      const issuer = 'https://worker.example';
      const metadata = await mf.dispatchFetch(`${issuer}/.well-known/oauth-authorization-server`);
      expect(metadata.status).toBe(200);
      expect(((await metadata.json()) as { issuer: string }).issuer).toBe(issuer);
      const api = await mf.dispatchFetch(`${issuer}/api`);
      expect(api.status).toBe(401);
      expect(api.headers.get('www-authenticate')).toContain(`resource_metadata="${issuer}/.well-known/`);
      await api.arrayBuffer();
    } finally {
      await mf.dispose();
    }
  }, 60_000);

  it('@portcullis/cli: startGateway type-checks and serves; the portcullis bin starts a gateway', async () => {
    const dir = dirOf('cli');
    const tsc = await typecheck(dir);
    expect(tsc.stdout + tsc.stderr).toBe('');
    const { answers } = await runProgram('cli');
    expect(answers.metadata.status).toBe(200);
    expectServed(answers, answers.metadata.issuer);

    const port = await freePort();
    const bin: ChildProcess = spawn(join(dir, 'node_modules', '.bin', 'portcullis'), [], {
      cwd: dir,
      env: { ...process.env, PORT: String(port), PORTCULLIS_PIN: '246810', LOG_EVENTS: 'false' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let output = '';
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`portcullis did not start:\n${output}`)), 30_000);
        const onData = (chunk: Buffer) => {
          output += chunk;
          if (output.includes('MCP endpoint:')) {
            clearTimeout(timer);
            resolve();
          }
        };
        bin.stdout?.on('data', onData);
        bin.stderr?.on('data', onData);
        bin.once('exit', (code) => reject(new Error(`portcullis exited (${code}):\n${output}`)));
      });
      const issuer = `http://127.0.0.1:${port}`;
      expect(output).toContain(`${issuer}/mcp`);
      const metadata = await fetch(`${issuer}/.well-known/oauth-authorization-server`);
      expect(metadata.status).toBe(200);
      expect(((await metadata.json()) as { issuer: string }).issuer).toBe(issuer);
      const mcp = await fetch(`${issuer}/mcp`, { method: 'POST' });
      expect(mcp.status).toBe(401);
      // The default storage is SQLite under .portcullis/, through the installed better-sqlite3.
      expect(existsSync(join(dir, '.portcullis', 'portcullis.db'))).toBe(true);
    } finally {
      const exited = new Promise((resolve) => bin.once('exit', resolve));
      bin.kill('SIGTERM');
      await exited;
    }
    expect(bin.exitCode).toBe(0);
  }, 60_000);
});
