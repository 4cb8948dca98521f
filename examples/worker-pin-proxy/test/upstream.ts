import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';

/** What the upstream saw of one request. */
export interface SeenRequest {
  readonly method: string;
  readonly authorization: string | undefined;
  readonly headers: IncomingMessage['headers'];
}

/** A PAT-only upstream MCP server: an SDK `McpServer` on node:http that requires one static token. */
export interface Upstream {
  readonly url: string;
  readonly seen: SeenRequest[];
  close(): Promise<void>;
}

function mcpServer(): McpServer {
  const server = new McpServer({ name: 'pat-upstream', version: '1.0.0' });
  server.registerTool('list_repos', { description: 'Lists the private repositories' }, async () => ({
    content: [{ type: 'text', text: 'portcullis, secret-project' }],
  }));
  return server;
}

/** Starts the upstream on 127.0.0.1 with Streamable HTTP sessions. */
export async function startUpstream(token: string): Promise<Upstream> {
  const seen: SeenRequest[] = [];
  const sessions = new Map<string, StreamableHTTPServerTransport>();
  const server: Server = createServer(async (req, res) => {
    seen.push({ method: req.method ?? '', authorization: req.headers.authorization, headers: req.headers });
    if (req.headers.authorization !== `Bearer ${token}`) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"bad token"}');
      return;
    }
    const id = req.headers['mcp-session-id'];
    let transport = typeof id === 'string' ? sessions.get(id) : undefined;
    if (typeof id === 'string' && !transport) {
      res.writeHead(404).end();
      return;
    }
    if (!transport) {
      const created = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => crypto.randomUUID(),
        onsessioninitialized: (sid) => void sessions.set(sid, created),
      });
      await mcpServer().connect(created);
      transport = created;
    }
    await transport.handleRequest(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    seen,
    close: () =>
      new Promise((resolve) => {
        for (const t of sessions.values()) void t.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
