#!/usr/bin/env node
// Bundles the example Worker the way Wrangler would (ESM, minified, workerd conditions, function names
// kept unless wrangler.toml sets `keep_names = false`) and prints its raw and gzip sizes. `--json` prints {"raw":…,"gzip":…} for the bench. Inside the Portcullis
// repository `@portcullis/*` resolve to the workspace sources, so the numbers reflect the current code;
// in a copy of the example they resolve to the installed packages. esbuild is the example's own.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('../', import.meta.url));
const packages = fileURLToPath(new URL('../../../packages/', import.meta.url));
const inRepository =
  existsSync(`${packages}core/src/index.ts`) && existsSync(`${root}../../pnpm-workspace.yaml`);

// Wrangler keeps function names (esbuild `keepNames`) unless the configuration says `keep_names = false`.
const keepNames = !/^keep_names\s*=\s*false\b/m.test(readFileSync(`${root}wrangler.toml`, 'utf8'));

const result = await build({
  entryPoints: [`${root}src/index.ts`],
  bundle: true,
  format: 'esm',
  platform: 'neutral',
  target: 'es2022',
  conditions: ['workerd', 'worker', 'browser'],
  mainFields: ['module', 'main'],
  minify: true,
  keepNames,
  write: false,
  logLevel: 'warning',
  metafile: true,
  alias: inRepository
    ? {
        '@portcullis/core': `${packages}core/src`,
        '@portcullis/storage-kv': `${packages}storage-kv/src`,
        '@portcullis/adapter-workers': `${packages}adapter-workers/src`,
      }
    : {},
});

const code = result.outputFiles[0].contents;
const raw = code.byteLength;
const gzip = gzipSync(code, { level: 9 }).byteLength;

if (process.argv.includes('--json')) {
  console.log(JSON.stringify({ raw, gzip }));
} else {
  const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
  const from = inRepository ? 'workspace sources' : 'installed packages';
  console.log(
    `worker-pin-proxy bundle (${from}): ${raw} bytes raw (${kib(raw)}), ${gzip} bytes gzip (${kib(gzip)})`,
  );
  if (process.argv.includes('--inputs')) {
    const inputs = Object.entries(result.metafile.outputs)[0][1].inputs;
    const top = Object.entries(inputs)
      .map(([file, { bytesInOutput }]) => [
        file.replace(/^.*node_modules\/(\.pnpm\/[^/]+\/node_modules\/)?/, ''),
        bytesInOutput,
      ])
      .sort((a, b) => b[1] - a[1])
      .slice(0, Number(process.env.TOP ?? 15));
    for (const [file, bytes] of top) console.log(`  ${String(bytes).padStart(8)}  ${file}`);
  }
}
