/**
 * Third-party test dependencies that live in a workspace package rather than at the root (the root
 * test folders have no package.json of their own): playwright-core and the MCP SDK are devDependencies
 * of packages/cli, so they are loaded from there. One place to change if they move to the root.
 */
import { createRequire } from 'node:module';

const fromCliPackage = createRequire(new URL('../../packages/cli/package.json', import.meta.url));

type Playwright = typeof import('../../packages/cli/node_modules/playwright-core/index.js');

/** playwright-core (CommonJS), resolved from packages/cli. */
export const playwright = fromCliPackage('playwright-core') as Playwright;

export type {
  Browser as PlaywrightBrowser,
  BrowserContext,
  Page,
} from '../../packages/cli/node_modules/playwright-core/index.js';

/** The Debian chromium the browser tests drive, and the flags they use. */
export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
];

// The official MCP SDK (ESM build), from the same installation packages/core's MCP entry uses.
export {
  auth,
  discoverAuthorizationServerMetadata,
  discoverOAuthProtectedResourceMetadata,
  type OAuthClientProvider,
  UnauthorizedError,
} from '../../packages/cli/node_modules/@modelcontextprotocol/sdk/dist/esm/client/auth.js';
export { Client } from '../../packages/cli/node_modules/@modelcontextprotocol/sdk/dist/esm/client/index.js';
export { StdioClientTransport } from '../../packages/cli/node_modules/@modelcontextprotocol/sdk/dist/esm/client/stdio.js';
export { StreamableHTTPClientTransport } from '../../packages/cli/node_modules/@modelcontextprotocol/sdk/dist/esm/client/streamableHttp.js';
export { McpServer } from '../../packages/cli/node_modules/@modelcontextprotocol/sdk/dist/esm/server/mcp.js';
export type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthTokens,
} from '../../packages/cli/node_modules/@modelcontextprotocol/sdk/dist/esm/shared/auth.js';

/** Path of the mcp-remote CLI (a devDependency of packages/adapter-node). */
export const MCP_REMOTE = fromCliPackage.resolve('mcp-remote/dist/proxy.js');

const fromAdapterWorkers = createRequire(
  new URL('../../packages/adapter-workers/package.json', import.meta.url),
);
type MiniflareModule =
  typeof import('../../packages/adapter-workers/node_modules/miniflare/dist/src/index.js');

/** Miniflare (real workerd), a devDependency of packages/adapter-workers, resolved from there. */
export const Miniflare: MiniflareModule['Miniflare'] = (fromAdapterWorkers('miniflare') as MiniflareModule)
  .Miniflare;

// Store clients, from the storage packages that depend on them (for test set-up and clean-up only).
const fromStorageKv = createRequire(new URL('../../packages/storage-kv/package.json', import.meta.url));
const fromStorageSql = createRequire(new URL('../../packages/storage-sql/package.json', import.meta.url));

/** ioredis (CommonJS), resolved from packages/storage-kv. */
export const ioredis = fromStorageKv(
  'ioredis',
) as typeof import('../../packages/storage-kv/node_modules/ioredis/built/index.js');
/** pg (CommonJS), resolved from packages/storage-sql. */
export const pg = fromStorageSql(
  'pg',
) as typeof import('../../packages/storage-sql/node_modules/@types/pg/index.js');
