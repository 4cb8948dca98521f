import { rmSync } from 'node:fs';
import { defineConfig, type Options } from 'tsup';

/** What one package builds: its entry points, and which ESM-only dependencies its CommonJS build bundles. */
export interface PackageBuild {
  /** Entry name (`index`, `mcp/index`) → source file; each becomes `dist/<name>.js` and `dist/<name>.cjs`. */
  readonly entry: Record<string, string>;
  /** Entries built as ESM only, without declarations (the CLI's bin). */
  readonly esmOnlyEntry?: Record<string, string>;
  /**
   * Dependencies published as ESM only (jose, oauth4webapi): the CommonJS build carries them, so
   * `require()` works on Node 20 releases without `require(esm)` (before 20.19).
   */
  readonly bundleInCommonJs?: readonly string[];
}

const shared: Options = {
  splitting: true,
  sourcemap: true,
  clean: false,
  target: 'es2022',
  treeshake: true,
  dts: true,
};

/**
 * The build of every published package: `dist/*.js` + `.d.ts` for `import`, `dist/*.cjs` + `.d.cts`
 * for `require`. `dist/` is emptied once here, since the two builds run side by side.
 */
export function packageBuild(build: PackageBuild) {
  rmSync('dist', { recursive: true, force: true });
  const bundled = build.bundleInCommonJs ?? [];
  const configs: Options[] = bundled.length
    ? [
        { ...shared, entry: build.entry, format: ['esm'] },
        { ...shared, entry: build.entry, format: ['cjs'], noExternal: [...bundled] },
      ]
    : [{ ...shared, entry: build.entry, format: ['esm', 'cjs'] }];
  if (build.esmOnlyEntry) configs.push({ ...shared, entry: build.esmOnlyEntry, format: ['esm'], dts: false });
  return defineConfig(configs);
}
