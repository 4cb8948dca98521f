/**
 * Scenario (1c): the same no-op as a Hono app on `@hono/node-server` (its default settings), the
 * anchor for a Web-standard bridge on Node: read the body, answer the small JSON-RPC result.
 */
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { announce, RESULT } from './common.mjs';

const app = new Hono();
app.post('/', async (c) => {
  await c.req.arrayBuffer();
  return c.body(RESULT, 200, { 'content-type': 'application/json' });
});

const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => {
  server.keepAliveTimeout = 60_000;
  announce(info.port, () => new Promise((resolve) => server.close(resolve)));
});
