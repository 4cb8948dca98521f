/**
 * Registered clients that are never used expire (`registration.unusedClientLifetime`): each use of a
 * client pushes its expiry out, written at most once a day; cleanup deletes the expired ones.
 */
import { MemoryStorage, type RecordKind } from '@portcullis/core';
import { describe, expect, it } from 'vitest';
import {
  authorizeUrl,
  Browser,
  issueTokens,
  makeServer,
  manualClock,
  registerClient,
  tokenRequest,
} from './helpers.js';

const DAY = 86_400_000;
const options = { lifetimes: { refreshToken: 86_400 }, registration: { unusedClientLifetime: 2 * 86_400 } };

/** A memory storage that counts writes of client records and can run a hook before one lands. */
class WatchedStorage extends MemoryStorage {
  clientWrites = 0;
  beforeClientWrite?: (key: string, value: string) => Promise<void>;

  override async put(kind: RecordKind, key: string, value: string, expiresAt: number | null) {
    if (kind === 'client' && !key.includes('#')) {
      this.clientWrites++;
      const hook = this.beforeClientWrite;
      this.beforeClientWrite = undefined;
      await hook?.(key, value);
    }
    return super.put(kind, key, value, expiresAt);
  }
}

function setup(overrides = {}) {
  const clock = manualClock();
  const storage = new WatchedStorage({ now: clock.now });
  const ctx = makeServer({ storage, now: clock.now, ...options, ...overrides });
  return { ...ctx, storage, clock };
}

const pageFor = async (server: { fetch: (r: Request) => Promise<Response> }, clientId: string) =>
  (await new Browser(server.fetch).fetch(await authorizeUrl(clientId))).status;

describe('unused registered clients expire', () => {
  it('a client never used is deleted by cleanup after the unused lifetime; a used one is kept', async () => {
    const { server, storage, clock } = setup();
    const { body: used } = await registerClient(server.fetch);
    const { body: idle } = await registerClient(server.fetch, { client_name: 'Idle' });
    clock.advance(1.5 * DAY);
    expect(await pageFor(server, used.client_id!)).toBe(200);
    clock.advance(0.5 * DAY + 1000);
    expect(await server.cleanup()).toBeGreaterThan(0);
    expect(await storage.get('client', idle.client_id!)).toBeNull();
    expect(await pageFor(server, idle.client_id!)).toBe(400);
    expect(await pageFor(server, used.client_id!)).toBe(200);
  });

  it('records the last use at most once a day, not at every request', async () => {
    const { server, storage, clock } = setup({
      registration: { unusedClientLifetime: 20 * 86_400 },
    });
    const { body } = await registerClient(server.fetch);
    const tokens = await issueTokens(server.fetch, body.client_id!);
    expect(storage.clientWrites).toBe(1); // the registration; a fresh client is not rewritten
    let refresh = tokens.refresh_token;
    for (let step = 0; step < 6; step++) {
      clock.advance(DAY / 2);
      for (let i = 0; i < 3; i++) {
        const response = await tokenRequest(server.fetch, {
          grant_type: 'refresh_token',
          refresh_token: refresh,
          client_id: body.client_id!,
        });
        expect(response.status).toBe(200);
        refresh = (await response.json()).refresh_token;
      }
    }
    // 18 uses over 3 days: one write on each of days 1, 2 and 3.
    expect(storage.clientWrites).toBe(1 + 3);
    const stored = await storage.get('client', body.client_id!);
    expect(JSON.parse(stored!.value).lastUsedAt).toBe(Math.floor(clock.now() / 1000));
    expect(stored!.expiresAt).toBe(clock.now() + 20 * DAY);
  });

  it('a client deleted while its use is being recorded stays deleted (RFC 7592 §2.3)', async () => {
    const { server, storage, clock } = setup();
    const { body } = await registerClient(server.fetch);
    clock.advance(DAY + 1000);
    // The use is recorded after the client was read; the owner deletes it in between.
    storage.beforeClientWrite = async () => {
      const deleted = await server.fetch(
        new Request(body.registration_client_uri!, {
          method: 'DELETE',
          headers: { authorization: `Bearer ${body.registration_access_token}` },
        }),
      );
      expect(deleted.status).toBe(204);
    };
    await pageFor(server, body.client_id!);
    expect(storage.beforeClientWrite).toBeUndefined();
    expect(await storage.get('client', body.client_id!)).toBeNull();
    expect(await pageFor(server, body.client_id!)).toBe(400);
  });

  it('an update made while a use is being recorded is kept (RFC 7592 §2.2)', async () => {
    const { server, storage, clock } = setup();
    const { body } = await registerClient(server.fetch);
    clock.advance(DAY + 1000);
    storage.beforeClientWrite = async () => {
      const put = await server.fetch(
        new Request(body.registration_client_uri!, {
          method: 'PUT',
          headers: {
            authorization: `Bearer ${body.registration_access_token}`,
            'content-type': 'application/json',
          },
          body: JSON.stringify({
            client_id: body.client_id,
            client_name: 'Renamed',
            redirect_uris: ['https://client.example.com/callback'],
            token_endpoint_auth_method: 'none',
          }),
        }),
      );
      expect(put.status).toBe(200);
    };
    await pageFor(server, body.client_id!);
    expect(storage.beforeClientWrite).toBeUndefined();
    const stored = JSON.parse((await storage.get('client', body.client_id!))!.value);
    expect(stored.clientName).toBe('Renamed');
  });

  it('keeps clients forever with unusedClientLifetime 0', async () => {
    const { server, storage, clock } = setup({ registration: { unusedClientLifetime: 0 } });
    const { body } = await registerClient(server.fetch);
    clock.advance(3650 * DAY);
    await server.cleanup();
    expect(await storage.get('client', body.client_id!)).not.toBeNull();
  });

  it('defaults to 90 days', async () => {
    const { server, storage, clock } = setup({ lifetimes: {}, registration: {} });
    const { body } = await registerClient(server.fetch);
    clock.advance(90 * DAY - 1000);
    expect(await storage.get('client', body.client_id!)).not.toBeNull();
    clock.advance(2000);
    expect(await storage.get('client', body.client_id!)).toBeNull();
  });
});
