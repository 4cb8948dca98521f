/**
 * Scenario (4) reference: the simplest honest reverse proxy — `http.request` to the upstream over a
 * keep-alive agent, request and response bodies piped, the static upstream token set, the client's
 * `Authorization` dropped. No authentication of the caller.
 */
import { Agent, createServer, request } from 'node:http';
import { announce, listen, UPSTREAM_TOKEN } from './common.mjs';

const upstream = new URL(process.env.BENCH_UPSTREAM);
const agent = new Agent({ keepAlive: true, maxSockets: 256 });
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'te', 'trailer']);

const server = createServer((req, res) => {
  const headers = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (!HOP_BY_HOP.has(name) && name !== 'host' && name !== 'authorization') headers[name] = value;
  }
  headers.authorization = `Bearer ${UPSTREAM_TOKEN}`;
  const outgoing = request(
    {
      agent,
      host: upstream.hostname,
      port: upstream.port,
      path: upstream.pathname,
      method: req.method,
      headers,
    },
    (incoming) => {
      const out = {};
      for (const [name, value] of Object.entries(incoming.headers))
        if (!HOP_BY_HOP.has(name)) out[name] = value;
      res.writeHead(incoming.statusCode ?? 502, out);
      incoming.pipe(res);
    },
  );
  outgoing.on('error', () => {
    if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
    res.end('{"error":"bad_gateway"}');
  });
  req.pipe(outgoing);
});
server.keepAliveTimeout = 60_000;
announce(await listen(server), () => new Promise((resolve) => server.close(resolve)));
