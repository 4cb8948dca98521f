// An Express application with Portcullis mounted: it checks its own metadata and protected route.
import { once } from 'node:events';
import { portcullisExpress } from '@portcullis/adapter-node';
import { createAuthorizationServer, MemoryStorage } from '@portcullis/core';
import { pinUpstream } from '@portcullis/core/upstreams';
import express from 'express';

const port = Number(process.env.PORT);
const issuer = `http://127.0.0.1:${port}`;
const as = createAuthorizationServer({
  issuer,
  storage: new MemoryStorage(),
  upstream: pinUpstream({ pin: '246810' }),
  secret: 'packaging-test-secret-0123456789abcdef',
});
const app = express();
app.use(
  portcullisExpress(as, {
    mcp: async (request) => {
      const result = await as.authenticate(request);
      return result.ok ? Response.json({ user: result.info.userId }) : result.response;
    },
  }),
);
app.get('/hello', (_req, res) => {
  res.json({ hello: 'express' });
});
const server = app.listen(port, '127.0.0.1');
await once(server, 'listening');

const metadata = await fetch(`${issuer}/.well-known/oauth-authorization-server`);
const mcp = await fetch(`${issuer}/mcp`, { method: 'POST' });
const hello = await fetch(`${issuer}/hello`);
console.log(
  JSON.stringify({
    metadata: { status: metadata.status, issuer: ((await metadata.json()) as { issuer: string }).issuer },
    mcp: { status: mcp.status, challenge: mcp.headers.get('www-authenticate') },
    hello: await hello.json(),
  }),
);
server.close();
