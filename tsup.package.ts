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

const matches = (names: readonly string[], path: string) =>
  names.some((name) => path === name || path.startsWith(`${name}/`));

/**
 * Keeps `bundleInCommonJs` and `commonJsTwins` external in the ESM build; in the CommonJS build the
 * former are bundled and the latter point at their CommonJS files. (tsup's own resolver, which runs
 * first, leaves them to this plugin because they are listed in `noExternal`.)
 */
function perFormat(bundled: readonly string[], twins: Readonly<Record<string, string>>): EsbuildPlugin {
  return {
    name: 'portcullis-per-format',
    setup(build) {
      // With splitting, tsup runs esbuild in ESM format for CommonJS too: tell them apart by extension.
      const commonJs = build.initialOptions.outExtension?.['.js'] === '.cjs';
      build.onResolve({ filter: /^[^./]/ }, (args) => {
        const twin = twins[args.path];
        if (twin !== undefined) return { path: commonJs ? twin : args.path, external: true };
        if (matches(bundled, args.path)) return commonJs ? undefined : { path: args.path, external: true };
        return undefined;
      });
    },
  };
}

/**
 * The build of every published package: `dist/*.js` + `.d.ts` for `import`, `dist/*.cjs` + `.d.cts`
 * for `require`, from one declaration pass. `dist/` is emptied once here (the bin's build runs beside
 * the main one). The package's build script then runs scripts/commonjs-types.mjs on the `.d.cts` files.
 */
export function packageBuild(build: PackageBuild) {
  rmSync('dist', { recursive: true, force: true });
  const bundled = build.bundleInCommonJs ?? [];
  const twins = build.commonJsTwins ?? {};
  const shared: Options = {
    splitting: true,
    sourcemap: true,
    clean: false,
    target: 'es2022',
    treeshake: true,
  };
  const configs: Options[] = [
    {
      ...shared,
      entry: build.entry,
      format: ['esm', 'cjs'],
      dts: true,
      noExternal: [...bundled, ...Object.keys(twins)],
      esbuildPlugins: [perFormat(bundled, twins)],
    },
  ];
  if (build.esmOnlyEntry) configs.push({ ...shared, entry: build.esmOnlyEntry, format: ['esm'] });
  return defineConfig(configs);
}
