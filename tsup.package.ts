import { rmSync } from 'node:fs';
import { defineConfig, type Options } from 'tsup';

type EsbuildPlugin = NonNullable<Options['esbuildPlugins']>[number];

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
  /** Deep imports whose file is ESM, mapped to their CommonJS twin for the CommonJS build. */
  readonly commonJsTwins?: Readonly<Record<string, string>>;
}

/** Rewrites the deep imports of `twins` to their CommonJS files, left external. */
function commonJsTwins(twins: Readonly<Record<string, string>>): EsbuildPlugin {
  return {
    name: 'commonjs-twins',
    setup(build) {
      build.onResolve({ filter: /./ }, (args) => {
        const twin = twins[args.path];
        return twin === undefined ? undefined : { path: twin, external: true };
      });
    },
  };
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
 * for `require`. `dist/` is emptied once here, since the two builds run side by side. The package's
 * build script then runs scripts/commonjs-types.mjs on the `.d.cts` files.
 */
export function packageBuild(build: PackageBuild) {
  rmSync('dist', { recursive: true, force: true });
  const bundled = build.bundleInCommonJs ?? [];
  const twins = build.commonJsTwins ?? {};
  // tsup's own resolver keeps dependencies external before a plugin sees them, unless noExternal.
  const commonJs: Options = {
    ...shared,
    entry: build.entry,
    format: ['cjs'],
    noExternal: [...bundled, ...Object.keys(twins)],
    esbuildPlugins: [commonJsTwins(twins)],
  };
  const configs: Options[] =
    bundled.length + Object.keys(twins).length > 0
      ? [{ ...shared, entry: build.entry, format: ['esm'] }, commonJs]
      : [{ ...shared, entry: build.entry, format: ['esm', 'cjs'] }];
  if (build.esmOnlyEntry) configs.push({ ...shared, entry: build.esmOnlyEntry, format: ['esm'], dts: false });
  return defineConfig(configs);
}
