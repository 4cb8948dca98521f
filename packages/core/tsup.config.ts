import { packageBuild } from '../../tsup.package.js';

export default packageBuild({
  entry: {
    index: 'src/index.ts',
    'mcp/index': 'src/mcp/index.ts',
    'upstreams/index': 'src/upstreams/index.ts',
    'extensions/index': 'src/extensions/index.ts',
    'testkit/index': 'src/testkit/index.ts',
  },
  bundleInCommonJs: ['jose', 'oauth4webapi'],
});
