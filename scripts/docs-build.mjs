#!/usr/bin/env node
// `pnpm run docs`: builds the API reference of every published package into docs/api with TypeDoc. (Plain
// `pnpm docs` is not this script: pnpm hands `docs` to `npm docs`.)
// Entry points come from each package's `exports` (scripts/docs-entrypoints.mjs), so the build follows the
// packages as they change; options live in typedoc.json (warnings are errors).
//
//   pnpm run docs                  build docs/api; exits non-zero on any TypeDoc warning
//   pnpm run docs --undocumented   list exported declarations without TSDoc (report only, builds nothing)
//   pnpm run docs <typedoc options>   e.g. `--json api.json --out /tmp/api` (options override typedoc.json)
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { relativeEntryPoints, root } from './docs-entrypoints.mjs';

const require = createRequire(import.meta.url);
const typedocBin = join(dirname(require.resolve('typedoc/package.json')), 'bin', 'typedoc');
const undocumented = process.argv.includes('--undocumented');
// Any other argument goes to TypeDoc (e.g. `--json out.json`, `--out dir`).
const passThrough = process.argv.slice(2).filter((arg) => arg !== '--undocumented');

const args = [typedocBin, '--options', join(root, 'typedoc.json')];
for (const entry of relativeEntryPoints()) args.push('--entryPoints', entry);
args.push(...passThrough);
if (undocumented) {
  args.push('--validation.notDocumented', '--treatWarningsAsErrors', 'false', '--emit', 'none');
}

const run = spawnSync(process.execPath, args, {
  cwd: root,
  stdio: undocumented ? ['ignore', 'pipe', 'pipe'] : 'inherit',
  encoding: 'utf8',
  env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
});
if (run.error) throw run.error;

if (undocumented) {
  // One line per declaration: `Name (Kind) — file`, grouped by file.
  const plain = `${run.stdout ?? ''}\n${run.stderr ?? ''}`;
  const found = [
    ...plain.matchAll(/\[warning\] (\S+) \((\w+)\), defined in (\S+?),? does not have any documentation/g),
  ];
  const byFile = new Map();
  for (const [, name, kind, file] of found) {
    const list = byFile.get(file) ?? new Set();
    list.add(`${name.replace(/\.__type/g, '')} (${kind})`);
    byFile.set(file, list);
  }
  for (const [file, names] of [...byFile].sort()) {
    console.log(`${file}`);
    for (const name of names) console.log(`  ${name}`);
  }
  console.log(`${found.length} exported declarations without TSDoc in ${byFile.size} files`);
  // TypeDoc exits 4 when validation warned, which is the expected outcome of this report.
  process.exit(run.status === 0 || run.status === 4 ? 0 : (run.status ?? 1));
}
process.exit(run.status ?? 1);
