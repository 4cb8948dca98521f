import { gracefulShutdown, serve } from '@portcullis/adapter-node';
import { createApp } from './app.js';
import { readConfig } from './config.js';

let config: ReturnType<typeof readConfig>;
try {
  config = readConfig(process.env);
} catch (error) {
  console.error(`resource-server-only: ${(error as Error).message}`);
  process.exit(2);
}

const app = createApp(config);
const running = await serve(app.fetch, { host: config.host, port: config.port });
console.log(
  `MCP resource server on ${running.url}; resource ${config.publicUrl}${config.mcpPath}, tokens from ${config.authorizationServer}`,
);
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    void gracefulShutdown(running.server, { timeoutMs: 15_000 }).then(() => process.exit(0));
  });
}
