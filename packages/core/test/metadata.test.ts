import { describe, expect, it } from 'vitest';
import { ISSUER, issueTokens, makeServer, registerClient } from './helpers.js';

const get = (server: ReturnType<typeof makeServer>['server'], path: string) =>
  server.fetch(new Request(`${ISSUER}${path}`));

describe('RFC 8414 authorization server metadata', () => {
  it('advertises exactly what is supported, issuer-correct', async () => {
    const { server } = makeServer();
    const response = await get(server, '/.well-known/oauth-authorization-server');
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    const body = await response.json();
    expect(body).toMatchObject({
      issuer: ISSUER,
      authorization_endpoint: `${ISSUER}/authorize`,
      token_endpoint: `${ISSUER}/token`,
      registration_endpoint: `${ISSUER}/register`,
      revocation_endpoint: `${ISSUER}/revoke`,
      response_types_supported: ['code'],
      grant_types_supported: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
      code_challenge_methods_supported: ['S256'],
      authorization_response_iss_parameter_supported: true,
      scopes_supported: ['mcp', 'offline_access'],
    });
  });

  it('serves the OIDC discovery alias with the same document', async () => {
    const { server } = makeServer();
    const a = await (await get(server, '/.well-known/oauth-authorization-server')).json();
    const b = await (await get(server, '/.well-known/openid-configuration')).json();
    expect(b).toEqual(a);
  });

  it('inserts the issuer path per RFC 8414 §3.1 and omits registration when disabled', async () => {
    const { server } = makeServer({
      issuer: 'https://as.example.com/tenant/a',
      registration: { enabled: false },
    });
    const response = await server.fetch(
      new Request('https://as.example.com/.well-known/oauth-authorization-server/tenant/a'),
    );
    const body = await response.json();
    expect(body.issuer).toBe('https://as.example.com/tenant/a');
    expect(body.token_endpoint).toBe('https://as.example.com/tenant/a/token');
    expect(body.registration_endpoint).toBeUndefined();
    expect(
      (await server.fetch(new Request('https://as.example.com/.well-known/oauth-authorization-server')))
        .status,
    ).toBe(404);
  });
});

describe('RFC 9728 protected resource metadata', () => {
  it('serves root and path-suffixed documents pointing at the issuer', async () => {
    const { server } = makeServer();
    for (const path of [
      '/.well-known/oauth-protected-resource',
      '/.well-known/oauth-protected-resource/mcp',
      '/.well-known/oauth-protected-resource/mcp/',
    ]) {
      const response = await get(server, path);
      expect(response.status, path).toBe(200);
      expect(await response.json()).toEqual({
        resource: `${ISSUER}/mcp`,
        authorization_servers: [ISSUER],
        scopes_supported: ['mcp'],
        bearer_methods_supported: ['header'],
      });
    }
  });

  it('serves one document per resource and 404 for unknown paths', async () => {
    const { server } = makeServer({
      resources: [
        { path: '/mcp', name: 'Main' },
        { path: '/tools/github', scopes: ['mcp'], resource: 'https://as.example.com/tools/github' },
      ],
    });
    const gh = await (await get(server, '/.well-known/oauth-protected-resource/tools/github')).json();
    expect(gh.resource).toBe('https://as.example.com/tools/github');
    const main = await (await get(server, '/.well-known/oauth-protected-resource/mcp')).json();
    expect(main.resource_name).toBe('Main');
    expect((await get(server, '/.well-known/oauth-protected-resource/nope')).status).toBe(404);
    expect(await server.protectedResourceMetadata(new Request(`${ISSUER}/mcp`))).toBeNull();
  });

  it('answers CORS preflights on metadata and 405 on wrong methods', async () => {
    const { server } = makeServer();
    const pre = await server.fetch(
      new Request(`${ISSUER}/.well-known/oauth-protected-resource`, { method: 'OPTIONS' }),
    );
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-headers')).toContain('Authorization');
    const post = await server.fetch(
      new Request(`${ISSUER}/.well-known/oauth-authorization-server`, { method: 'POST' }),
    );
    expect(post.status).toBe(405);
    expect((await post.json()).error).toBe('method_not_allowed');
  });

  it('reports which requests it handles', () => {
    const { server } = makeServer();
    expect(server.handles(new Request(`${ISSUER}/token`))).toBe(true);
    expect(server.handles(new Request(`${ISSUER}/authorize/pin`))).toBe(true);
    expect(server.handles(new Request(`${ISSUER}/mcp`))).toBe(false);
  });
});

describe('scopes in metadata (RFC 9728 §2, MCP 2026-07-28 scope selection, SEP-2207)', () => {
  const scopes = { supported: ['read', 'write', 'offline_access'], default: ['read'] };

  it('advertises offline_access in AS metadata once, and never in protected-resource metadata', async () => {
    const { server } = makeServer({ scopes });
    const as = await (await get(server, '/.well-known/oauth-authorization-server')).json();
    expect(as.scopes_supported).toEqual(['read', 'write', 'offline_access']);
    const prm = await (await get(server, '/.well-known/oauth-protected-resource/mcp')).json();
    expect(prm.scopes_supported).toEqual(['read', 'write']);
    const configured = makeServer({
      scopes,
      resources: [
        { path: '/mcp', scopes: ['read', 'offline_access'], advertisedScopes: ['offline_access', 'read'] },
      ],
    });
    const resource = await (await get(configured.server, '/.well-known/oauth-protected-resource/mcp')).json();
    expect(resource.scopes_supported).toEqual(['read']);
  });

  it('advertises a baseline apart from the step-up scopes a resource accepts', async () => {
    const { server } = makeServer({
      scopes,
      resources: [{ path: '/mcp', scopes: ['read', 'write'], advertisedScopes: ['read'] }],
    });
    const prm = await (await get(server, '/.well-known/oauth-protected-resource/mcp')).json();
    expect(prm.scopes_supported).toEqual(['read']);
    const { body } = await registerClient(server.fetch);
    // The baseline is what a client asks for first; a step-up for write is granted too.
    expect((await issueTokens(server.fetch, body.client_id!, { scope: 'read write' })).scope).toBe(
      'read write',
    );
  });
});
