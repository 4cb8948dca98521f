import { createServer } from 'node:http';
import { gracefulShutdown } from '@portcullis/adapter-node';
import { readEnv } from './config.js';
import { createGateway } from './gateway.js';

let env: ReturnType<typeof readEnv>;
try {
  env = readEnv(process.env);
} catch (error) {
  console.error(`node-oidc-gateway: ${(error as Error).message}`);
  process.exit(2);
}

const gateway = createGateway(env);
const server = createServer(gateway.app);
server.listen(env.PORT, env.HOST, () => {
  console.log(
    `MCP gateway listening on ${env.HOST}:${env.PORT}; clients connect to ${env.PUBLIC_URL.replace(/\/+$/, '')}/mcp`,
  );
});
// Expired codes, tokens and pending logins are swept every 10 minutes.
const sweep = setInterval(() => void gateway.authorizationServer.cleanup().catch(() => undefined), 600_000);
sweep.unref();

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    clearInterval(sweep);
    void gracefulShutdown(server, { timeoutMs: 15_000, onClosed: () => gateway.close() }).then(() =>
      process.exit(0),
    );
  });
}
