import { createAuthorizationServer, createManagement, type Storage } from '@portcullis/core';
import { pinUpstream } from '@portcullis/core/upstreams';
import { describe, expect, it } from 'vitest';
import { ISSUER, issueTokens, makeServer, PIN, registerClient, SECRET } from './helpers.js';

async function setup() {
  const ctx = makeServer();
  const management = createManagement({
    issuer: ISSUER,
    storage: ctx.storage,
    upstream: pinUpstream({ pin: PIN }),
    secret: SECRET,
    now: ctx.clock.now,
    onEvent: (e) => void ctx.events.push(e),
  });
  const { body: a } = await registerClient(ctx.server.fetch, { client_name: 'Alpha' });
  const { body: b } = await registerClient(ctx.server.fetch, {
    client_name: 'Beta',
    redirect_uris: ['https://beta.example.com/cb'],
  });
  const valid = async (token: string) =>
    (
      await ctx.server.authenticate(
        new Request(`${ISSUER}/mcp`, { headers: { authorization: `Bearer ${token}` } }),
      )
    ).ok;
  return { ...ctx, management, a: a.client_id!, b: b.client_id!, valid };
}

describe('management', () => {
  it('lists registered clients with their metadata and never a secret', async () => {
    const { management, a, b } = await setup();
    const clients = await management.clients();
    expect(clients.map((c) => c.clientId).sort()).toEqual([a, b].sort());
    expect(clients.find((c) => c.clientId === a)?.clientName).toBe('Alpha');
    expect(JSON.stringify(clients)).not.toMatch(/secretHash|registrationTokenHash|pcs_|pcrg_/);
  });

  it('lists grants by user and by client through the index, and revokes a user at once', async () => {
    const { management, a, b, server, valid, events } = await setup();
    const ta = await issueTokens(server.fetch, a);
    const tb = await issueTokens(server.fetch, b, { redirect_uri: 'https://beta.example.com/cb' });
    const all = await management.grants();
    expect(all).toHaveLength(2);
    const user = all[0]!.userId;
    expect(await management.grants({ userId: user })).toHaveLength(2);
    expect((await management.grants({ clientId: a })).map((g) => g.clientId)).toEqual([a]);
    expect(await management.grants({ userId: 'nobody' })).toEqual([]);
    expect(await valid(ta.access_token)).toBe(true);
    expect(await management.revokeUser(user)).toBe(2);
    expect(await valid(ta.access_token)).toBe(false);
    expect(await valid(tb.access_token)).toBe(false);
    expect(await management.grants()).toEqual([]);
    expect(events.filter((e) => e.type === 'grant_revoked')).toHaveLength(2);
  });

  it('revokes one client and leaves the other', async () => {
    const { management, a, b, server, valid } = await setup();
    const ta = await issueTokens(server.fetch, a);
    const tb = await issueTokens(server.fetch, b, { redirect_uri: 'https://beta.example.com/cb' });
    expect(await management.revokeClient(a)).toBe(1);
    expect(await valid(ta.access_token)).toBe(false);
    expect(await valid(tb.access_token)).toBe(true);
    const [grant] = await management.grants({ clientId: b });
    expect(await management.revokeGrant(grant!.id)).toBe(true);
    expect(await management.revokeGrant(grant!.id)).toBe(false);
    expect(await valid(tb.access_token)).toBe(false);
  });

  it('deletes a client with its grants', async () => {
    const { management, a, server, valid } = await setup();
    const ta = await issueTokens(server.fetch, a);
    expect(await management.deleteClient(a)).toEqual({ deleted: true, grantsRevoked: 1 });
    expect(await valid(ta.access_token)).toBe(false);
    expect((await management.clients()).map((c) => c.clientId)).not.toContain(a);
    expect(await management.deleteClient(a)).toEqual({ deleted: false, grantsRevoked: 0 });
  });

  it('finds grants written before the index existed when revoking, and purges dangling index entries', async () => {
    const { management, a, server, storage, valid } = await setup();
    const ta = await issueTokens(server.fetch, a);
    // An older grant without index entries: drop them behind the server's back.
    for (const entry of (await storage.list!('index')).records) await storage.delete('index', entry.key);
    expect(await management.grants({ clientId: a })).toEqual([]);
    expect(await management.revokeClient(a)).toBe(1);
    expect(await valid(ta.access_token)).toBe(false);
    // A dangling entry (its grant never written) is ignored, then purged.
    await storage.put('index', 'grant-user:x:missing', 'missing', null);
    expect(await management.grants({ userId: 'x' })).toEqual([]);
    expect((await management.purge()).danglingIndexEntries).toBe(1);
    expect((await storage.list!('index')).records).toEqual([]);
  });

  it('reports which secret sealed the live grants, for rotation', async () => {
    const { management, a, server, storage, clock } = await setup();
    await issueTokens(server.fetch, a);
    const next = 'next-secret-next-secret-next-secret-0123';
    const rotated = createManagement({
      issuer: ISSUER,
      storage,
      upstream: pinUpstream({ pin: PIN }),
      secret: [next, SECRET],
      now: clock.now,
    });
    const status = await rotated.secretStatus();
    expect(status.keys.map((k) => [k.current, k.grants])).toEqual([
      [true, 0],
      [false, 1],
    ]);
    expect(status.previousSecretsUnused).toBe(false);
    expect((await management.secretStatus()).previousSecretsUnused).toBe(true);
  });

  it('shows the configuration without any secret', async () => {
    const { management } = await setup();
    const view = await management.configuration();
    expect(view.issuer).toBe(ISSUER);
    expect(view.storageCanList).toBe(true);
    expect(view.secretKeyIds).toHaveLength(1);
    expect(JSON.stringify(view)).not.toContain(SECRET);
    expect(JSON.stringify(view)).not.toContain(PIN);
  });

  it('a revocation reaches an instance with a token cache within its ttlSeconds, and one without at once', async () => {
    const { management, a, server, storage, clock } = await setup();
    const cached = createAuthorizationServer({
      issuer: ISSUER,
      storage,
      upstream: pinUpstream({ pin: PIN }),
      secret: SECRET,
      now: clock.now,
      tokenCache: { ttlSeconds: 2 },
    });
    const tokens = await issueTokens(server.fetch, a);
    const check = async (on: typeof server) =>
      (
        await on.authenticate(
          new Request(`${ISSUER}/mcp`, { headers: { authorization: `Bearer ${tokens.access_token}` } }),
        )
      ).ok;
    expect(await check(cached)).toBe(true);
    expect(await management.revokeUser((await management.grants())[0]!.userId)).toBe(1);
    expect(await check(server)).toBe(false);
    // The cached instance may trust its copy for at most ttlSeconds, never longer.
    clock.advance(2000);
    expect(await check(cached)).toBe(false);
  });

  it('says clearly when the storage cannot list', async () => {
    const { storage } = await setup();
    const noList: Storage = {
      capabilities: storage.capabilities,
      get: (kind, key) => storage.get(kind, key),
      put: (kind, key, value, expiresAt) => storage.put(kind, key, value, expiresAt),
      delete: (kind, key) => storage.delete(kind, key),
      consume: (kind, key, now) => storage.consume(kind, key, now),
      increment: (kind, key, expiresAt) => storage.increment(kind, key, expiresAt),
    };
    const management = createManagement({
      issuer: ISSUER,
      storage: noList,
      upstream: pinUpstream({ pin: PIN }),
      secret: SECRET,
    });
    await expect(management.clients()).rejects.toThrow(/cannot list records/);
  });
});
