import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { root } from './markdown.js';

/**
 * Programs the guides name that are not part of this repository (installed by the reader, or fetched
 * by `npx name@version`). Anything else a shell block runs must exist here.
 */
export const EXTERNAL_PROGRAMS = new Set(['claude', 'curl', 'openssl', 'cloudflared', 'code']);

interface Manifest {
  readonly name?: string;
  readonly scripts?: Record<string, string>;
  readonly bin?: string | Record<string, string>;
}

const readManifest = (dir: string): Manifest =>
  JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest;

/** The root manifest and every workspace package's, by package name. */
export function workspaceManifests(): Map<string, Manifest> {
  const result = new Map<string, Manifest>();
  for (const group of ['packages', 'examples']) {
    const dir = join(root, group);
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir)) {
      if (!existsSync(join(dir, name, 'package.json'))) continue;
      const manifest = readManifest(join(dir, name));
      if (manifest.name) result.set(manifest.name, manifest);
    }
  }
  return result;
}

/** Executables `npx` finds without downloading: the root's and every workspace package's `.bin`. */
function localBins(): Set<string> {
  const bins = new Set<string>();
  const dirs = [join(root, 'node_modules', '.bin')];
  for (const group of ['packages', 'examples']) {
    const dir = join(root, group);
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir)) dirs.push(join(dir, name, 'node_modules', '.bin'));
  }
  for (const dir of dirs) if (existsSync(dir)) for (const bin of readdirSync(dir)) bins.add(bin);
  for (const manifest of workspaceManifests().values()) {
    if (typeof manifest.bin === 'object') for (const bin of Object.keys(manifest.bin)) bins.add(bin);
  }
  return bins;
}

/** The simple commands of a shell block: comments dropped, lines joined, split on `&&`, `||`, `;`, `|`. */
export function commandsOf(code: string): string[][] {
  const joined = code
    .split('\n')
    .map((line) => line.replace(/(^|\s)#.*$/, ''))
    .join('\n')
    .replace(/\\\n/g, ' ');
  return joined
    .split(/&&|\|\||;|\||\n/)
    .map((part) =>
      part
        .trim()
        .split(/\s+/)
        .filter((word) => word.length > 0),
    )
    .map((words) => {
      // Leading `NAME=value` assignments are environment for the command.
      let i = 0;
      while (i < words.length && /^[A-Z_][A-Z0-9_]*=/.test(words[i] ?? '')) i++;
      return words.slice(i);
    })
    .filter((words) => words.length > 0);
}

const PNPM_BUILTINS = new Set(['install', 'i', 'add', 'exec', 'dlx', 'build', 'test', 'run']);

/** Commands pnpm hands to npm even when a script has the same name: `pnpm docs` runs `npm docs`. */
const NPM_PASSTHROUGH = new Set([
  'access',
  'adduser',
  'bugs',
  'deprecate',
  'dist-tag',
  'docs',
  'edit',
  'info',
  'login',
  'logout',
  'owner',
  'ping',
  'prefix',
  'profile',
  'repo',
  'search',
  'star',
  'team',
  'token',
  'unpublish',
  'version',
  'view',
  'whoami',
]);

/**
 * Why a command cannot work in this repository, or `null` when it can: `pnpm <script>` needs a root
 * script, `pnpm --filter <name> <script>` that package's script, `npx <bin>` a local binary (or an
 * explicit `name@version`), `node <file>` the file, `cd <dir>` the directory.
 */
export function commandProblem(words: readonly string[], cwd = root): string | null {
  const [program, ...args] = words;
  const manifests = workspaceManifests();
  const rootManifest = readManifest(root);
  switch (program) {
    case 'pnpm': {
      let filter: string | undefined;
      const rest = [...args];
      while (rest[0]?.startsWith('-')) {
        const flag = rest.shift();
        if (flag === '--filter' || flag === '-F') filter = rest.shift();
      }
      const [command, script] = rest;
      if (command === undefined) return 'pnpm without a command';
      if (filter) {
        const manifest = manifests.get(filter);
        if (!manifest) return `no workspace package named ${filter}`;
        const name = command === 'run' ? script : command;
        return name && manifest.scripts?.[name] !== undefined ? null : `${filter} has no "${name}" script`;
      }
      if (command === 'run') {
        return script && rootManifest.scripts?.[script] !== undefined ? null : `no root script "${script}"`;
      }
      if (NPM_PASSTHROUGH.has(command)) return `pnpm hands "${command}" to npm; write pnpm run ${command}`;
      if (rootManifest.scripts?.[command] !== undefined) return null;
      if (PNPM_BUILTINS.has(command) && command !== 'build' && command !== 'test') return null;
      return `no root script "${command}"`;
    }
    case 'npm':
      return args[0] === 'install' || args[0] === 'i' ? null : `unexpected npm command "${args[0]}"`;
    case 'npx': {
      const bin = args.find((a) => !a.startsWith('-'));
      if (!bin) return 'npx without a program';
      if (/^(@[^/]+\/)?[^@]+@[^@]+$/.test(bin)) return null; // name@version: fetched by npx
      return localBins().has(bin) ? null : `npx ${bin}: no such binary in the workspace`;
    }
    case 'node': {
      const file = args.find((a) => !a.startsWith('-'));
      if (args[0] === '-e' || args[0] === '--eval') return null;
      return file && existsSync(join(cwd, file)) ? null : `node ${file}: no such file`;
    }
    case 'cd':
      return args[0] && existsSync(join(cwd, args[0])) ? null : `cd ${args[0]}: no such directory`;
    default:
      return program && EXTERNAL_PROGRAMS.has(program) ? null : `unknown program "${program}"`;
  }
}
