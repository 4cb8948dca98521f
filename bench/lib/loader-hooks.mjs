/** The resolve and load hooks of `loader.mjs` (they run on Node's loader thread). */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { transform } from 'esbuild';

const root = new URL('../../', import.meta.url);
// `@portcullis/<package>[/<entry>]` → packages/<package>/src[/<entry>]/index.ts
const WORKSPACE = /^@portcullis\/([a-z-]+)(?:\/([a-z-]+))?$/;

/** Module resolution hook: workspace packages to their sources, `./x.js` to `./x.ts` beside it. */
export async function resolve(specifier, context, next) {
  const own = WORKSPACE.exec(specifier);
  if (own) {
    const entry = own[2] ? `${own[2]}/index.ts` : 'index.ts';
    return { url: new URL(`packages/${own[1]}/src/${entry}`, root).href, shortCircuit: true };
  }
  if (specifier.endsWith('.js') && context.parentURL?.endsWith('.ts')) {
    const ts = new URL(specifier.replace(/\.js$/, '.ts'), context.parentURL);
    if (existsSync(fileURLToPath(ts))) return { url: ts.href, shortCircuit: true };
  }
  return next(specifier, context);
}

/** Module load hook: TypeScript sources compiled by esbuild (type-only imports erased). */
export async function load(url, context, next) {
  if (!url.endsWith('.ts')) return next(url, context);
  const source = await readFile(new URL(url), 'utf8');
  const { code } = await transform(source, {
    loader: 'ts',
    format: 'esm',
    target: 'node20',
    sourcefile: fileURLToPath(url),
    tsconfigRaw: { compilerOptions: { verbatimModuleSyntax: true } },
  });
  return { format: 'module', source: code, shortCircuit: true };
}
