/**
 * The Portcullis a corpus client talks to: the live node:http server of the conformance suites (PIN
 * upstream, MemoryStorage) with a protected MCP endpoint that needs the `mcp` scope, and an injected
 * document fetch that serves the clients' Client ID Metadata Documents and key sets exactly as published.
 */
import { type AuthorizationServer, type Extension, withResourceCors } from '@portcullis/core';
import { protectMcpServer } from '@portcullis/core/mcp';
import { McpServer } from '../../support/deps.js';
import { lazyAuthenticator } from '../../support/lazy-authenticator.js';
import { type LiveServer, startLiveServer } from '../../support/live.js';

/** A running server for one corpus client. */
export interface CorpusServer {
  readonly live: LiveServer;
  readonly mcpUrl: string;
  /** URL → JSON served by the injected `clientIdMetadataDocuments.fetch`. */
  readonly documents: Map<string, unknown>;
  /** Every URL the server fetched through it. */
  readonly fetched: string[];
  close(): Promise<void>;
}

/** The MCP endpoint: one `whoami` tool reporting the caller's token; every request needs `mcp`. */
function protectedMcp(as: () => AuthorizationServer) {
  return withResourceCors(
    protectMcpServer({
      authenticator: lazyAuthenticator(() => as()),
      scopes: { route: ['mcp'] },
      server: () => {
        const server = new McpServer({ name: 'corpus', version: '1.0.0' });
        server.registerTool('whoami', { description: 'The authenticated caller' }, async (extra) => {
          const info = extra.authInfo;
          const who = {
            clientId: info?.clientId ?? null,
            scopes: info?.scopes ?? [],
            resource: info?.resource?.href ?? null,
          };
          return { content: [{ type: 'text', text: JSON.stringify(who) }] };
        });
        return server;
      },
    }),
  );
}

/**
 * Starts Portcullis on 127.0.0.1:0 for one client; `cimd: false` turns Client ID Metadata Documents off,
 * `extensions` installs optional features (e.g. `privateKeyJwt()`).
 */
export async function startCorpusServer(options: {
  cimd: boolean;
  extensions?: readonly Extension[];
}): Promise<CorpusServer> {
  const documents = new Map<string, unknown>();
  const fetched: string[] = [];
  const documentFetch = async (input: string): Promise<Response> => {
    fetched.push(input);
    const document = documents.get(input);
    if (document === undefined) return new Response('not found', { status: 404 });
    return new Response(JSON.stringify(document), {
      status: 200,
      headers: { 'content-type': 'application/json' },
    });
  };
  const live = await startLiveServer({
    mcp: protectedMcp,
    overrides: {
      clientIdMetadataDocuments: { enabled: options.cimd, fetch: documentFetch },
      ...(options.extensions ? { extensions: options.extensions } : {}),
    },
  });
  return { live, mcpUrl: `${live.url}/mcp`, documents, fetched, close: () => live.close() };
}
