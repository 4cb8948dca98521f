/**
 * The official MCP SDK client against a real node:http server: `auth()` discovery (path-suffixed and
 * root RFC 9728 metadata, RFC 8414 with an issuer path), DCR, the PIN page, the code exchange, and
 * tools over Streamable HTTP — with the variations real clients bring: trailing slashes, loopback
 * redirect ports that change between runs, public and `client_secret_post` clients.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  discoverAuthorizationServerMetadata,
  discoverOAuthProtectedResourceMetadata,
} from '../support/deps.js';
import { LIVE_PIN, type LiveServer, startLiveServer } from '../support/live.js';
import { authorizeAndConnect, PinProvider, protectedMcp, whoami } from '../support/mcp.js';

let server: LiveServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function start(issuerPath?: string) {
  server = await startLiveServer({ mcp: protectedMcp, ...(issuerPath ? { issuerPath } : {}) });
  return server;
}

describe('MCP SDK client conformance', () => {
  it('discovers, registers, authorizes with PKCE + resource, and calls a tool; redirect carries iss and state', async () => {
    const { url } = await start();
    const provider = new PinProvider(LIVE_PIN, 'http://127.0.0.1:41001/callback');
    const client = await authorizeAndConnect(`${url}/mcp`, provider);
    const me = await whoami(client);
    const [request] = provider.authorizationUrls;
    expect(me).toMatchObject({
      clientId: provider.info?.client_id,
      userId: 'pin-holder',
      resource: `${url}/mcp`,
    });
    // The SDK asks for the scopes the 401 challenge / metadata advertise; all of them are granted.
    expect(me.scopes).toEqual(request?.searchParams.get('scope')?.split(' '));
    expect(request?.searchParams.get('code_challenge_method')).toBe('S256');
    expect(request?.searchParams.get('resource')).toBe(`${url}/mcp`);
    expect(provider.landed?.searchParams.get('iss')).toBe(url);
    expect(provider.landed?.searchParams.get('state')).toBe('st-0');
    await client.close();
  });

  it('serves path-suffixed and root protected-resource metadata that the SDK follows', async () => {
    const { url } = await start();
    const suffixed = await discoverOAuthProtectedResourceMetadata(`${url}/mcp`);
    expect(suffixed.resource).toBe(`${url}/mcp`);
    expect(suffixed.authorization_servers).toEqual([url]);
    const root = await fetch(`${url}/.well-known/oauth-protected-resource`);
    expect(root.status).toBe(200);
    expect((await root.json()).authorization_servers).toEqual([url]);
    const as = await discoverAuthorizationServerMetadata(url);
    expect(as?.issuer).toBe(url);
    expect(as?.code_challenge_methods_supported).toEqual(['S256']);
    // The 401 from the MCP endpoint points at the path-suffixed document.
    const refused = await fetch(`${url}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: '{"jsonrpc":"2.0","id":1,"method":"ping"}',
    });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toContain(
      `resource_metadata="${url}/.well-known/oauth-protected-resource/mcp"`,
    );
  });

  it('finds an issuer with a base path through RFC 8414 path insertion', async () => {
    const { url, issuer } = await start('/auth');
    expect(issuer).toBe(`${url}/auth`);
    const provider = new PinProvider(LIVE_PIN, 'http://127.0.0.1:41002/callback');
    const client = await authorizeAndConnect(`${url}/mcp`, provider);
    expect(provider.authorizationUrls[0]?.href.startsWith(`${url}/auth/authorize?`)).toBe(true);
    expect(provider.landed?.searchParams.get('iss')).toBe(issuer);
    expect((await whoami(client)).userId).toBe('pin-holder');
    await client.close();
  });

  it('accepts the MCP URL with a trailing slash', async () => {
    const { url } = await start();
    const provider = new PinProvider(LIVE_PIN, 'http://127.0.0.1:41003/callback');
    const client = await authorizeAndConnect(`${url}/mcp/`, provider);
    const me = await whoami(client);
    expect(me.userId).toBe('pin-holder');
    expect([`${url}/mcp`, `${url}/mcp/`]).toContain(me.resource);
    await client.close();
  });

  it('authorizes again on another loopback port with the same registration (RFC 8252 §7.3)', async () => {
    const { url, events } = await start();
    const provider = new PinProvider(LIVE_PIN, 'http://127.0.0.1:41004/callback');
    (await authorizeAndConnect(`${url}/mcp`, provider)).close();
    const clientId = provider.info?.client_id;
    provider.redirectUrl = 'http://127.0.0.1:52999/callback';
    provider.saved = undefined;
    const again = await authorizeAndConnect(`${url}/mcp`, provider);
    expect(provider.info?.client_id).toBe(clientId);
    expect(provider.landed?.port).toBe('52999');
    expect((await whoami(again)).clientId).toBe(clientId);
    expect(events.filter((e) => e.type === 'client_registered')).toHaveLength(1);
    await again.close();
  });

  it('works for a confidential client_secret_post client', async () => {
    const { url } = await start();
    const provider = new PinProvider(LIVE_PIN, 'http://127.0.0.1:41005/callback', 'client_secret_post');
    const client = await authorizeAndConnect(`${url}/mcp`, provider);
    expect(provider.info?.client_secret).toMatch(/^pcs_/);
    expect((provider.info as { token_endpoint_auth_method?: string }).token_endpoint_auth_method).toBe(
      'client_secret_post',
    );
    expect((await whoami(client)).clientId).toBe(provider.info?.client_id);
    await client.close();
  });
});
