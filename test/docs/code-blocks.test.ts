/**
 * Every code block of README.md, packages/core/README.md and docs/*.md is checked:
 *
 * - `ts` blocks are type-checked with the repository's strict settings, `@portcullis/*` resolved to the
 *   package sources (blocks marked `title="illustrative"` too: they must still compile);
 * - `ts … run` blocks are executed: the server starts, its metadata answers, it stops;
 * - `sh` blocks name only commands that exist (root scripts, workspace scripts, local binaries, files);
 * - `json` blocks parse, `toml` blocks are well-formed lines; any other language fails the test.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandProblem, commandsOf } from './commands.js';
import { type CodeBlock, codeBlocks, documentedFiles, root, snippetName } from './markdown.js';

const blocks = documentedFiles().flatMap(codeBlocks);
const tsBlocks = blocks.filter((b) => b.lang === 'ts' || b.lang === 'typescript');
const KNOWN_LANGS = new Set(['ts', 'typescript', 'sh', 'json', 'toml', 'text', '']);

const base = join(root, 'test-results', 'docs-snippets');
const workDir = join(base, `run-${process.pid}`);
const where = (b: CodeBlock) => `${b.file}:${b.line}`;

/** The package (`name` or `@scope/name`) of a bare import specifier. */
const packageOf = (specifier: string) =>
  specifier
    .split('/')
    .slice(0, specifier.startsWith('@') ? 2 : 1)
    .join('/');

/** Where a workspace package (or the root) has `name` installed. */
function findInWorkspace(name: string): string | undefined {
  const groups = ['packages/core', 'packages/adapter-node', 'packages/storage-sql', 'packages/storage-kv'];
  return [...groups.map((g) => join(root, g, 'node_modules', name)), join(root, 'node_modules', name)].find(
    (dir) => existsSync(join(dir, 'package.json')),
  );
}

/** Third-party packages the snippets import, linked into `base/node_modules` from the workspace. */
function linkDependencies(): string[] {
  const problems: string[] = [];
  const wanted = new Set<string>();
  for (const block of tsBlocks) {
    for (const match of block.code.matchAll(/(?:from|import)\s+'([^']+)'/g)) {
      const specifier = match[1] ?? '';
      if (specifier.startsWith('.') || specifier.startsWith('node:') || specifier.startsWith('@portcullis/'))
        continue;
      const name = packageOf(specifier);
      wanted.add(name);
      // Its DefinitelyTyped package, when a workspace package has one (e.g. @types/express).
      const typesName = `@types/${name.startsWith('@') ? name.slice(1).replace('/', '__') : name}`;
      if (findInWorkspace(typesName)) wanted.add(typesName);
    }
  }
  for (const name of wanted) {
    const link = join(base, 'node_modules', name);
    if (existsSync(link)) continue;
    const found = findInWorkspace(name);
    if (!found) {
      problems.push(`a snippet imports "${name}", which no workspace package depends on`);
      continue;
    }
    mkdirSync(join(link, '..'), { recursive: true });
    rmSync(link, { force: true }); // a dangling link left by an older install
    try {
      symlinkSync(realpathSync(found), link, 'dir');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  return problems;
}

/** tsconfig for the snippets: the repository's compiler options and `@portcullis/*` source paths. */
function writeTsconfig(files: string[]): string {
  const rootConfig = JSON.parse(readFileSync(join(root, 'tsconfig.json'), 'utf8')) as {
    compilerOptions: { paths: Record<string, string[]> };
  };
  const path = join(workDir, 'tsconfig.json');
  writeFileSync(
    path,
    JSON.stringify(
      {
        extends: relative(workDir, join(root, 'tsconfig.base.json')),
        compilerOptions: {
          noEmit: true,
          types: ['node'],
          baseUrl: relative(workDir, root),
          paths: rootConfig.compilerOptions.paths,
        },
        files,
      },
      null,
      2,
    ),
  );
  return path;
}

let tscErrors = new Map<string, string[]>();
let setupProblems: string[] = [];
let tsconfigPath = '';

beforeAll(() => {
  mkdirSync(workDir, { recursive: true });
  setupProblems = linkDependencies();
  const files = tsBlocks.map((block) => {
    const file = `${snippetName(block)}.ts`;
    writeFileSync(join(workDir, file), `${block.code}\nexport {};\n`);
    return file;
  });
  tsconfigPath = writeTsconfig(files);
  const tsc = spawnSync(
    process.execPath,
    [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', tsconfigPath, '--pretty', 'false'],
    { cwd: workDir, encoding: 'utf8' },
  );
  // Only errors located in the snippets count; the packages are type-checked by `pnpm typecheck`.
  tscErrors = new Map();
  for (const line of `${tsc.stdout}\n${tsc.stderr}`.split('\n')) {
    const match = /^([^(\s]+\.ts)\(\d+,\d+\): error /.exec(line);
    if (!match?.[1] || match[1].includes('/')) continue;
    const list = tscErrors.get(match[1]) ?? [];
    list.push(line);
    tscErrors.set(match[1], list);
  }
}, 240_000);

afterAll(() => {
  rmSync(workDir, { recursive: true, force: true });
});

describe('documentation code blocks', () => {
  it('finds the documents and their blocks', () => {
    expect(documentedFiles()).toContain('README.md');
    expect(tsBlocks.length).toBeGreaterThan(5);
    expect(blocks.filter((b) => b.attrs.run === true).length).toBeGreaterThanOrEqual(1);
  });

  it('uses only languages the tests know how to check', () => {
    const unknown = blocks.filter((b) => !KNOWN_LANGS.has(b.lang)).map((b) => `${where(b)} (${b.lang})`);
    expect(unknown).toEqual([]);
  });

  it('links every third-party import from a workspace package', () => {
    expect(setupProblems).toEqual([]);
  });

  describe.each(tsBlocks.map((b) => [where(b), b] as const))('ts block %s', (_name, block) => {
    it('type-checks', () => {
      expect(tscErrors.get(`${snippetName(block)}.ts`) ?? []).toEqual([]);
    });
  });

  describe.each(blocks.filter((b) => b.lang === 'sh').map((b) => [where(b), b] as const))(
    'sh block %s',
    (_name, block) => {
      it('names only commands that exist', () => {
        let cwd = root;
        const problems: string[] = [];
        for (const words of commandsOf(block.code)) {
          const problem = commandProblem(words, cwd);
          if (problem) problems.push(`${words.join(' ')}: ${problem}`);
          else if (words[0] === 'cd' && words[1]) cwd = join(cwd, words[1]);
        }
        expect(problems).toEqual([]);
      });
    },
  );

  describe.each(blocks.filter((b) => b.lang === 'json').map((b) => [where(b), b] as const))(
    'json block %s',
    (_name, block) => {
      it('parses', () => {
        expect(() => JSON.parse(block.code)).not.toThrow();
      });
    },
  );

  describe.each(blocks.filter((b) => b.lang === 'toml').map((b) => [where(b), b] as const))(
    'toml block %s',
    (_name, block) => {
      it('has only tables, keys and comments', () => {
        const bad = block.code
          .split('\n')
          .map((line) => line.trim())
          .filter((line) => line !== '' && !line.startsWith('#'))
          .filter(
            (line) =>
              !/^\[\[?[\w.-]+\]\]?$/.test(line) &&
              !/^[\w.-]+\s*=\s*("[^"]*"|\[.*\]|\d+|true|false)(\s*#.*)?$/.test(line),
          );
        expect(bad).toEqual([]);
      });
    },
  );
});

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Runs a snippet with tsx (TypeScript sources of the packages via the snippets' tsconfig paths). */
function runSnippet(
  block: CodeBlock,
  env: Record<string, string>,
): { child: ChildProcess; output: () => string } {
  const dir = join(workDir, `${snippetName(block)}-run`);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, String(block.attrs.title ?? 'snippet.ts'));
  writeFileSync(file, block.code);
  const child = spawn(
    process.execPath,
    ['--import', join(root, 'node_modules', 'tsx', 'dist', 'esm', 'index.mjs'), file],
    { cwd: dir, env: { ...process.env, ...env, TSX_TSCONFIG_PATH: tsconfigPath }, stdio: 'pipe' },
  );
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += String(chunk);
  });
  child.stderr?.on('data', (chunk) => {
    output += String(chunk);
  });
  return { child, output: () => output };
}

async function waitFor(predicate: () => boolean, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!predicate()) {
    if (child.exitCode !== null) throw new Error(`the snippet exited with ${child.exitCode}:\n${output()}`);
    if (Date.now() > deadline) throw new Error(`the snippet did not start in time:\n${output()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe.each(blocks.filter((b) => b.attrs.run === true).map((b) => [where(b), b] as const))(
  'runnable block %s',
  (_name, block) => {
    it('starts, serves OAuth metadata and a protected MCP endpoint, and stops', async () => {
      const port = await freePort();
      const { child, output } = runSnippet(block, { PORT: String(port) });
      try {
        await waitFor(() => output().includes(`127.0.0.1:${port}/mcp`), child, output);
        const origin = `http://127.0.0.1:${port}`;

        const metadata = await fetch(`${origin}/.well-known/oauth-authorization-server`);
        expect(metadata.status).toBe(200);
        const as = (await metadata.json()) as Record<string, unknown>;
        expect(as.issuer).toBe(origin);
        expect(as.token_endpoint).toBe(`${origin}/token`);
        expect(as.code_challenge_methods_supported).toEqual(['S256']);

        const prm = await fetch(`${origin}/.well-known/oauth-protected-resource/mcp`);
        expect(prm.status).toBe(200);
        expect(((await prm.json()) as { resource: string }).resource).toBe(`${origin}/mcp`);

        const mcp = await fetch(`${origin}/mcp`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
          body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
        });
        expect(mcp.status).toBe(401);
        expect(mcp.headers.get('www-authenticate')).toContain(
          `resource_metadata="${origin}/.well-known/oauth-protected-resource/mcp"`,
        );
      } finally {
        child.kill('SIGTERM');
        await new Promise((resolve) =>
          child.exitCode !== null ? resolve(null) : child.once('exit', resolve),
        );
      }
    }, 120_000);
  },
);
