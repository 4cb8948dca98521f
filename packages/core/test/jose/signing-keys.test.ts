import { createLocalJWKSet, createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { KeyRing } from '../../src/crypto/keys.js';
import { mintAccessToken } from '../../src/jose/access-token-jwt.js';
import { createSigningKeys, type SigningKeysOptions } from '../../src/jose/signing-keys.js';
import { storageKeyStore } from '../../src/jose/storage-adapters.js';
import { MemoryStorage } from '../../src/storage/memory.js';
import { httpServer, ISSUER, keyRing, manualClock } from './helpers.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const servers: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** Shared storage and clock, and a factory of instances over them. */
function cluster(options: Partial<SigningKeysOptions> = {}) {
  const clock = manualClock();
  const storage = new MemoryStorage({ now: clock.now });
  const store = storageKeyStore(storage, { kind: 'grant' });
  const instance = (overrides: Partial<SigningKeysOptions> = {}) =>
    createSigningKeys({
      store,
      sealer: keyRing(),
      now: clock.now,
      rotateAfterSeconds: 30 * 86_400,
      publishAheadSeconds: 86_400,
      maxTokenLifetimeSeconds: 3600,
      cacheSeconds: 300,
      ...options,
      ...overrides,
    });
  return { clock, storage, store, instance };
}

const kids = async (keys: { jwks(): Promise<{ keys: { kid?: string }[] }> }) =>
  (await keys.jwks()).keys.map((k) => k.kid);

describe('signing keys', () => {
  it('creates an ES256 key on first use, sealed at rest, published with kid, alg and use', async () => {
    const { instance, storage } = cluster();
    const keys = instance();
    const current = await keys.current();
    expect(current.alg).toBe('ES256');
    const jwks = await keys.jwks();
    expect(jwks.keys).toEqual([
      expect.objectContaining({ kty: 'EC', crv: 'P-256', kid: current.kid, alg: 'ES256', use: 'sig' }),
    ]);
    expect(jwks.keys[0]).not.toHaveProperty('d');
    const stored = (await storage.get('grant', 'signing-keys'))!.value;
    expect(stored.startsWith('v1.')).toBe(true);
    expect(stored).not.toContain(current.kid);
    expect(stored).not.toContain('"d"');
  });

  it('creates EdDSA keys when asked', async () => {
    const keys = cluster({ algorithm: 'EdDSA' }).instance();
    expect((await keys.current()).alg).toBe('EdDSA');
    expect((await keys.jwks()).keys[0]).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA' });
  });

  it('publishes the next key a day before it signs, and keeps the old one until its tokens expired', async () => {
    const { instance, clock } = cluster();
    const keys = instance();
    const first = (await keys.current()).kid;
    clock.advance(29 * DAY - 1);
    expect(await kids(keys)).toEqual([first]);
    clock.advance(1); // the publish-ahead window opens
    const published = await kids(keys);
    expect(published).toHaveLength(2);
    const second = published.find((kid) => kid !== first)!;
    expect((await keys.current()).kid).toBe(first);
    clock.advance(DAY - 1); // just before the switch
    expect((await keys.current()).kid).toBe(first);
    clock.advance(1);
    expect((await keys.current()).kid).toBe(second);
    // Retired: kept for maxTokenLifetime + instance cache + skew after it stopped signing.
    clock.advance(HOUR + 300_000 + 60_000 - 1);
    expect(await kids(keys)).toEqual([first, second]);
    clock.advance(1);
    expect(await kids(keys)).toEqual([second]);
  });

  it('never signs with a key that was not published for the publish-ahead window (sampled timeline)', async () => {
    const { instance, clock } = cluster({ rotateAfterSeconds: 2 * 86_400, publishAheadSeconds: 6 * 3600 });
    const keys = instance();
    const firstSeen = new Map<string, number>();
    const initial = (await keys.current()).kid;
    for (let step = 0; step < 24 * 20; step++) {
      clock.advance(HOUR / 2 + 7_000);
      for (const kid of await kids(keys)) if (!firstSeen.has(kid!)) firstSeen.set(kid!, clock.now());
      const { kid } = await keys.current();
      if (kid !== initial) expect(clock.now() - firstSeen.get(kid)!).toBeGreaterThanOrEqual(6 * HOUR - HOUR);
    }
    expect(firstSeen.size).toBeGreaterThanOrEqual(5);
  });

  it('after a long downtime, keeps signing with the last key until a successor has been published', async () => {
    const { instance, clock } = cluster();
    const keys = instance();
    const first = (await keys.current()).kid;
    clock.advance(40 * DAY); // past the rotation date, nobody ran
    expect((await keys.current()).kid).toBe(first);
    expect(await kids(keys)).toHaveLength(2);
    clock.advance(DAY + 1);
    expect((await keys.current()).kid).not.toBe(first);
  });

  it('rotates to a key of a new algorithm, published ahead', async () => {
    const { instance, clock } = cluster();
    const es = (await instance().current()).kid;
    const ed = instance({ algorithm: 'EdDSA' });
    expect((await ed.current()).kid).toBe(es);
    expect((await ed.jwks()).keys.map((k) => k.alg)).toEqual(['ES256', 'EdDSA']);
    clock.advance(DAY + 1);
    expect((await ed.current()).alg).toBe('EdDSA');
  });

  it('agrees on one key set across eight concurrent instances over one storage, at creation and rotation', async () => {
    const { instance, clock, storage } = cluster();
    const writes: number[] = [];
    const put = storage.put.bind(storage);
    storage.put = async (kind, key, value, expiresAt) => {
      if (kind === 'grant') writes.push(clock.now());
      return put(kind, key, value, expiresAt);
    };
    const nodes = Array.from({ length: 8 }, () => instance());
    const currents = await Promise.all(nodes.map((n) => n.current()));
    expect(new Set(currents.map((c) => c.kid)).size).toBe(1);
    expect(writes).toHaveLength(1);
    clock.advance(29 * DAY + HOUR);
    const sets = await Promise.all(nodes.map((n) => n.refresh().then(() => kids(n))));
    expect(new Set(sets.map((s) => s.join())).size).toBe(1);
    expect(sets[0]).toHaveLength(2);
    expect(writes).toHaveLength(2);
  });

  it('refuses to run with a secret that cannot open the stored key set', async () => {
    const { instance } = cluster();
    await instance().current();
    const other = instance({ sealer: keyRing('another-secret-another-secret-0123456789') });
    await expect(other.current()).rejects.toMatchObject({ code: 'server_error' });
  });

  it('refuses a cache longer than a quarter of the publish-ahead window', () => {
    expect(() => cluster({ cacheSeconds: 7 * 3600 }).instance()).toThrow(TypeError);
  });

  it('lets a third party verify tokens with jose against the published JWK Set across a rotation', async () => {
    const { instance, clock } = cluster();
    const keys = instance();
    const server = await httpServer(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(await keys.jwks()));
    });
    servers.push(server);
    const mint = (subject: string) =>
      mintAccessToken(
        {
          subject,
          audience: 'https://mcp.example.com/mcp',
          clientId: 'c1',
          scopes: ['read'],
          lifetimeSeconds: 3600,
        },
        { issuer: ISSUER, keys, now: clock.now },
      );
    const verifyAt = async (token: string, remote: ReturnType<typeof createRemoteJWKSet>) =>
      jwtVerify(token, remote, {
        issuer: ISSUER,
        audience: 'https://mcp.example.com/mcp',
        typ: 'at+jwt',
        currentDate: new Date(clock.now()),
      });
    // The verifier caches the JWK Set (as third parties do) and refetches only on an unknown kid.
    const remote = createRemoteJWKSet(new URL(`${server.origin}/jwks`), {
      cacheMaxAge: 10 * DAY,
      cooldownDuration: 0,
    });
    const before = await mint('alice');
    await verifyAt(before.token, remote);
    clock.advance(29 * DAY);
    await keys.jwks(); // successor published
    clock.advance(DAY - 60_000);
    const beforeSwitch = await mint('bob');
    clock.advance(60_000);
    const after = await mint('carol');
    expect(beforeSwitch.kid).toBe(before.kid);
    expect(after.kid).not.toBe(before.kid);
    expect(decodeProtectedHeader(after.token)).toMatchObject({ typ: 'at+jwt', kid: after.kid, alg: 'ES256' });
    const { payload } = await verifyAt(after.token, remote);
    expect(payload).toMatchObject({ sub: 'carol', client_id: 'c1', scope: 'read' });
    // A token the old key signed just before the switch still verifies with the current set.
    await verifyAt(beforeSwitch.token, createRemoteJWKSet(new URL(`${server.origin}/jwks`)));
    // And with a fresh local copy of the set after the switch.
    await jwtVerify(beforeSwitch.token, createLocalJWKSet(await keys.jwks()), {
      currentDate: new Date(clock.now()),
    });
  });
});

describe('rotation ahead of schedule and with a new secret', () => {
  it('rotate() publishes a successor at once that signs only after the publish-ahead time, once', async () => {
    const { instance, clock } = cluster();
    const keys = instance();
    const first = (await keys.current()).kid;
    clock.advance(HOUR);
    await keys.rotate();
    const published = await kids(keys);
    expect(published).toHaveLength(2);
    expect(published).toContain(first);
    // Verifiers see the successor before it signs (the publish-ahead guarantee).
    expect((await keys.current()).kid).toBe(first);
    // A second rotation while the successor waits to sign adds nothing.
    await keys.rotate();
    expect(await kids(keys)).toEqual(published);
    clock.advance(DAY + 1000);
    const second = (await instance().current()).kid;
    expect(second).not.toBe(first);
    expect(published).toContain(second);
  });

  it('re-seals the key set with the current secret, so the previous secret can be retired', async () => {
    const { instance, storage } = cluster();
    const old = 'an-old-secret-that-is-long-enough-for-portcullis-0001';
    const fresh = 'a-new-secret-that-is-long-enough-for-portcullis-00002';
    const kid = (await instance({ sealer: new KeyRing([old]) }).current()).kid;
    const sealedByOld = (await storage.get('grant', 'signing-keys'))!.value;
    // Deployed with <new>,<old>: the first read re-seals the same keys with <new>.
    expect((await instance({ sealer: new KeyRing([fresh, old]) }).current()).kid).toBe(kid);
    const resealed = (await storage.get('grant', 'signing-keys'))!.value;
    expect(KeyRing.sealedBy(resealed)).not.toBe(KeyRing.sealedBy(sealedByOld));
    // Deployed with <new> alone: the keys still open, the same key still signs.
    expect((await instance({ sealer: new KeyRing([fresh]) }).current()).kid).toBe(kid);
  });
});
