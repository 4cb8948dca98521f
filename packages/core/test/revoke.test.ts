import { describe, expect, it } from 'vitest';
import { ISSUER, issueTokens, makeServer, registerClient } from './helpers.js';

async function setup(metadata: Record<string, unknown> = {}) {
  const ctx = makeServer();
  const { body: client } = await registerClient(ctx.server.fetch, metadata);
  const secretForm: Record<string, string> = client.client_secret
    ? { client_secret: client.client_secret }
    : {};
  const tokens = await issueTokens(ctx.server.fetch, client.client_id!, {}, secretForm);
  const post = (path: string, form: Record<string, string>) =>
    ctx.server.fetch(
      new Request(`${ISSUER}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ client_id: client.client_id!, ...secretForm, ...form }),
      }),
    );
  const valid = async (token: string) =>
    (
      await ctx.server.authenticate(
        new Request(`${ISSUER}/mcp`, { headers: { authorization: `Bearer ${token}` } }),
      )
    ).ok;
  return { ...ctx, client, tokens, post, valid };
}

describe('RFC 7009 revocation', () => {
  it('revokes an access token only', async () => {
    const { post, tokens, valid, events } = await setup();
    expect(
      (await post('/revoke', { token: tokens.access_token, token_type_hint: 'access_token' })).status,
    ).toBe(200);
    expect(await valid(tokens.access_token)).toBe(false);
    expect(events.some((e) => e.type === 'token_revoked')).toBe(true);
  });

  it('revoking a refresh token revokes its grant, access tokens included (§2.1)', async () => {
    const { post, tokens, valid } = await setup();
    expect(
      (await post('/revoke', { token: tokens.refresh_token, token_type_hint: 'access_token' })).status,
    ).toBe(200);
    expect(await valid(tokens.access_token)).toBe(false);
  });

  it('answers 200 for unknown tokens and ignores unknown hints (§2.2)', async () => {
    const { post } = await setup();
    expect((await post('/revoke', { token: 'pcat_unknown', token_type_hint: 'weird' })).status).toBe(200);
  });

  it('refuses to revoke a token of another client and requires client authentication', async () => {
    const { server, post, tokens, valid } = await setup();
    const other = (await registerClient(server.fetch)).body;
    const response = await post('/revoke', { token: tokens.access_token, client_id: other.client_id! });
    expect(response.status).toBe(400);
    expect((await response.json()).error).toBe('unauthorized_client');
    expect(await valid(tokens.access_token)).toBe(true);
    const anonymous = await server.fetch(
      new Request(`${ISSUER}/revoke`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token: tokens.access_token }),
      }),
    );
    expect(anonymous.status).toBe(401);
    expect((await post('/revoke', {})).status).toBe(400);
  });
});

describe('RFC 7662 introspection', () => {
  it('describes active tokens to the confidential client they belong to', async () => {
    const { post, tokens, client } = await setup({ token_endpoint_auth_method: 'client_secret_post' });
    const body = await (await post('/introspect', { token: tokens.access_token })).json();
    expect(body).toMatchObject({
      active: true,
      client_id: client.client_id,
      sub: 'owner',
      scope: 'mcp',
      aud: `${ISSUER}/mcp`,
      iss: ISSUER,
    });
    await post('/revoke', { token: tokens.access_token });
    expect(await (await post('/introspect', { token: tokens.access_token })).json()).toEqual({
      active: false,
    });
  });

  it('refuses public clients', async () => {
    const { post, tokens } = await setup();
    expect((await post('/introspect', { token: tokens.access_token })).status).toBe(401);
  });
});
