/**
 * Third-party modules the benchmark servers use, imported from the workspace packages that depend on
 * them (pnpm does not hoist them to the root). The MCP SDK is the very copy `@portcullis/core` loads.
 */

export { default as express } from '../../packages/adapter-node/node_modules/express/index.js';
export { InvalidTokenError } from '../../packages/core/node_modules/@modelcontextprotocol/sdk/dist/esm/server/auth/errors.js';
export { requireBearerAuth } from '../../packages/core/node_modules/@modelcontextprotocol/sdk/dist/esm/server/auth/middleware/bearerAuth.js';
export { McpServer } from '../../packages/core/node_modules/@modelcontextprotocol/sdk/dist/esm/server/mcp.js';
export { AjvJsonSchemaValidator } from '../../packages/core/node_modules/@modelcontextprotocol/sdk/dist/esm/validation/ajv-provider.js';
