/**
 * Scenario (1b): the same no-op as a Web handler behind `@portcullis/adapter-node` (`toNodeListener`),
 * alone in its process like the Hono row's app: read the body, answer the small JSON-RPC result. What
 * it costs over raw node:http is the price of the bridge (Node request → Web `Request`, Web `Response`
 * → Node response), nothing else.
 */
import { createServer } from 'node:http';
import { toNodeListener } from '@portcullis/adapter-node';
import { announce, listen, RESULT } from './common.mjs';

const server = createServer(
  toNodeListener(async (request) => {
    await request.arrayBuffer();
    return new Response(RESULT, { headers: { 'content-type': 'application/json' } });
  }),
);
server.keepAliveTimeout = 60_000;
announce(await listen(server), () => new Promise((resolve) => server.close(resolve)));
