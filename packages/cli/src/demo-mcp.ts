import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';

/** Options of {@link createDemoMcpServer}. */
export interface DemoMcpServerOptions {
  /** Clock in epoch milliseconds, for the `time` tool. Default `Date.now`. */
  readonly now?: () => number;
}

/**
 * The built-in demo MCP server of the `portcullis` CLI: tools `echo`, `whoami` (the authenticated
 * caller, from `extra.authInfo`) and `time`. Serve it with `protectMcpServer` from `@portcullis/core/mcp`.
 *
 * @example
 * ```ts
 * const mcp = protectMcpServer({ authenticator: as, server: () => createDemoMcpServer() });
 * ```
 */
export function createDemoMcpServer(options: DemoMcpServerOptions = {}): McpServer {
  const now = options.now ?? Date.now;
  const server = new McpServer({ name: 'portcullis-demo', version: '0.1.0' });
  server.registerTool(
    'echo',
    {
      title: 'Echo',
      description: 'Returns the text it is given.',
      inputSchema: { text: z.string().max(10_000).describe('Text to echo back') },
    },
    async ({ text }) => ({ content: [{ type: 'text', text }] }),
  );
  server.registerTool(
    'whoami',
    { title: 'Who am I', description: 'Returns the identity the gateway authenticated for this call.' },
    async (extra) => {
      const auth = extra.authInfo;
      const details = (auth?.extra ?? {}) as { userId?: unknown; email?: unknown; name?: unknown };
      // Never echo the token itself back.
      const identity = {
        userId: details.userId ?? null,
        email: details.email ?? null,
        name: details.name ?? null,
        clientId: auth?.clientId ?? null,
        scopes: auth?.scopes ?? [],
        resource: auth?.resource?.href ?? null,
        expiresAt: auth?.expiresAt ?? null,
      };
      return {
        content: [{ type: 'text', text: JSON.stringify(identity) }],
        structuredContent: identity,
      };
    },
  );
  server.registerTool(
    'time',
    { title: 'Time', description: 'Returns the current server time (ISO 8601, UTC).' },
    async () => {
      const iso = new Date(now()).toISOString();
      return { content: [{ type: 'text', text: iso }] };
    },
  );
  return server;
}
