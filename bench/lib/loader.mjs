/**
 * A module loader for the benchmark servers: `@portcullis/*` resolve to the workspace TypeScript sources,
 * which are compiled by esbuild the way the published packages are (ES2022, no `keepNames`). tsx would
 * wrap every closure it creates in a `__name` call, a per-request cost users of the built packages never
 * pay. Use: `node --import ./bench/lib/loader.mjs server.mjs`; file URLs stay the sources' own, so CPU
 * profiles name them.
 */
import { register } from 'node:module';

register('./loader-hooks.mjs', import.meta.url);
