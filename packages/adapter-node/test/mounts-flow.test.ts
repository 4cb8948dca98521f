import { type AuthorizationServer, createAuthorizationServer, MemoryStorage } from '@portcullis/core';
import { protectMcpServer } from '@portcullis/core/mcp';
import { pinUpstream } from '@portcullis/core/upstreams';
import { afterEach, describe, expect, it } from 'vitest';
import { lazyAuthenticator } from '../../../test/support/lazy-authenticator.js';
import { createDemoMcpServer } from '../../cli/src/demo-mcp.js';
import { clientIp, type RoutableServer } from '../src/index.js';
import { connectClient, PinOAuthProvider, whoami } from './helpers/mcp-client.js';
import { type Mounted, type MountKind, mount } from './helpers/mounts.js';

const PIN = '97531246';
let running: Mounted | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

/** Mounts a real authorization server + the demo MCP server; the issuer is known once the port is. */
async function startMounted(kind: MountKind): Promise<{ url: string; as: () => AuthorizationServer }> {
  let as: AuthorizationServer | undefined;
  const storage = new MemoryStorage();
  const lazy: RoutableServer = {
    handles: (request) => as!.handles(request),
    fetch: (request) => as!.fetch(request),
  };
  const mcp = protectMcpServer({
    authenticator: lazyAuthenticator(() => as!),
    server: () => createDemoMcpServer(),
  });
  running = await mount(kind, lazy, mcp);
  as = createAuthorizationServer({
    issuer: running.url,
    storage,
    upstream: pinUpstream({ pin: PIN, userId: 'pin-holder', email: 'owner@example.com' }),
    secret: 'a-test-secret-that-is-long-enough-for-portcullis',
    resources: [{ path: '/mcp' }],
    clientIp,
  });
  return { url: running.url, as: () => as! };
}

describe.each(['node', 'express', 'express+parsers', 'fastify'] as const)(
  '%s mount with the MCP SDK client',
  (kind) => {
    it('completes discovery, registration, PIN consent, token and tools/call whoami, then refreshes', async () => {
      const { url } = await startMounted(kind);
      const provider = new PinOAuthProvider(PIN);
      const client = await connectClient(`${url}/mcp`, provider);
      expect(provider.issuer).toBe(url);
      const me = await whoami(client);
      expect(me).toMatchObject({
        userId: 'pin-holder',
        email: 'owner@example.com',
        clientId: provider.clientInformation()?.client_id,
        resource: `${url}/mcp`,
      });
      await client.close();

      const firstRefresh = provider.tokens()?.refresh_token;
      provider.dropAccessToken();
      const again = await connectClient(`${url}/mcp`, provider);
      expect(provider.authorizations).toBe(1);
      expect(provider.tokens()?.refresh_token).not.toBe(firstRefresh); // rotated
      expect((await whoami(again)).userId).toBe('pin-holder');
      await again.close();
    });

    it('serves metadata with the right issuer and refuses the MCP endpoint without a token', async () => {
      const { url } = await startMounted(kind);
      const metadata = (await (await fetch(`${url}/.well-known/oauth-authorization-server`)).json()) as {
        issuer: string;
        token_endpoint: string;
      };
      expect(metadata.issuer).toBe(url);
      expect(metadata.token_endpoint).toBe(`${url}/token`);
      const refused = await fetch(`${url}/mcp`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
      });
      expect(refused.status).toBe(401);
      expect(refused.headers.get('www-authenticate')).toContain(
        `resource_metadata="${url}/.well-known/oauth-protected-resource/mcp"`,
      );
    });
  },
);
