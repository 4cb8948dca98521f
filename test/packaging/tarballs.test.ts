/**
 * The packed tarballs, installed into fresh projects outside the workspace, type-check with
 * `skipLibCheck: false` and run: Express only, Fastify only, a Worker (workers-types, no Node types),
 * CommonJS (`require`, also without Node's `require(esm)`), and the `@portcullis/cli` gateway.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { declarationProblems } from '../../scripts/check-dts.mjs';
import { codeBlocks, snippetName } from '../docs/markdown.js';
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
    // Every package and what the documentation's blocks import; type-checked only, never run.
    installProject('docs', dirOf('docs'), tarballs, { npmArgs: ['--ignore-scripts'] }),
    installExampleCopy(),
  ]);
  cpSync(
    join(root, 'packages', 'storage-sql', 'node_modules', 'better-sqlite3', 'build'),
    join(dirOf('cli'), 'node_modules', 'better-sqlite3', 'build'),
    { recursive: true },
  );
}, 600_000);

/**
 * examples/worker-pin-proxy copied out of the repository, its workspace links replaced by the
 * tarballs; of its devDependencies only esbuild (the size script's) and the MCP SDK, so no Wrangler
 * download here (scripts/check-worker-example.mjs runs Wrangler on the same kind of copy).
 */
async function installExampleCopy(): Promise<void> {
  const example = join(root, 'examples', 'worker-pin-proxy');
  const copy = dirOf('worker-pin-proxy');
  cpSync(example, copy, {
    recursive: true,
    filter: (path) => !path.slice(example.length).includes('node_modules'),
  });
  const manifest = JSON.parse(readFileSync(join(copy, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
    devDependencies: Record<string, string>;
  };
  const local = Object.fromEntries(
    (['core', 'adapter-workers', 'storage-kv'] as const).map((p) => [
      `@portcullis/${p}`,
      `file:${tarballs[p]}`,
    ]),
  );
  for (const name of Object.keys(manifest.dependencies)) manifest.dependencies[name] = local[name] ?? '';
  // The MCP SDK stays: `@portcullis/core/mcp` (mcpProxy) is bundled with its optional dynamic import of it.
  const devDependencies = {
    esbuild: manifest.devDependencies.esbuild,
    '@modelcontextprotocol/sdk': manifest.devDependencies['@modelcontextprotocol/sdk'],
  };
  const copied = { ...manifest, devDependencies, overrides: local };
  writeFileSync(join(copy, 'package.json'), JSON.stringify(copied, null, 2));
  succeeded(
    await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], {
      cwd: copy,
      timeoutMs: 240_000,
    }),
    'npm install (worker-pin-proxy copy)',
  );
}

afterAll(() => {
  // PORTCULLIS_PACKAGING_KEEP=1 keeps the projects for a look (their path is printed).
  if (process.env.PORTCULLIS_PACKAGING_KEEP) console.log(`packaging projects kept in ${work}`);
  else rmSync(work, { recursive: true, force: true });
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
  }, 120_000);

  it('Fastify only: type-checks without express, and serves', async () => {
    const dir = dirOf('fastify');
    expect(existsSync(join(dir, 'node_modules', 'express'))).toBe(false);
    expect(existsSync(join(dir, 'node_modules', '@types', 'express'))).toBe(false);
    const tsc = await typecheck(dir);
    expect(tsc.stdout + tsc.stderr).toBe('');
    const { answers, port } = await runProgram('fastify');
    expectServed(answers, `http://127.0.0.1:${port}`);
    expect(answers.hello).toEqual({ hello: 'fastify' });
  }, 120_000);

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
  }, 120_000);

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
  }, 120_000);
});

/** Every Markdown file with TypeScript a reader may copy: READMEs, package READMEs, guides. */
function documentation(): string[] {
  const inDir = (dir: string, name = (entry: string) => `${dir}/${entry}`) =>
    readdirSync(join(root, dir))
      .map(name)
      .filter((file) => file.endsWith('.md') && existsSync(join(root, file)));
  return [
    'README.md',
    ...inDir('docs'),
    ...inDir('packages', (p) => `packages/${p}/README.md`),
    ...inDir('examples', (e) => `examples/${e}/README.md`),
  ];
}

describe('examples/worker-pin-proxy copied out of the repository', () => {
  it('npm run size bundles the installed packages', async () => {
    const copy = dirOf('worker-pin-proxy');
    const size = succeeded(await run('npm', ['run', '--silent', 'size'], { cwd: copy }), 'npm run size');
    expect(size.stdout).toMatch(/bundle \(installed packages\): \d+ bytes raw .*, \d+ bytes gzip/);
    const json = succeeded(
      await run(process.execPath, ['scripts/size.mjs', '--json'], { cwd: copy }),
      'size.mjs --json',
    );
    const { raw, gzip } = lastJsonLine(json.stdout) as { raw: number; gzip: number };
    expect(gzip).toBeGreaterThan(10_000);
    expect(raw).toBeGreaterThan(gzip);
  }, 60_000);

  it('wrangler.toml gives the KV binding a placeholder id and preview_id (Wrangler 3 needs an id)', () => {
    const toml = readFileSync(join(dirOf('worker-pin-proxy'), 'wrangler.toml'), 'utf8');
    const kv = /\[\[kv_namespaces\]\]\n([\s\S]*?)(?=\n\[|\n#|$)/.exec(toml)?.[1] ?? '';
    expect(kv).toMatch(/^binding = "OAUTH_KV"$/m);
    expect(kv).toMatch(/^id = "[0-9a-f]{32}"$/m);
    expect(kv).toMatch(/^preview_id = "[0-9a-f]{32}"$/m);
    expect(readFileSync(join(dirOf('worker-pin-proxy'), '.gitignore'), 'utf8')).toMatch(/^\.dev\.vars$/m);
    expect(existsSync(join(dirOf('worker-pin-proxy'), '.dev.vars.example'))).toBe(true);
  });
});

describe('documentation against the packed tarballs', () => {
  it('every TypeScript block type-checks (skipLibCheck: false, the packages as installed)', async () => {
    const dir = dirOf('docs');
    const blocks = documentation()
      .flatMap(codeBlocks)
      .filter((b) => b.lang === 'ts' || b.lang === 'typescript');
    expect(blocks.length).toBeGreaterThan(20);
    mkdirSync(join(dir, 'snippets'), { recursive: true });
    const files = blocks.map((block) => {
      const file = `snippets/${snippetName(block)}.ts`;
      writeFileSync(join(dir, file), `${block.code}\nexport {};\n`);
      return file;
    });
    // The repository's strict settings, resolved the way an installed project resolves them.
    const base = JSON.parse(readFileSync(join(root, 'tsconfig.base.json'), 'utf8')) as {
      compilerOptions: Record<string, unknown>;
    };
    const compilerOptions = { ...base.compilerOptions, skipLibCheck: false, noEmit: true, types: ['node'] };
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, files }, null, 2));
    const tsc = await typecheck(dir);
    // Errors in the blocks or in the packages' declarations count; third-party declarations are theirs.
    const errors = `${tsc.stdout}\n${tsc.stderr}`
      .split('\n')
      .filter((line) => /^(snippets\/|node_modules\/@portcullis\/)[^(]+\(\d+,\d+\): error /.test(line));
    const where = new Map(blocks.map((b) => [`snippets/${snippetName(b)}.ts`, `${b.file}:${b.line}`]));
    expect(errors.map((line) => line.replace(/^[^(]+/, (file) => where.get(file) ?? file))).toEqual([]);
  }, 120_000);
});
