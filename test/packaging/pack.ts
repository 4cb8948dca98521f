/**
 * Builds and packs the published packages, and installs the tarballs into fresh projects outside the
 * workspace (npm, from the tarballs plus the registry or its cache), the way a newcomer installs them.
 */
import { type SpawnOptions, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const root = fileURLToPath(new URL('../..', import.meta.url));
const projects = fileURLToPath(new URL('./projects', import.meta.url));

/** The published packages, by folder name under packages/. */
export const PACKAGES = [
  'core',
  'adapter-node',
  'adapter-workers',
  'storage-kv',
  'storage-sql',
  'cli',
] as const;
export type PackageDir = (typeof PACKAGES)[number];

/** What a finished command printed. */
export interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command to its end (at most `timeoutMs`), collecting its output. */
export function run(
  command: string,
  args: readonly string[],
  options: SpawnOptions & { timeoutMs?: number } = {},
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk;
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Fails with the command's output when it did not exit with 0. */
export function succeeded(result: Run, what: string): Run {
  if (result.code !== 0)
    throw new Error(`${what} failed (${result.code}):\n${result.stdout}\n${result.stderr}`);
  return result;
}

/** Builds the packages (when any is stale) and packs each into `into`; returns tarball paths by folder. */
export async function buildAndPack(into: string): Promise<Record<PackageDir, string>> {
  succeeded(
    await run(process.execPath, [join(root, 'scripts', 'build-packages.mjs')], {
      cwd: root,
      timeoutMs: 600_000,
    }),
    'scripts/build-packages.mjs',
  );
  mkdirSync(into, { recursive: true });
  const tarballs = {} as Record<PackageDir, string>;
  for (const dir of PACKAGES) {
    const packed = succeeded(
      await run('pnpm', ['pack', '--pack-destination', into], { cwd: join(root, 'packages', dir) }),
      `pnpm pack ${dir}`,
    );
    const file = packed.stdout.trim().split('\n').at(-1)?.trim() ?? '';
    if (!file.endsWith('.tgz') || !existsSync(file))
      throw new Error(`pnpm pack ${dir}: no tarball in ${packed.stdout}`);
    tarballs[dir] = file;
  }
  return tarballs;
}

/** A project under test/packaging/projects: its npm dependencies and the Portcullis packages it installs. */
interface ProjectSpec {
  readonly portcullis: readonly PackageDir[];
  readonly commonjs?: boolean;
  readonly dependencies: Record<string, string>;
  readonly devDependencies: Record<string, string>;
}

/** Manifest versions of workspace dependencies, for pins (`better-sqlite3` uses the workspace's build). */
export function workspaceVersion(pkg: PackageDir, name: string): string {
  const manifest = JSON.parse(
    readFileSync(join(root, 'packages', pkg, 'node_modules', name, 'package.json'), 'utf8'),
  ) as { version: string };
  return manifest.version;
}

/**
 * Copies project `name` to `dir` and installs it with npm: the named Portcullis packages from the
 * tarballs (their own `@portcullis/*` dependencies too, through `overrides`), everything else from
 * the registry (or npm's cache). `extra` adds dependencies and overrides.
 */
export async function installProject(
  name: string,
  dir: string,
  tarballs: Record<PackageDir, string>,
  extra: { overrides?: Record<string, string>; npmArgs?: readonly string[] } = {},
): Promise<void> {
  const source = join(projects, name);
  const spec = JSON.parse(readFileSync(join(source, 'project.json'), 'utf8')) as ProjectSpec;
  mkdirSync(dir, { recursive: true });
  for (const entry of readdirSync(source)) {
    if (entry !== 'project.json') cpSync(join(source, entry), join(dir, entry), { recursive: true });
  }
  const local = Object.fromEntries(PACKAGES.map((p) => [`@portcullis/${p}`, `file:${tarballs[p]}`]));
  const manifest = {
    name: `portcullis-packaging-${name}`,
    version: '1.0.0',
    private: true,
    // `npm init -y` writes no "type": the project is CommonJS.
    ...(spec.commonjs ? { main: 'index.js' } : { type: 'module' }),
    dependencies: {
      ...Object.fromEntries(spec.portcullis.map((p) => [`@portcullis/${p}`, local[`@portcullis/${p}`]])),
      ...spec.dependencies,
    },
    devDependencies: spec.devDependencies,
    overrides: { ...local, ...extra.overrides },
  };
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  succeeded(
    await run(
      'npm',
      [
        'install',
        '--prefer-offline',
        '--no-audit',
        '--no-fund',
        '--loglevel=error',
        '--no-package-lock',
        ...(extra.npmArgs ?? []),
      ],
      { cwd: dir, timeoutMs: 240_000, env: { ...process.env, npm_config_update_notifier: 'false' } },
    ),
    `npm install (${name})`,
  );
}

/** Type-checks (and, unless the project says noEmit, compiles) a project with the workspace's tsc. */
export function typecheck(dir: string): Promise<Run> {
  return run(
    process.execPath,
    [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir, '--pretty', 'false'],
    {
      cwd: dir,
    },
  );
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/** The last line a project's program printed, parsed as JSON. */
export function lastJsonLine(output: string): unknown {
  const line = output.trim().split('\n').at(-1) ?? '';
  return JSON.parse(line);
}
