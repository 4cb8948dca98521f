// A CommonJS project (`npm init -y`: no "type" field): this file compiles to require() calls.
import { createServer } from 'node:http';
import { portcullisHandler, toNodeListener } from '@portcullis/adapter-node';
import { createAuthorizationServer, MemoryStorage } from '@portcullis/core';
import { pinUpstream } from '@portcullis/core/upstreams';

async function main(): Promise<void> {
  const port = Number(process.env.PORT);
  const issuer = `http://127.0.0.1:${port}`;
  const as = createAuthorizationServer({
    issuer,
    storage: new MemoryStorage(),
    upstream: pinUpstream({ pin: '246810' }),
    secret: 'packaging-test-secret-0123456789abcdef',
  });
  const mcp = async (request: Request) => {
    const result = await as.authenticate(request);
    return result.ok ? Response.json({ user: result.info.userId }) : result.response;
  };
  const server = createServer(toNodeListener(portcullisHandler(as, { mcp })));
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));

  const metadata = await fetch(`${issuer}/.well-known/oauth-authorization-server`);
  const protectedResource = await fetch(`${issuer}/mcp`, { method: 'POST' });
  console.log(
    JSON.stringify({
      metadata: { status: metadata.status, issuer: ((await metadata.json()) as { issuer: string }).issuer },
      mcp: {
        status: protectedResource.status,
        challenge: protectedResource.headers.get('www-authenticate'),
      },
      module: typeof module === 'object' && typeof require === 'function' ? 'commonjs' : 'esm',
    }),
  );
  server.close();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
