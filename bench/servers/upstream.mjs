/**
 * Scenario (1) and the proxies' upstream: a raw `node:http` server answering every request with a
 * small JSON-RPC result. `/mcp` (the proxied path) requires the proxies' static upstream token, so a
 * proxy that failed to forward credentials shows up as errors, not as fast responses.
 */
import { createServer } from 'node:http';
import { announce, drain, listen, RESULT, UPSTREAM_TOKEN } from './common.mjs';

const server = createServer(async (req, res) => {
  await drain(req);
  if (req.url.startsWith('/mcp') && req.headers.authorization !== `Bearer ${UPSTREAM_TOKEN}`) {
    res.writeHead(401, { 'content-type': 'application/json' });
    res.end('{"error":"unauthorized"}');
    return;
  }
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(RESULT) });
  res.end(RESULT);
});
server.keepAliveTimeout = 60_000;
announce(await listen(server), () => new Promise((resolve) => server.close(resolve)));
