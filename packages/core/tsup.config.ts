import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    'mcp/index': 'src/mcp/index.ts',
    'upstreams/index': 'src/upstreams/index.ts',
    'extensions/index': 'src/extensions/index.ts',
    'testkit/index': 'src/testkit/index.ts',
  },
  format: ['esm'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
  treeshake: true,
});
