/**
 * Real servers on 127.0.0.1 for the browser and conformance suites: the authorization server (plus an
 * optional protected MCP endpoint) mounted with the Node adapter, and a tiny "client application" that
 * records what arrives at its redirect URI.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { clientIp, type RunningServer, type ServeOptions, serve } from '@portcullis/adapter-node';
import {
  type AuthorizationServer,
  type AuthorizationServerOptions,
  createAuthorizationServer,
  MemoryStorage,
  type PortcullisEvent,
} from '@portcullis/core';
import { pinUpstream } from '@portcullis/core/upstreams';

export const LIVE_PIN = '246813579';
export const LIVE_SECRET = 'live-test-secret-live-test-secret-0123456789';

/** A running authorization server on a random loopback port. */
export interface LiveServer {
  /** Origin of the listening server (`http://127.0.0.1:<port>`). */
  readonly url: string;
  /** The issuer identifier: the origin plus the optional base path. */
  readonly issuer: string;
  readonly as: AuthorizationServer;
  readonly events: PortcullisEvent[];
  close(): Promise<void>;
}

/**
 * Starts the authorization server with the PIN upstream and MemoryStorage over node:http. `mcp`, when
 * given, builds the handler for every request the authorization server does not handle (e.g. a
 * protected MCP route); it receives a getter for the authorization server.
 */
export async function startLiveServer(
  options: {
    mcp?: (as: () => AuthorizationServer) => (request: Request) => Promise<Response>;
    /** A base path for the issuer, e.g. `/auth` (RFC 8414 §3.1 path insertion). */
    issuerPath?: string;
    overrides?: Partial<AuthorizationServerOptions>;
    /** Node adapter options (e.g. `onError`, `bodyLimit`); the port and host stay random loopback. */
    serve?: Omit<ServeOptions, 'port' | 'host'>;
  } = {},
): Promise<LiveServer> {
  let as: AuthorizationServer | undefined;
  const events: PortcullisEvent[] = [];
  const mcp = options.mcp?.(() => as!);
  const running: RunningServer = await serve(
    async (request) => {
      if (!as) return new Response('starting', { status: 503 });
      if (as.handles(request) || !mcp) return as.fetch(request);
      return mcp(request);
    },
    { ...options.serve, port: 0, host: '127.0.0.1' },
  );
  as = createAuthorizationServer({
    issuer: `${running.url}${options.issuerPath ?? ''}`,
    storage: new MemoryStorage(),
    upstream: pinUpstream({ pin: LIVE_PIN, userId: 'pin-holder', email: 'owner@example.com' }),
    secret: LIVE_SECRET,
    resources: [{ path: '/mcp' }],
    scopes: { supported: ['mcp', 'mcp:read'], default: ['mcp'] },
    onEvent: (event) => void events.push(event),
    clientIp,
    ...options.overrides,
  });
  const server = as;
  return {
    url: running.url,
    issuer: server.issuer,
    as: server,
    events,
    close: () => running.close({ timeoutMs: 1000 }),
  };
}

/** What the client application's redirect URI received. */
export interface Arrival {
  readonly path: string;
  readonly query: URLSearchParams;
}

/** A tiny client application: records redirects at any path and serves pages given to {@link page}. */
export interface LiveClient {
  readonly url: string;
  readonly arrivals: Arrival[];
  /** Serves `html` at `path` (e.g. a page framing the authorization page). */
  page(path: string, html: string): void;
  close(): Promise<void>;
}

export async function startLiveClient(host = '127.0.0.1'): Promise<LiveClient> {
  const arrivals: Arrival[] = [];
  const pages = new Map<string, string>();
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://client.invalid');
    const html = pages.get(url.pathname);
    if (html) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(html);
      return;
    }
    arrivals.push({ path: url.pathname, query: url.searchParams });
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    const code = url.searchParams.has('code') ? 'code received' : 'no code';
    res.end(`<!doctype html><title>Client callback</title><h1 id="result">${code}</h1>`);
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    arrivals,
    page: (path, html) => void pages.set(path, html),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** RFC 7636 S256 challenge of a verifier. */
export async function s256(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return Buffer.from(digest).toString('base64url');
}

/** Registers a client with DCR over HTTP and returns the RFC 7591 response. */
export async function registerLive(
  issuer: string,
  metadata: Record<string, unknown>,
): Promise<Record<string, string>> {
  const response = await fetch(`${issuer}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token_endpoint_auth_method: 'none', ...metadata }),
  });
  if (response.status !== 201)
    throw new Error(`registration failed: ${response.status} ${await response.text()}`);
  return (await response.json()) as Record<string, string>;
}
