/** Types of docs-entrypoints.mjs, for the tests in test/docs. */

/** The repository root (absolute, with a trailing separator). */
export declare const root: string;

/** A published package of the workspace. */
export interface PublishedPackage {
  /** Directory name under packages/. */
  readonly dir: string;
  /** Absolute path of the package. */
  readonly path: string;
  readonly manifest: { readonly name: string; readonly exports?: Record<string, unknown> } & Record<
    string,
    unknown
  >;
}

/** An import path users write and the TypeScript file it is built from. */
export interface EntryPoint {
  readonly specifier: string;
  readonly packageName: string;
  readonly source: string;
}

export declare function publishedPackages(): PublishedPackage[];
export declare function entryPoints(): EntryPoint[];
export declare function relativeEntryPoints(): string[];
