/**
 * `enterpriseManagedAuthorization()`: the MCP Enterprise-Managed Authorization extension (the RFC 7523
 * jwt-bearer grant with an ID-JAG of a trusted IdP), driven by oauth4webapi's generic token endpoint
 * request; the IdP signs real ID-JAGs with jose and publishes its keys at a jwks_uri.
 */
import type { PortcullisEvent } from '@portcullis/core';
import {
  type EnterpriseManagedAuthorizationOptions,
  enterpriseManagedAuthorization,
  ID_JAG_GRANT_PROFILE,
  JWT_BEARER_GRANT_TYPE,
} from '@portcullis/core/extensions';
import { SignJWT } from 'jose';
import * as oauth from 'oauth4webapi';
import { describe, expect, it } from 'vitest';
import { makeServer } from '../helpers.js';
import { discover, ISSUER, json, keyPair, oauthError, register, serverWith } from './support.js';

const IDP = 'https://idp.example.com';
const IDP_JWKS = `${IDP}/jwks`;
const MCP = `${ISSUER}/mcp`;
const TOOLS = `${ISSUER}/tools`;

type Claims = Record<string, unknown>;

/** A server trusting one IdP, a client registered for the grant, and an ID-JAG signer. */
async function setup(options: Partial<EnterpriseManagedAuthorizationOptions> = {}) {
  const idpKey = await keyPair('ES256', 'idp-1');
  const fetched: string[] = [];
  const events: PortcullisEvent[] = [];
  const ctx = await serverWith({
    extensions: [
      enterpriseManagedAuthorization({
        trustedIssuers: [{ issuer: IDP, jwksUri: IDP_JWKS }],
        fetch: async (url) => {
          fetched.push(url);
          return json({ keys: [idpKey.publicJwk] });
        },
        ...options,
      }),
    ],
    now: Date.now,
    scopes: { supported: ['mcp', 'mcp:read', 'tools'] },
    resources: [{ path: '/mcp' }, { path: '/tools', scopes: ['tools'] }],
    onEvent: (e) => void events.push(e),
  });
  const registered = await register(ctx.server.fetch, {
    token_endpoint_auth_method: 'none',
    grant_types: [JWT_BEARER_GRANT_TYPE],
    redirect_uris: undefined,
  });
  const client: oauth.Client = { client_id: registered.client_id };
  const now = () => Math.floor(Date.now() / 1000);
  /** An ID-JAG as the IdP would issue it for this client; `claims` overrides, `header` too. */
  const idJag = (claims: Claims = {}, header: Claims = {}, key = idpKey.privateKey) =>
    new SignJWT({
      iss: IDP,
      sub: 'U019488227',
      aud: ISSUER,
      client_id: client.client_id,
      resource: MCP,
      scope: 'mcp mcp:read',
      email: 'ada@example.com',
      jti: crypto.randomUUID(),
      iat: now(),
      exp: now() + 120,
      ...claims,
    })
      .setProtectedHeader({ alg: 'ES256', kid: idpKey.kid, typ: 'oauth-id-jag+jwt', ...header })
      .sign(key);
  const redeem = async (assertion: string, parameters: Record<string, string> = {}, who = client) =>
    oauth.processGenericTokenEndpointResponse(
      ctx.as,
      who,
      await oauth.genericTokenEndpointRequest(
        ctx.as,
        who,
        oauth.None(),
        JWT_BEARER_GRANT_TYPE,
        { assertion, ...parameters },
        ctx.options,
      ),
    );
  const at = (resource: string, token: string) =>
    ctx.server.authenticate(new Request(resource, { headers: { authorization: `Bearer ${token}` } }));
  return { ...ctx, client, idJag, redeem, at, fetched, events, idpKey, now };
}

describe('enterpriseManagedAuthorization()', () => {
  it('issues a token for the ID-JAG’s user, resource and scopes, without a refresh token', async () => {
    const { redeem, idJag, at, client, fetched, events } = await setup();
    const tokens = await redeem(await idJag());
    expect(tokens).toMatchObject({ token_type: 'bearer', scope: 'mcp mcp:read' });
    expect(tokens.refresh_token).toBeUndefined();
    const info = await at(MCP, tokens.access_token);
    expect(info.ok && info.info).toMatchObject({
      userId: 'U019488227',
      email: 'ada@example.com',
      clientId: client.client_id,
      resource: MCP,
      scopes: ['mcp', 'mcp:read'],
    });
    expect((await at(TOOLS, tokens.access_token)).ok).toBe(false);
    await redeem(await idJag());
    expect(fetched).toEqual([IDP_JWKS]);
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'authorization_granted', userId: 'U019488227', resource: MCP }),
    );
  });

  it('grants the intersection of the requested scopes and the ID-JAG’s (MCP EMA §7.2.1)', async () => {
    const { redeem, idJag } = await setup();
    expect((await redeem(await idJag(), { scope: 'mcp:read tools' })).scope).toBe('mcp:read');
    expect((await redeem(await idJag({ scope: undefined }), { scope: 'mcp' })).scope).toBe('mcp');
    // offline_access alone names no resource scope: the ID-JAG's scopes.
    expect((await redeem(await idJag(), { scope: 'offline_access' })).scope).toBe('mcp mcp:read');
    const refused = await oauthError(redeem(await idJag({ scope: 'mcp:read' }), { scope: 'tools' }));
    expect(refused).toMatchObject({ error: 'invalid_scope' });
  });

  it('honours the resource claim: a resource parameter must be one of its resources', async () => {
    const { redeem, idJag, at } = await setup();
    const both = await idJag({ resource: [MCP, TOOLS], scope: 'tools' });
    const tools = await redeem(both, { resource: TOOLS });
    expect((await at(TOOLS, tools.access_token)).ok).toBe(true);
    expect(await oauthError(redeem(await idJag({ resource: [MCP, TOOLS] })))).toMatchObject({
      error: 'invalid_target',
    });
    expect(await oauthError(redeem(await idJag(), { resource: TOOLS }))).toMatchObject({
      error: 'invalid_target',
    });
    expect(
      await oauthError(redeem(await idJag({ resource: 'https://other.example.com/mcp' }))),
    ).toMatchObject({ error: 'invalid_target' });
  });

  it.each<[string, Claims, Claims, string]>([
    ['another typ (an ID token)', {}, { typ: 'JWT' }, "'typ'"],
    ['an untrusted issuer', { iss: 'https://evil.example.com' }, {}, 'trusted'],
    ['another audience', { aud: 'https://other-as.example.com' }, {}, 'audience'],
    ['another client_id', { client_id: 'someone-else' }, {}, 'client_id'],
    [
      'an expired ID-JAG',
      { exp: Math.floor(Date.now() / 1000) - 120, iat: Math.floor(Date.now() / 1000) - 300 },
      {},
      'expired',
    ],
    ['an exp too far ahead', { exp: Math.floor(Date.now() / 1000) + 3600 }, {}, 'too far'],
    ['no iat', { iat: undefined }, {}, "'iat'"],
    ['no jti', { jti: undefined }, {}, "'jti'"],
    ['no sub', { sub: undefined }, {}, "'sub'"],
    ['an unknown kid', {}, { kid: 'idp-unknown' }, 'key'],
  ])('refuses %s with invalid_grant', async (_name, claims, header, reason) => {
    const { redeem, idJag } = await setup();
    const refused = await oauthError(redeem(await idJag(claims, header)));
    expect(refused).toMatchObject({ error: 'invalid_grant', status: 400 });
    expect(refused.description).toContain(reason);
  });

  it('refuses a forged signature and a replayed jti with invalid_grant', async () => {
    const { redeem, idJag } = await setup();
    const forger = await keyPair('ES256');
    const forged = await oauthError(redeem(await idJag({}, {}, forger.privateKey)));
    expect(forged).toMatchObject({ error: 'invalid_grant' });
    expect(forged.description).toContain('signature');
    const once = await idJag();
    await redeem(once);
    const replayed = await oauthError(redeem(once));
    expect(replayed).toMatchObject({ error: 'invalid_grant' });
    expect(replayed.description).toContain('already used');
  });

  it('refuses a missing assertion with invalid_request and a client that did not register the grant', async () => {
    const { redeem, idJag, server } = await setup();
    expect(await oauthError(redeem(''))).toMatchObject({ error: 'invalid_request' });
    const other = await register(server.fetch, { token_endpoint_auth_method: 'none' });
    const refused = await oauthError(
      redeem(await idJag({ client_id: other.client_id }), {}, { client_id: other.client_id }),
    );
    expect(refused).toMatchObject({ error: 'unauthorized_client' });
  });

  it('maps the IdP subject with mapIdentity, which may refuse', async () => {
    const { redeem, idJag, at } = await setup({
      mapIdentity: (jag) =>
        jag.claims.email === 'ada@example.com' ? { userId: `acme:${jag.subject}`, name: 'Ada' } : null,
    });
    const tokens = await redeem(await idJag());
    const info = await at(MCP, tokens.access_token);
    expect(info.ok && info.info).toMatchObject({ userId: 'acme:U019488227', name: 'Ada' });
    const refused = await oauthError(redeem(await idJag({ email: 'mallory@example.com' })));
    expect(refused).toMatchObject({ error: 'invalid_grant' });
  });

  it('advertises the grant and the ID-JAG profile only when installed', async () => {
    const { as } = await setup();
    expect(as.grant_types_supported).toContain(JWT_BEARER_GRANT_TYPE);
    expect(as.authorization_grant_profiles_supported).toEqual([ID_JAG_GRANT_PROFILE]);
    const plain = await discover(makeServer().server);
    expect(plain.grant_types_supported).not.toContain(JWT_BEARER_GRANT_TYPE);
    expect(plain.authorization_grant_profiles_supported).toBeUndefined();
  });

  it('refuses unsafe configurations', () => {
    const idp = { issuer: IDP, jwksUri: IDP_JWKS };
    expect(() => enterpriseManagedAuthorization({ trustedIssuers: [] })).toThrow(/empty/);
    expect(() =>
      enterpriseManagedAuthorization({
        trustedIssuers: [idp, { issuer: 'https://idp2.example.com', jwksUri: IDP_JWKS }],
      }),
    ).toThrow(/mapIdentity/);
    expect(() =>
      enterpriseManagedAuthorization({ trustedIssuers: [{ issuer: IDP, jwksUri: 'https://10.0.0.1/jwks' }] }),
    ).toThrow(/public/);
    expect(() => enterpriseManagedAuthorization({ trustedIssuers: [{ issuer: IDP }] })).toThrow(
      /exactly one/,
    );
    expect(() =>
      makeServer({
        extensions: [
          enterpriseManagedAuthorization({ trustedIssuers: [{ issuer: ISSUER, jwksUri: IDP_JWKS }] }),
        ],
      }),
    ).toThrow(/cannot be this issuer/);
  });
});
