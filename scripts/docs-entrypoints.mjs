// The public entry points of every published package, read from the `exports` of its package.json:
// `./dist/<name>.js` is built from `./src/<name>.ts`. Used by `pnpm run docs` (TypeDoc entry points and module
// names) and by test/docs, so a new export needs no docs config change.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const root = fileURLToPath(new URL('..', import.meta.url));

/** Published packages: `packages/*` whose package.json is not private. */
export function publishedPackages() {
  const dir = join(root, 'packages');
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(dir, entry.name, 'package.json')))
    .map((entry) => {
      const path = join(dir, entry.name);
      const manifest = JSON.parse(readFileSync(join(path, 'package.json'), 'utf8'));
      return { dir: entry.name, path, manifest };
    })
    .filter((pkg) => pkg.manifest.private !== true)
    .sort((a, b) => (a.dir === 'core' ? -1 : b.dir === 'core' ? 1 : a.dir.localeCompare(b.dir)));
}

/** Maps a built file of the exports map to its TypeScript source. */
function sourceOf(pkgPath, target) {
  const match = /^\.\/dist\/(.+)\.(?:m?js|d\.ts)$/.exec(target);
  if (!match) return null;
  const source = join(pkgPath, 'src', `${match[1]}.ts`);
  return existsSync(source) ? source : null;
}

/** The file an `import` of an exports-map entry loads (conditions may nest: `{import: {types, default}}`). */
function importTarget(value) {
  if (typeof value === 'string' || !value) return value;
  return importTarget(value.import) ?? importTarget(value.default) ?? importTarget(value.types);
}

/**
 * Every export of every published package: `{ specifier, packageName, source }` where `specifier` is
 * what users import (`@portcullis/core/mcp`) and `source` the absolute path of its TypeScript entry.
 * Throws when an export does not map to a source file, so the docs never silently skip one.
 */
export function entryPoints() {
  const result = [];
  for (const pkg of publishedPackages()) {
    const exportsMap = pkg.manifest.exports ?? { '.': pkg.manifest.main };
    for (const [key, value] of Object.entries(exportsMap)) {
      if (key.includes('*') || key === './package.json') continue;
      const target = importTarget(value);
      const source = typeof target === 'string' ? sourceOf(pkg.path, target) : null;
      if (!source) {
        throw new Error(
          `${pkg.manifest.name}: export "${key}" (${JSON.stringify(value)}) does not map to a src/*.ts file`,
        );
      }
      const specifier = key === '.' ? pkg.manifest.name : `${pkg.manifest.name}/${key.slice(2)}`;
      result.push({ specifier, packageName: pkg.manifest.name, source });
    }
  }
  return result;
}

/** Entry points relative to the repository root (POSIX separators), as TypeDoc's config lists them. */
export function relativeEntryPoints() {
  return entryPoints().map((entry) => relative(root, entry.source).split('\\').join('/'));
}
