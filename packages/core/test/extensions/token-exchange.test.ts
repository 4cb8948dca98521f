/**
 * `tokenExchange()`: RFC 8693 token exchange between configured resources, driven by oauth4webapi's
 * generic token endpoint request. The exchanger is an MCP server that authenticates with
 * `private_key_jwt` under a Client ID Metadata Document (its client_id is its URL).
 */
import type { PortcullisEvent } from '@portcullis/core';
import {
  ACCESS_TOKEN_TYPE,
  privateKeyJwt,
  TOKEN_EXCHANGE_GRANT_TYPE,
  type TokenExchangeOptions,
  tokenExchange,
} from '@portcullis/core/extensions';
import * as oauth from 'oauth4webapi';
import { describe, expect, it } from 'vitest';
import { issueTokens, registerClient } from '../helpers.js';
import { ISSUER, json, keyPair, oauthError, register, serverWith } from './support.js';

const EXCHANGER = 'https://mcp.example.com/exchanger.json';
const MCP = `${ISSUER}/mcp`;
const TOOLS = `${ISSUER}/tools`;
const RESOURCES = [
  { path: '/mcp', scopes: ['mcp', 'mcp:read', 'tools'] },
  { path: '/tools', scopes: ['tools', 'mcp:read'] },
  { path: '/admin', scopes: ['admin'] },
];

/** A server with token exchange, a user token for /mcp, and the MCP server's client (CIMD + key). */
async function setup(options: Partial<TokenExchangeOptions> = {}) {
  const key = await keyPair('ES256');
  let skew = 0;
  const document = {
    client_id: EXCHANGER,
    client_name: 'The MCP server at /mcp',
    token_endpoint_auth_method: 'private_key_jwt',
    grant_types: [TOKEN_EXCHANGE_GRANT_TYPE],
    jwks: { keys: [key.publicJwk] },
  };
  const events: PortcullisEvent[] = [];
  const ctx = await serverWith({
    extensions: [
      privateKeyJwt(),
      tokenExchange({ exchangers: [{ clientId: EXCHANGER, resource: MCP }], ...options }),
    ],
    now: () => Date.now() + skew * 1000,
    scopes: { supported: ['mcp', 'mcp:read', 'tools', 'admin'] },
    resources: RESOURCES,
    clientIdMetadataDocuments: { fetch: async () => json(document) },
    onEvent: (e) => void events.push(e),
  });
  const user = await register(ctx.server.fetch, { token_endpoint_auth_method: 'none' });
  const subject = await issueTokens(ctx.server.fetch, user.client_id, {
    scope: 'mcp mcp:read tools',
    resource: MCP,
  });
  const exchanger: oauth.Client = { client_id: EXCHANGER };
  const auth = oauth.PrivateKeyJwt({ key: key.privateKey, kid: key.kid });
  const exchange = async (parameters: Record<string, string>, client = exchanger, clientAuth = auth) => {
    client[oauth.clockSkew] = skew;
    const response = await oauth.genericTokenEndpointRequest(
      ctx.as,
      client,
      clientAuth,
      TOKEN_EXCHANGE_GRANT_TYPE,
      { subject_token: subject.access_token, subject_token_type: ACCESS_TOKEN_TYPE, ...parameters },
      ctx.options,
    );
    return oauth.processGenericTokenEndpointResponse(ctx.as, client, response);
  };
  const at = (resource: string, token: string) =>
    ctx.server.authenticate(new Request(resource, { headers: { authorization: `Bearer ${token}` } }));
  const advance = (seconds: number) => {
    skew += seconds;
  };
  return { ...ctx, user, subject, exchange, at, advance, events, auth };
}

describe('tokenExchange()', () => {
  it('exchanges a token for /mcp for one for /tools, same user, never wider, with act', async () => {
    const { exchange, at, subject, as, options, auth, user, events } = await setup();
    const exchanged = await exchange({ resource: TOOLS });
    expect(exchanged).toMatchObject({
      token_type: 'bearer',
      issued_token_type: ACCESS_TOKEN_TYPE,
      scope: 'mcp:read tools',
    });
    // RFC 8693 §2.2.1: no refresh token here.
    expect(exchanged.refresh_token).toBeUndefined();
    expect(exchanged.expires_in).toBeLessThanOrEqual(subject.expires_in);

    const there = await at(TOOLS, exchanged.access_token);
    expect(there.ok && there.info).toMatchObject({
      clientId: EXCHANGER,
      resource: TOOLS,
      scopes: ['mcp:read', 'tools'],
      act: { sub: EXCHANGER },
    });
    const original = await at(MCP, subject.access_token);
    expect(there.ok && original.ok && there.info.userId).toBe(original.ok && original.info.userId);
    expect((await at(MCP, exchanged.access_token)).ok).toBe(false);

    const introspected = await oauth.processIntrospectionResponse(
      as,
      { client_id: EXCHANGER },
      await oauth.introspectionRequest(as, { client_id: EXCHANGER }, auth, exchanged.access_token, options),
    );
    expect(introspected).toMatchObject({
      active: true,
      aud: TOOLS,
      client_id: EXCHANGER,
      act: { sub: EXCHANGER },
    });
    expect(events).toContainEqual(
      expect.objectContaining({
        type: 'token_issued',
        grantType: TOKEN_EXCHANGE_GRANT_TYPE,
        clientId: EXCHANGER,
      }),
    );
    void user;
  });

  it('narrows to the requested scope; audience names the target too', async () => {
    const { exchange } = await setup();
    expect((await exchange({ audience: TOOLS, scope: 'tools' })).scope).toBe('tools');
    expect((await exchange({ resource: TOOLS, audience: TOOLS, scope: 'mcp:read' })).scope).toBe('mcp:read');
  });

  it('nests the subject token’s actor when an exchanged token is exchanged again (RFC 8693 §4.1)', async () => {
    const { exchange, at } = await setup();
    const first = await exchange({ resource: MCP, scope: 'mcp' });
    const firstInfo = await at(MCP, first.access_token);
    expect(firstInfo.ok && firstInfo.info.act).toEqual({ sub: EXCHANGER });
    const second = await exchange({ resource: MCP, subject_token: first.access_token });
    const info = await at(MCP, second.access_token);
    expect(info.ok && info.info.act).toEqual({ sub: EXCHANGER, act: { sub: EXCHANGER } });
  });

  it('names the actor_token’s subject as the actor; an actor token of another client is refused', async () => {
    const { exchange, at, subject } = await setup();
    const own = await exchange({ resource: MCP, scope: 'mcp' });
    const delegated = await exchange({
      resource: TOOLS,
      actor_token: own.access_token,
      actor_token_type: ACCESS_TOKEN_TYPE,
    });
    const info = await at(TOOLS, delegated.access_token);
    const ownInfo = await at(MCP, own.access_token);
    expect(info.ok && info.info.act).toEqual({ sub: ownInfo.ok && ownInfo.info.userId });
    const foreign = await oauthError(
      exchange({ resource: TOOLS, actor_token: subject.access_token, actor_token_type: ACCESS_TOKEN_TYPE }),
    );
    expect(foreign).toMatchObject({ error: 'invalid_grant' });
    expect(foreign.description).toContain('actor token was not issued to this client');
  });

  it.each([
    ['a scope the subject token lacks', { resource: TOOLS, scope: 'tools admin' }, 'invalid_scope'],
    ['a scope the target does not accept', { resource: TOOLS, scope: 'mcp' }, 'invalid_scope'],
    ['a target without a common scope', { resource: `${ISSUER}/admin` }, 'invalid_scope'],
    ['a target that is not configured', { resource: 'https://elsewhere.example.com/mcp' }, 'invalid_target'],
    ['resource and audience that differ', { resource: TOOLS, audience: MCP }, 'invalid_target'],
    ['no target', {}, 'invalid_request'],
    ['no subject_token', { resource: TOOLS, subject_token: '' }, 'invalid_request'],
    [
      'another subject_token_type',
      { resource: TOOLS, subject_token_type: 'urn:ietf:params:oauth:token-type:jwt' },
      'invalid_request',
    ],
    [
      'another requested_token_type',
      { resource: TOOLS, requested_token_type: 'urn:ietf:params:oauth:token-type:refresh_token' },
      'invalid_request',
    ],
    ['an actor_token without its type', { resource: TOOLS, actor_token: 'pcat_x' }, 'invalid_request'],
    [
      'a foreign subject token',
      { resource: TOOLS, subject_token: 'eyJhbGciOiJSUzI1NiJ9.e30.c2ln' },
      'invalid_grant',
    ],
    [
      'an unknown actor token',
      { resource: TOOLS, actor_token: 'pcat_unknown', actor_token_type: ACCESS_TOKEN_TYPE },
      'invalid_grant',
    ],
  ])('refuses %s', async (_name, parameters, error) => {
    const { exchange } = await setup();
    const refused = await oauthError(exchange(parameters as Record<string, string>));
    expect(refused).toMatchObject({ error, status: 400 });
    expect(refused.description.length).toBeGreaterThan(10);
  });

  it('refuses an expired subject token with invalid_grant', async () => {
    const { exchange, advance } = await setup();
    advance(3601);
    expect(await oauthError(exchange({ resource: TOOLS }))).toMatchObject({ error: 'invalid_grant' });
  });

  it('refuses a revoked subject token, and revoking the grant kills exchanged tokens', async () => {
    const { exchange, at, server, subject, user } = await setup();
    const exchanged = await exchange({ resource: TOOLS });
    const revoke = await server.fetch(
      new Request(`${ISSUER}/revoke`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token: subject.refresh_token, client_id: user.client_id }),
      }),
    );
    expect(revoke.status).toBe(200);
    expect((await at(TOOLS, exchanged.access_token)).ok).toBe(false);
    expect(await oauthError(exchange({ resource: TOOLS }))).toMatchObject({ error: 'invalid_grant' });
  });

  it('refuses a subject token issued for another resource than the exchanger is', async () => {
    const { exchange, server } = await setup();
    const other = await register(server.fetch, { token_endpoint_auth_method: 'none' });
    const forTools = await issueTokens(server.fetch, other.client_id, { scope: 'tools', resource: TOOLS });
    const refused = await oauthError(exchange({ resource: MCP, subject_token: forTools.access_token }));
    expect(refused).toMatchObject({ error: 'invalid_grant' });
  });

  it('refuses clients that are not exchangers, or public, with unauthorized_client', async () => {
    const { exchange, server } = await setup();
    const stranger = await register(server.fetch, {
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: [TOKEN_EXCHANGE_GRANT_TYPE],
      redirect_uris: undefined,
    });
    const notListed = await oauthError(
      exchange(
        { resource: TOOLS },
        { client_id: stranger.client_id },
        oauth.ClientSecretBasic(stranger.client_secret!),
      ),
    );
    expect(notListed).toMatchObject({ error: 'unauthorized_client', status: 400 });
    const publicClient = await register(server.fetch, {
      token_endpoint_auth_method: 'none',
      grant_types: [TOKEN_EXCHANGE_GRANT_TYPE],
      redirect_uris: undefined,
    });
    const unauthenticated = await oauthError(
      exchange({ resource: TOOLS }, { client_id: publicClient.client_id }, oauth.None()),
    );
    expect(unauthenticated).toMatchObject({ error: 'unauthorized_client' });
    const { body } = await registerClient(server.fetch, { token_endpoint_auth_method: 'none' });
    const notRegistered = await oauthError(
      exchange({ resource: TOOLS }, { client_id: body.client_id! }, oauth.None()),
    );
    expect(notRegistered).toMatchObject({ error: 'unauthorized_client' });
  });

  it('limits an exchanger to its targets', async () => {
    const { exchange } = await setup({
      exchangers: [{ clientId: EXCHANGER, resource: MCP, targets: [MCP] }],
    });
    expect((await exchange({ resource: MCP, scope: 'mcp' })).scope).toBe('mcp');
    expect(await oauthError(exchange({ resource: TOOLS }))).toMatchObject({ error: 'invalid_target' });
  });

  it('lets one exchanger be several resources, each with its own targets', async () => {
    const { exchange, server } = await setup({
      exchangers: [
        { clientId: EXCHANGER, resource: MCP, targets: [MCP] },
        { clientId: EXCHANGER, resource: TOOLS, targets: [MCP] },
      ],
    });
    const other = await register(server.fetch, { token_endpoint_auth_method: 'none' });
    const forTools = await issueTokens(server.fetch, other.client_id, { scope: 'mcp:read', resource: TOOLS });
    expect((await exchange({ resource: MCP, subject_token: forTools.access_token })).scope).toBe('mcp:read');
    expect(await oauthError(exchange({ resource: TOOLS }))).toMatchObject({ error: 'invalid_target' });
  });

  it('lets the policy refuse or narrow, and tells it who asks for what', async () => {
    const seen: unknown[] = [];
    const { exchange } = await setup({
      policy: (request) => {
        seen.push(request);
        if (request.resource === TOOLS) return { scopes: ['tools'] };
        return false;
      },
    });
    expect((await exchange({ resource: TOOLS })).scope).toBe('tools');
    expect(seen[0]).toMatchObject({
      clientId: EXCHANGER,
      resource: TOOLS,
      scopes: ['mcp:read', 'tools'],
      subject: { resource: MCP, scopes: ['mcp', 'mcp:read', 'tools'] },
      act: { sub: EXCHANGER },
    });
    expect(await oauthError(exchange({ resource: MCP }))).toMatchObject({ error: 'invalid_target' });
  });

  it('refuses to be made without exchangers or a policy', () => {
    expect(() => tokenExchange({})).toThrow(/exchangers, a policy/);
  });
});
