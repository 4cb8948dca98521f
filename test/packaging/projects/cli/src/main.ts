// The gateway started from code, as the CLI's README shows; the test also runs the `portcullis` bin.
import { loadConfig, startGateway } from '@portcullis/cli';

const gateway = await startGateway(
  loadConfig({
    env: { ...process.env, PORT: '0', STORAGE_URL: 'memory:', PORTCULLIS_PIN: '246810', LOG_EVENTS: 'false' },
  }),
);
const metadata = await fetch(new URL('/.well-known/oauth-authorization-server', gateway.mcpUrl));
const mcp = await fetch(gateway.mcpUrl, { method: 'POST' });
console.log(
  JSON.stringify({
    metadata: { status: metadata.status, issuer: ((await metadata.json()) as { issuer: string }).issuer },
    mcp: { status: mcp.status, challenge: mcp.headers.get('www-authenticate') },
  }),
);
await gateway.close();
