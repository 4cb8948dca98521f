#!/usr/bin/env node
// `pnpm build`, unless every published package's dist/ is newer than its sources, manifest and build
// configuration (then there is nothing to rebuild). Used by `pnpm check:packages` and the tarball test,
// so CI builds once.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { publishedPackages } from './docs-entrypoints.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));

function newest(path) {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(stat.mtimeMs, ...readdirSync(path).map((name) => newest(join(path, name))));
}

/** The published packages (folder names) whose dist/ is missing or older than what builds it. */
export function stalePackages() {
  const shared = [join(root, 'tsup.package.ts'), join(root, 'scripts', 'commonjs-types.mjs')].map(newest);
  return publishedPackages()
    .filter((pkg) => {
      const built = join(pkg.path, 'dist', 'index.d.cts');
      if (!existsSync(built)) return true;
      const inputs = ['src', 'package.json', 'tsup.config.ts'].map((name) => newest(join(pkg.path, name)));
      return Math.max(...inputs, ...shared) > statSync(built).mtimeMs;
    })
    .map((pkg) => pkg.dir);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const stale = stalePackages();
  if (stale.length === 0) {
    console.log('build-packages: every dist/ is up to date');
  } else {
    console.log(`build-packages: building (stale: ${stale.join(', ')})`);
    const result = spawnSync('pnpm', ['build'], { cwd: root, stdio: 'inherit' });
    process.exit(result.status ?? 1);
  }
}
