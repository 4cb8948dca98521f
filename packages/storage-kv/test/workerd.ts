import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const packages = fileURLToPath(new URL('../../', import.meta.url));

/** Bundles a Worker entry for workerd, resolving `@portcullis/*` to the workspace TypeScript sources. */
export async function bundleWorker(entry: string): Promise<string> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    conditions: ['workerd', 'worker', 'browser'],
    mainFields: ['module', 'main'],
    write: false,
    logLevel: 'silent',
    alias: {
      '@portcullis/core': `${packages}core/src`,
      '@portcullis/storage-kv': `${packages}storage-kv/src`,
    },
  });
  const file = result.outputFiles[0];
  if (!file) throw new Error(`esbuild produced no output for ${entry}`);
  return file.text;
}
