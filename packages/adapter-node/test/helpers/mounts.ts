import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify from 'fastify';
import {
  type FetchHandler,
  type NodeAdapterOptions,
  portcullisExpress,
  portcullisFastify,
  portcullisHandler,
  type RoutableServer,
  toNodeListener,
} from '../../src/index.js';

/** A running mount under test. */
export interface Mounted {
  readonly url: string;
  close(): Promise<void>;
}

export type MountKind = 'node' | 'express' | 'express+parsers' | 'fastify';

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/**
 * Starts `server` (+ an MCP handler at /mcp) on one of the Node mounts. The Express and Fastify apps
 * also have an app route `GET|POST /app` answering `app:<body>`, to prove other requests pass through.
 */
export async function mount(
  kind: MountKind,
  server: RoutableServer,
  mcp: FetchHandler | undefined,
  options: NodeAdapterOptions = {},
): Promise<Mounted> {
  if (kind === 'node') {
    const http = createServer(toNodeListener(portcullisHandler(server, { mcp }), options));
    const url = await listen(http);
    return { url, close: () => closeServer(http) };
  }
  if (kind === 'express' || kind === 'express+parsers') {
    const app = express();
    if (kind === 'express+parsers') {
      app.use(express.json());
      app.use(express.urlencoded({ extended: false }));
      app.use(express.text());
    }
    app.use(portcullisExpress(server, { mcp, ...options }));
    app.all('/app', (req, res) => {
      if (kind === 'express+parsers') {
        res.send(`app:${typeof req.body === 'string' ? req.body : JSON.stringify(req.body ?? null)}`);
        return;
      }
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => {
        body += chunk;
      });
      req.on('end', () => res.send(`app:${body}`));
    });
    const http = createServer(app);
    const url = await listen(http);
    return { url, close: () => closeServer(http) };
  }
  const app = Fastify();
  await app.register(portcullisFastify, { server, mcp, ...options });
  app.all('/app', async (request) => `app:${typeof request.body === 'string' ? request.body : ''}`);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}`,
    close: async () => {
      app.server.closeAllConnections();
      await app.close();
    },
  };
}

/** A stand-in authorization server: answers /oauth/* by echoing method, URL and body. */
export function echoServer(): RoutableServer {
  return {
    handles: (request) => new URL(request.url).pathname.startsWith('/oauth/'),
    fetch: async (request) => {
      const body = request.method === 'GET' || request.method === 'HEAD' ? '' : await request.text();
      return Response.json({
        method: request.method,
        url: request.url,
        body,
        contentType: request.headers.get('content-type'),
      });
    },
  };
}
