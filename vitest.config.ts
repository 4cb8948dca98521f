import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (p: string) => fileURLToPath(new URL(`./packages/${p}`, import.meta.url));

/** Tests run against the TypeScript sources of the workspace packages, no build step needed. */
export default defineConfig({
  resolve: {
    alias: [
      { find: /^@portcullis\/core\/mcp$/, replacement: src('core/src/mcp/index.ts') },
      { find: /^@portcullis\/core\/upstreams$/, replacement: src('core/src/upstreams/index.ts') },
      { find: /^@portcullis\/core\/extensions$/, replacement: src('core/src/extensions/index.ts') },
      { find: /^@portcullis\/core\/testkit$/, replacement: src('core/src/testkit/index.ts') },
      { find: /^@portcullis\/core$/, replacement: src('core/src/index.ts') },
      { find: /^@portcullis\/storage-kv$/, replacement: src('storage-kv/src/index.ts') },
      { find: /^@portcullis\/storage-sql$/, replacement: src('storage-sql/src/index.ts') },
      { find: /^@portcullis\/adapter-node$/, replacement: src('adapter-node/src/index.ts') },
      { find: /^@portcullis\/adapter-workers$/, replacement: src('adapter-workers/src/index.ts') },
    ],
  },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'examples/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
