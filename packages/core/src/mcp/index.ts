/**
 * MCP integration: serve an MCP SDK server behind bearer auth, or proxy to an upstream MCP server.
 *
 * `protectMcpServer` needs an MCP SDK as optional peer: `@modelcontextprotocol/server` (v2) or
 * `@modelcontextprotocol/sdk` (v1), whichever your server comes from; the proxy needs neither.
 * @module
 */

export type { McpAuthInfo, PortcullisAuthExtra } from './auth-info.js';
export { toAuthInfo } from './auth-info.js';
export type {
  CredentialFunction,
  CredentialRefusal,
  CredentialResult,
  IdentityHeaderOptions,
  SignedIdentityOptions,
  UpstreamCredentials,
} from './credentials.js';
export {
  customCredentials,
  identityHeaders,
  signedIdentity,
  staticToken,
  upstreamIdpToken,
} from './credentials.js';
export type { ScopeRequirements } from './jsonrpc.js';
export type { LegacySse, LegacySseOptions } from './legacy-sse.js';
export { legacySse } from './legacy-sse.js';
export type { McpServerLike, McpSessionOptions, ProtectMcpServerOptions } from './protect.js';
export { protectMcpServer } from './protect.js';
export type { McpProxyOptions } from './proxy.js';
export { mcpProxy } from './proxy.js';
export type { UpstreamExchange, UpstreamTransport } from './upstream-hop.js';
