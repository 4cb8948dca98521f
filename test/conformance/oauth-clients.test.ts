/**
 * Strict and real-world OAuth clients over real HTTP: oauth4webapi (discovery, DCR, PKCE, iss check,
 * client_secret_basic and client_secret_post, no `resource` parameter, refresh, introspection,
 * revocation) and Claude.ai's connector callback registered through DCR with the exchange done by hand.
 */
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIVE_PIN, type LiveServer, registerLive, s256, startLiveServer } from '../support/live.js';
import { approveOverFetch, protectedMcp } from '../support/mcp.js';

let server: LiveServer;
beforeAll(async () => {
  server = await startLiveServer({ mcp: protectedMcp });
});
afterAll(() => server?.close());

const http = { [oauth.allowInsecureRequests]: true };

/** Calls the protected MCP endpoint with a bearer token (JSON-RPC initialize). */
async function initialize(token: string, path = '/mcp'): Promise<Response> {
  return fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'c', version: '1' } },
    }),
  });
}

describe.each([
  ['client_secret_basic', oauth.ClientSecretBasic] as const,
  ['client_secret_post', oauth.ClientSecretPost] as const,
])('oauth4webapi, %s, without the resource parameter', (method, authFor) => {
  it('runs discovery → DCR → PIN → token → MCP → refresh → introspect → revoke', async () => {
    const issuer = new URL(server.issuer);
    const as = await oauth.processDiscoveryResponse(
      issuer,
      await oauth.discoveryRequest(issuer, { ...http, algorithm: 'oauth2' }),
    );
    expect(as.token_endpoint_auth_methods_supported).toContain(method);
    const redirectUri = 'http://127.0.0.1:47011/cb';
    const registered = await oauth.processDynamicClientRegistrationResponse(
      await oauth.dynamicClientRegistrationRequest(
        as,
        {
          redirect_uris: [redirectUri],
          token_endpoint_auth_method: method,
          grant_types: ['authorization_code', 'refresh_token'],
          client_name: `oauth4webapi ${method}`,
        },
        http,
      ),
    );
    const client: oauth.Client = { client_id: registered.client_id };
    const clientAuth = authFor(registered.client_secret as string);

    const verifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const url = new URL(as.authorization_endpoint!);
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: client.client_id,
      redirect_uri: redirectUri,
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
    }).toString();
    const landed = await approveOverFetch(url, LIVE_PIN);
    const params = oauth.validateAuthResponse(as, client, landed, state); // checks iss (RFC 9207)

    const tokens = await oauth.processAuthorizationCodeResponse(
      as,
      client,
      await oauth.authorizationCodeGrantRequest(as, client, clientAuth, params, redirectUri, verifier, http),
    );
    expect(tokens.token_type).toBe('bearer');
    expect((await initialize(tokens.access_token)).status).toBe(200);

    const refreshed = await oauth.processRefreshTokenResponse(
      as,
      client,
      await oauth.refreshTokenGrantRequest(as, client, clientAuth, tokens.refresh_token!, http),
    );
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);

    const introspection = await oauth.processIntrospectionResponse(
      as,
      client,
      await oauth.introspectionRequest(as, client, clientAuth, refreshed.access_token, http),
    );
    expect(introspection).toMatchObject({ active: true, aud: `${server.url}/mcp`, sub: 'pin-holder' });

    await oauth.processRevocationResponse(
      await oauth.revocationRequest(as, client, clientAuth, refreshed.refresh_token!, http),
    );
    expect((await initialize(refreshed.access_token)).status).toBe(401);
  });
});

describe('Claude.ai connector callback', () => {
  const CALLBACK = 'https://claude.ai/api/mcp/auth_callback';

  it('registers the callback by DCR, redirects there with code/state/iss, and the manual exchange works', async () => {
    const registered = await registerLive(server.issuer, {
      client_name: 'Claude',
      redirect_uris: [CALLBACK],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_post',
    });
    const verifier = 'claude-connector-verifier-abcdefghijklmnopqrstuvwxyz-0123';
    const authorize = new URL(`${server.issuer}/authorize`);
    authorize.search = new URLSearchParams({
      response_type: 'code',
      client_id: registered.client_id!,
      redirect_uri: CALLBACK,
      code_challenge: await s256(verifier),
      code_challenge_method: 'S256',
      state: 'claude-state-123',
      scope: 'mcp',
      resource: `${server.url}/mcp`,
    }).toString();
    const landed = await approveOverFetch(authorize, LIVE_PIN);
    expect(`${landed.origin}${landed.pathname}`).toBe(CALLBACK);
    expect(landed.searchParams.get('state')).toBe('claude-state-123');
    expect(landed.searchParams.get('iss')).toBe(server.issuer);

    const exchange = async (codeVerifier = verifier) =>
      fetch(`${server.issuer}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          code: landed.searchParams.get('code')!,
          redirect_uri: CALLBACK,
          code_verifier: codeVerifier,
          client_id: registered.client_id!,
          client_secret: registered.client_secret!,
          resource: `${server.url}/mcp`,
        }),
      });
    const token = await exchange();
    expect(token.status).toBe(200);
    const body = await token.json();
    expect(body).toMatchObject({ token_type: 'Bearer', scope: 'mcp' });
    expect((await initialize(body.access_token)).status).toBe(200);
    // A retried exchange (e.g. a double-fired callback) within the reuse interval gets the same tokens...
    const again = await exchange();
    expect(again.status).toBe(200);
    expect((await again.json()).access_token).toBe(body.access_token);
    // ...a replay with another PKCE verifier fails and revokes what the code issued (RFC 6749 §4.1.2).
    expect((await exchange(`${verifier}-other`)).status).toBe(400);
    expect((await initialize(body.access_token)).status).toBe(401);
  });

  it('accepts the trailing-slash form of the resource from a connector URL ending in "/"', async () => {
    const registered = await registerLive(server.issuer, {
      client_name: 'Claude',
      redirect_uris: [CALLBACK],
    });
    const verifier = 'claude-connector-verifier-abcdefghijklmnopqrstuvwxyz-4567';
    const authorize = new URL(`${server.issuer}/authorize`);
    authorize.search = new URLSearchParams({
      response_type: 'code',
      client_id: registered.client_id!,
      redirect_uri: CALLBACK,
      code_challenge: await s256(verifier),
      code_challenge_method: 'S256',
      state: 's',
      resource: `${server.url}/mcp/`,
    }).toString();
    const landed = await approveOverFetch(authorize, LIVE_PIN);
    const token = await fetch(`${server.issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: landed.searchParams.get('code')!,
        redirect_uri: CALLBACK,
        code_verifier: verifier,
        client_id: registered.client_id!,
      }),
    });
    expect(token.status).toBe(200);
    expect((await initialize((await token.json()).access_token, '/mcp/')).status).toBe(200);
  });
});

describe('clients that rely on the single registered redirect URI', () => {
  it('may omit redirect_uri at /authorize and then at /token (RFC 6749 §4.1.3: required only if it was sent)', async () => {
    const redirectUri = 'http://127.0.0.1:47012/cb';
    const registered = await registerLive(server.issuer, { redirect_uris: [redirectUri] });
    const verifier = 'omits-redirect-uri-verifier-abcdefghijklmnopqrstuvwxyz-0123';
    const authorize = new URL(`${server.issuer}/authorize`);
    authorize.search = new URLSearchParams({
      response_type: 'code',
      client_id: registered.client_id!,
      code_challenge: await s256(verifier),
      code_challenge_method: 'S256',
      state: 'no-redirect-uri',
    }).toString();
    const landed = await approveOverFetch(authorize, LIVE_PIN);
    expect(`${landed.origin}${landed.pathname}`).toBe(redirectUri);
    const token = await fetch(`${server.issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: landed.searchParams.get('code')!,
        code_verifier: verifier,
        client_id: registered.client_id!,
      }),
    });
    expect(token.status, await token.clone().text()).toBe(200);
  });
});
