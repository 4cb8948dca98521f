/**
 * Libraries the corpus harness needs that live in the packages rather than at the root (the root test
 * folders have no package.json): zod (a dependency of packages/cli) validates corpus entries, jose (of
 * packages/core) makes the real key pair and the signed client assertions of `private_key_jwt` clients.
 * One place to change if they move.
 */
import type * as Jose from '../../packages/core/node_modules/jose/dist/types/index.js';

export * as z from '../../packages/cli/node_modules/zod/index.js';

// jose ships its types apart from its code, so the code is imported by path and typed by its declarations.
const josePath = new URL('../../packages/core/node_modules/jose/dist/webapi/index.js', import.meta.url).href;
export const jose = (await import(/* @vite-ignore */ josePath)) as typeof Jose;
