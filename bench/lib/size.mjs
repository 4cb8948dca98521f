/**
 * Scenario (6): the size of the example Worker as Wrangler would upload it — bundled with esbuild,
 * minified, ESM, `@portcullis/*` resolved to the TypeScript sources — and its gzip size.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = fileURLToPath(new URL('../..', import.meta.url));
const example = `${root}examples/worker-pin-proxy/`;

const SOURCES = {
  '@portcullis/core': 'packages/core/src/index.ts',
  '@portcullis/core/mcp': 'packages/core/src/mcp/index.ts',
  '@portcullis/core/upstreams': 'packages/core/src/upstreams/index.ts',
  '@portcullis/storage-kv': 'packages/storage-kv/src/index.ts',
  '@portcullis/storage-sql': 'packages/storage-sql/src/index.ts',
  '@portcullis/adapter-workers': 'packages/adapter-workers/src/index.ts',
};

/** esbuild from the example's own devDependencies, else the copy tsx ships with. */
async function loadEsbuild() {
  for (const from of [`${example}package.json`, fileURLToPath(import.meta.resolve('tsx'))]) {
    try {
      return await import(createRequire(from).resolve('esbuild'));
    } catch {
      // try the next location
    }
  }
  throw new Error('esbuild is not installed (run pnpm install)');
}

/** Resolves `{ entry, bytes, gzipBytes }`, or `null` when the example has no Worker entry yet. */
export async function workerBundleSize() {
  const entry = `${example}src/index.ts`;
  if (!existsSync(entry)) return null;
  const esbuild = await loadEsbuild();
  const portcullisSources = {
    name: 'portcullis-sources',
    setup(build) {
      build.onResolve({ filter: /^@portcullis\// }, (args) => {
        const target = SOURCES[args.path];
        if (!target) return { errors: [{ text: `no source mapping for ${args.path}` }] };
        return { path: `${root}${target}` };
      });
    },
  };
  const result = await esbuild.build({
    entryPoints: [entry],
    absWorkingDir: example,
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    mainFields: ['module', 'main'],
    conditions: ['workerd', 'worker', 'browser', 'import'],
    external: ['cloudflare:*', 'node:*'],
    plugins: [portcullisSources],
    write: false,
    logLevel: 'silent',
  });
  const code = result.outputFiles[0].contents;
  return {
    entry: 'examples/worker-pin-proxy/src/index.ts',
    bytes: code.byteLength,
    gzipBytes: gzipSync(code).byteLength,
  };
}
