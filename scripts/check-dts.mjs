#!/usr/bin/env node
// Checks the built declaration files of every published package (or of the package folders given as
// arguments, e.g. unpacked tarballs): each entry point's .d.ts/.d.cts, with the chunks it reaches, may
// import only the package's own dependencies. An optional peer never reaches a public type, except
// where OPTIONAL_PEER_ENTRIES allows it for one entry that only its users import; Node's types only
// where NODE_TYPES lists the package, so Worker-only installs need no @types/node.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Packages whose public types may use Node's (`node:http` request and response types). */
const NODE_TYPES = new Set(['@portcullis/adapter-node', '@portcullis/cli']);

/** Optional peers allowed in one entry point: package → peer → export keys that may import it. */
const OPTIONAL_PEER_ENTRIES = {
  '@portcullis/core': { '@modelcontextprotocol/sdk': ['./mcp'] },
};

/** The package a bare specifier names (`@scope/name/sub` → `@scope/name`). */
const packageOf = (specifier) =>
  specifier
    .split('/')
    .slice(0, specifier.startsWith('@') ? 2 : 1)
    .join('/');

/** Module specifiers of a declaration file, comments (and the examples in them) left out. */
function specifiersOf(text) {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const found = new Set();
  for (const match of code.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"]([^'"]+)['"]/gm)) {
    found.add(match[1]);
  }
  return [...found];
}

/** The declaration files an exports-map entry's `types` conditions name. */
function typesFiles(value) {
  if (typeof value === 'string') return /\.d\.c?ts$/.test(value) ? [value] : [];
  if (!value || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([condition, inner]) =>
    condition === 'types' && typeof inner === 'string' ? [inner] : typesFiles(inner),
  );
}

/** Every problem of one package folder (with `dist/` built), as readable sentences. */
export function declarationProblems(packageDir) {
  const manifest = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8'));
  const name = manifest.name;
  const dependencies = new Set([name, ...Object.keys(manifest.dependencies ?? {})]);
  const optionalPeers = new Set(
    Object.entries(manifest.peerDependenciesMeta ?? {})
      .filter(([, meta]) => meta?.optional)
      .map(([peer]) => peer),
  );
  const problems = [];
  const entries = Object.entries(manifest.exports ?? {}).filter(([key]) => key !== './package.json');
  for (const [key, value] of entries) {
    const files = typesFiles(value);
    if (files.length === 0) problems.push(`${name}: export "${key}" has no types`);
    for (const file of files) {
      const seen = new Set();
      const queue = [resolve(packageDir, file)];
      while (queue.length > 0) {
        const path = queue.shift();
        if (seen.has(path)) continue;
        seen.add(path);
        if (!existsSync(path)) {
          problems.push(`${name}: ${key} needs ${path.slice(packageDir.length + 1)}, which is missing`);
          continue;
        }
        const where = `${name} ${path.slice(packageDir.length + 1)} (export "${key}")`;
        for (const specifier of specifiersOf(readFileSync(path, 'utf8'))) {
          if (specifier.startsWith('.')) {
            // `./chunk.js` in a .d.ts is `./chunk.d.ts`; `./chunk.cjs` in a .d.cts is `./chunk.d.cts`.
            const target = resolve(dirname(path), specifier).replace(/\.(c?)js$/, '.d.$1ts');
            queue.push(target);
            continue;
          }
          if (specifier.startsWith('node:')) {
            if (!NODE_TYPES.has(name)) problems.push(`${where} imports ${specifier} (Node types)`);
            continue;
          }
          const dependency = packageOf(specifier);
          if (dependencies.has(dependency)) continue;
          const allowedIn = OPTIONAL_PEER_ENTRIES[name]?.[dependency] ?? [];
          if (optionalPeers.has(dependency) && allowedIn.includes(key)) continue;
          problems.push(
            `${where} imports ${specifier}, ${
              optionalPeers.has(dependency) ? 'an optional peer' : 'which is not a dependency'
            }`,
          );
        }
      }
    }
  }
  return problems;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { publishedPackages } = await import('./docs-entrypoints.mjs');
  const dirs = process.argv.length > 2 ? process.argv.slice(2) : publishedPackages().map((pkg) => pkg.path);
  const problems = dirs.flatMap((dir) => declarationProblems(resolve(root, dir)));
  for (const problem of problems) console.error(problem);
  if (problems.length > 0) process.exit(1);
  console.log(`check-dts: ${dirs.length} packages, no optional peer or undeclared import in their types`);
}
