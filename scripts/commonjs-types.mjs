#!/usr/bin/env node
// Run after tsup in a package folder: in its CommonJS declarations (dist/**/*.d.cts), an import of a
// package published as ESM only (jose, oauth4webapi) becomes a type-only import with
// `resolution-mode: import`. Without it TypeScript refuses a CommonJS file's import of ESM declarations
// (TS1479) under `module: node16`; the CommonJS build carries those packages' code itself.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const packageDir = process.cwd();
const requireHere = createRequire(join(packageDir, 'package.json'));

/** Whether a dependency can only be imported: `"type": "module"` and no `require` condition. */
function esmOnly(name, cache) {
  if (!cache.has(name)) {
    let manifest;
    try {
      manifest = JSON.parse(readFileSync(requireHere.resolve(`${name}/package.json`), 'utf8'));
    } catch {
      // no ./package.json export: read it from the package's folder
      const main = requireHere.resolve
        .paths(name)
        ?.map((dir) => join(dir, name, 'package.json'))
        .find(existsSync);
      manifest = main ? JSON.parse(readFileSync(main, 'utf8')) : {};
    }
    const exportsText = JSON.stringify(manifest.exports ?? {});
    cache.set(name, manifest.type === 'module' && !exportsText.includes('"require"'));
  }
  return cache.get(name);
}

const packageOf = (specifier) =>
  specifier
    .split('/')
    .slice(0, specifier.startsWith('@') ? 2 : 1)
    .join('/');

function declarations(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return declarations(path);
    return entry.name.endsWith('.d.cts') ? [path] : [];
  });
}

const cache = new Map();
let rewritten = 0;
for (const file of declarations(join(packageDir, 'dist'))) {
  const text = readFileSync(file, 'utf8');
  const next = text.replace(
    /^(import|export)( type)? ([^;'"]+?) from '([^'.][^']*)';$/gm,
    (line, keyword, _type, clause, specifier) => {
      if (!esmOnly(packageOf(specifier), cache)) return line;
      rewritten += 1;
      return `${keyword} type ${clause} from '${specifier}' with { 'resolution-mode': 'import' };`;
    },
  );
  if (next !== text) writeFileSync(file, next);
}
console.log(`commonjs-types: ${rewritten} import(s) of ESM-only packages marked resolution-mode import`);
