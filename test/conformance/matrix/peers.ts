/**
 * Peers of the matrix servers on 127.0.0.1: a host of Client ID Metadata Documents the authorization
 * server really fetches, and a resource-server-only endpoint (ADR 011) verifying by introspection.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@portcullis/adapter-node';
import { createResourceServer, introspectionVerifier } from '@portcullis/core';
import {
  answerPinPage,
  authorizationUrl,
  codeOf,
  type MatrixServer,
  REDIRECT,
  register,
  tokenRequest,
  tokensOf,
  VERIFIER,
} from './harness.js';

/** The public origin CIMD client_ids use; the AS's document fetch is routed to a loopback host. */
export const CIMD_ORIGIN = 'https://client.example.com';

/** A loopback host serving Client ID Metadata Documents, counting fetches per path. */
export interface DocumentHost {
  readonly url: string;
  /** Serves `body` (a JSON value, or raw text) at `path` with extra response headers. */
  serve(path: string, body: unknown, headers?: Record<string, string>): void;
  hits(path: string): number;
  close(): Promise<void>;
}

export async function startDocumentHost(): Promise<DocumentHost> {
  const documents = new Map<string, { body: string; headers: Record<string, string> }>();
  const counts = new Map<string, number>();
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://host.invalid').pathname;
    counts.set(path, (counts.get(path) ?? 0) + 1);
    const document = documents.get(path);
    if (!document) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', ...document.headers }).end(document.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    serve: (path, body, headers = {}) =>
      void documents.set(path, { body: typeof body === 'string' ? body : JSON.stringify(body), headers }),
    hits: (path) => counts.get(path) ?? 0,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The `clientIdMetadataDocuments.fetch` that sends `https://client.example.com/…` to `host`. */
export const routedFetch =
  (host: DocumentHost) =>
  (input: string, init: RequestInit): Promise<Response> =>
    fetch(input.startsWith(CIMD_ORIGIN) ? `${host.url}${input.slice(CIMD_ORIGIN.length)}` : input, init);

/** A resource-server-only endpoint (ADR 011) in front of a matrix AS, with a user token for it. */
export interface ExternalResource {
  /** Origin of the resource server; its MCP path is `/mcp`. */
  readonly url: string;
  /** `GET /mcp?need=a,b` with the user token: authenticate with those required scopes. */
  call(need: string[]): Promise<Response>;
  close(): Promise<void>;
}

/**
 * Resource-server-only mode: `createResourceServer` verifying tokens by RFC 7662 introspection over
 * HTTP at `as`, with a confidential client whose own user token (granted `scope`) is the one
 * presented. Its resource identifier is the AS's `/mcp`, so that token's audience fits.
 */
export async function startExternalResource(as: MatrixServer, scope: string): Promise<ExternalResource> {
  const client = await register(as, { token_endpoint_auth_method: 'client_secret_basic' });
  const secret = String(client.client_secret);
  const basic = Buffer.from(`${encodeURIComponent(client.client_id)}:${encodeURIComponent(secret)}`).toString(
    'base64',
  );
  const location = await answerPinPage(
    await authorizationUrl(as, client.client_id, { scope, resource: as.mcpUrl }),
  );
  const tokens = await tokensOf(
    await tokenRequest(
      as,
      {
        grant_type: 'authorization_code',
        code: codeOf(location),
        redirect_uri: REDIRECT,
        code_verifier: VERIFIER,
        resource: as.mcpUrl,
      },
      { authorization: `Basic ${basic}` },
    ),
  );
  const rs = createResourceServer({
    resource: as.mcpUrl,
    authorizationServers: [as.issuer],
    scopesSupported: ['mcp'],
    verify: introspectionVerifier({
      endpoint: `${as.issuer}/introspect`,
      clientId: client.client_id,
      clientSecret: secret,
    }),
  });
  const running = await serve(
    async (request) => {
      const metadata = await rs.protectedResourceMetadata(request);
      if (metadata) return metadata;
      const need = (new URL(request.url).searchParams.get('need') ?? '').split(',').filter(Boolean);
      const result = await rs.authenticate(request, { requiredScopes: need });
      return result.ok ? Response.json({ scopes: result.info.scopes }) : result.response;
    },
    { port: 0, host: '127.0.0.1' },
  );
  return {
    url: running.url,
    call: (need) =>
      fetch(`${running.url}/mcp?need=${need.join(',')}`, {
        headers: { authorization: `Bearer ${tokens.access_token}` },
      }),
    close: () => running.close({ timeoutMs: 1000 }),
  };
}
