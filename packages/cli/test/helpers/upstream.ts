import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import { toNodeListener } from '@portcullis/adapter-node';

/** A local, unauthenticated upstream MCP server that records the headers of every request it gets. */
export async function startUpstreamMcp(): Promise<{ url: string; seen: Headers[]; close(): Promise<void> }> {
  const seen: Headers[] = [];
  const server = createServer(
    toNodeListener(async (request) => {
      seen.push(new Headers(request.headers));
      const mcp = new McpServer({ name: 'upstream', version: '1.0.0' });
      mcp.registerTool('upstream_user', { description: 'The user the proxy said' }, async (extra) => ({
        content: [{ type: 'text', text: String(extra.requestInfo?.headers['x-forwarded-user'] ?? '') }],
      }));
      const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined });
      await mcp.connect(transport);
      return transport.handleRequest(request);
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`,
    seen,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
