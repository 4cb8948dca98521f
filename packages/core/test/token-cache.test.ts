import { describe, expect, it } from 'vitest';
import { ISSUER, issueTokens, makeServer, registerClient, tokenRequest } from './helpers.js';

async function setup(overrides = {}) {
  const ctx = makeServer({ tokenCache: { ttlSeconds: 2 }, ...overrides });
  const { body: client } = await registerClient(ctx.server.fetch);
  const tokens = await issueTokens(ctx.server.fetch, client.client_id!);
  const valid = async (token = tokens.access_token as string, path = '/mcp') =>
    (
      await ctx.server.authenticate(
        new Request(`${ISSUER}${path}`, { headers: { authorization: `Bearer ${token}` } }),
      )
    ).ok;
  const sha = async (value: string) =>
    Buffer.from(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(value))).toString('base64url');
  return { ...ctx, client, tokens, valid, sha };
}

describe('token cache', () => {
  it('serves repeat verifications from memory for at most ttlSeconds after another instance revokes', async () => {
    const { valid, storage, tokens, clock, sha } = await setup();
    expect(await valid()).toBe(true);
    // Another instance sharing the storage deletes the token record behind this one's back.
    await storage.delete('access', await sha(tokens.access_token));
    expect(await valid()).toBe(true);
    clock.advance(2000);
    expect(await valid()).toBe(false);
  });

  it('revocations through this instance take effect at once', async () => {
    const { server, valid, tokens, client } = await setup();
    expect(await valid()).toBe(true);
    const revoke = (token: string) =>
      server.fetch(
        new Request(`${ISSUER}/revoke`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ token, client_id: client.client_id! }),
        }),
      );
    await revoke(tokens.access_token);
    expect(await valid()).toBe(false);
  });

  it('refresh reuse revokes cached tokens of the grant at once', async () => {
    const { server, valid, tokens, client } = await setup({ reuseIntervalSeconds: 0 });
    const refresh = (token: string) =>
      tokenRequest(server.fetch, {
        grant_type: 'refresh_token',
        refresh_token: token,
        client_id: client.client_id!,
      });
    const next = await (await refresh(tokens.refresh_token)).json();
    expect(await valid(next.access_token)).toBe(true);
    expect((await refresh(tokens.refresh_token)).status).toBe(400);
    expect(await valid(next.access_token)).toBe(false);
  });

  it('still checks the resource and expiry on cached tokens', async () => {
    const { valid, clock } = await setup({ resources: [{ path: '/mcp' }, { path: '/admin' }] });
    expect(await valid()).toBe(true);
    expect(await valid(undefined, '/admin')).toBe(false);
    clock.advance(3600_000);
    expect(await valid()).toBe(false);
  });

  it('refuses a cache TTL over 5 seconds', async () => {
    expect(() => makeServer({ tokenCache: { ttlSeconds: 60 } })).toThrow(/tokenCache.ttlSeconds/);
  });
});
