import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { createAccessTokenVerifier, mintAccessToken } from '../../src/jose/access-token-jwt.js';
import { createSigningKeys } from '../../src/jose/signing-keys.js';
import { storageKeyStore } from '../../src/jose/storage-adapters.js';
import { MemoryStorage } from '../../src/storage/memory.js';
import { ISSUER, keyPair, keyRing, manualClock, refused } from './helpers.js';

const RESOURCE = 'https://mcp.example.com/mcp';

function setup(algorithm: 'ES256' | 'EdDSA' = 'ES256') {
  const clock = manualClock();
  const storage = new MemoryStorage({ now: clock.now });
  const keys = createSigningKeys({
    store: storageKeyStore(storage, { kind: 'grant' }),
    sealer: keyRing(),
    algorithm,
    now: clock.now,
    maxTokenLifetimeSeconds: 3600,
  });
  const verify = createAccessTokenVerifier({ issuer: ISSUER, audience: RESOURCE, keys, now: clock.now });
  const mint = (overrides: Partial<Parameters<typeof mintAccessToken>[0]> = {}) =>
    mintAccessToken(
      {
        subject: 'user-1',
        audience: RESOURCE,
        clientId: 'client-1',
        scopes: ['files:read', 'files:write'],
        lifetimeSeconds: 600,
        ...overrides,
      },
      { issuer: ISSUER, keys, now: clock.now },
    );
  return { clock, keys, verify, mint };
}

describe('RFC 9068 JWT access tokens', () => {
  it.each(['ES256', 'EdDSA'] as const)('mints %s tokens with the RFC 9068 header and claims', async (alg) => {
    const { mint, keys, clock } = setup(alg);
    const minted = await mint({ jkt: 'thumbprint-of-the-dpop-key' });
    expect(decodeProtectedHeader(minted.token)).toEqual({ alg, kid: minted.kid, typ: 'at+jwt' });
    const now = Math.floor(clock.now() / 1000);
    expect(decodeJwt(minted.token)).toEqual({
      iss: ISSUER,
      sub: 'user-1',
      aud: RESOURCE,
      client_id: 'client-1',
      scope: 'files:read files:write',
      iat: now,
      exp: now + 600,
      jti: minted.jti,
      cnf: { jkt: 'thumbprint-of-the-dpop-key' },
    });
    // jose, as a third party, verifies it against the published set.
    await jwtVerify(minted.token, createLocalJWKSet(await keys.jwks()), {
      issuer: ISSUER,
      audience: RESOURCE,
      typ: 'at+jwt',
      currentDate: new Date(clock.now()),
    });
  });

  it('carries an act claim for delegation and keeps registered claims from being overridden', async () => {
    const { mint, verify } = setup();
    const act = { sub: 'https://mcp.example.com/mcp', client_id: 'mcp-server', act: { sub: 'agent-7' } };
    const minted = await mint({
      act,
      scopes: [],
      extraClaims: { sub: 'admin', aud: 'https://evil.example', tenant: 't1' },
    });
    const verified = await verify(minted.token);
    expect(verified).toMatchObject({ subject: 'user-1', audiences: [RESOURCE], scopes: [], act });
    expect(verified.claims.tenant).toBe('t1');
    expect(verified.claims).not.toHaveProperty('scope');
  });

  it('verifies its own tokens and reads the binding', async () => {
    const { mint, verify } = setup();
    const minted = await mint({ jkt: 'jkt-1' });
    await expect(verify(minted.token)).resolves.toMatchObject({
      subject: 'user-1',
      clientId: 'client-1',
      scopes: ['files:read', 'files:write'],
      jti: minted.jti,
      expiresAt: minted.expiresAt,
      jkt: 'jkt-1',
    });
  });

  it('refuses a lifetime beyond what the keys are kept for', async () => {
    const { mint } = setup();
    await expect(mint({ lifetimeSeconds: 7200 })).rejects.toThrow(TypeError);
  });

  it('refuses expired tokens, other audiences and other issuers', async () => {
    const { mint, clock, keys } = setup();
    const verifyFor = (issuer: string, audience: string) =>
      createAccessTokenVerifier({ issuer, audience, keys, now: clock.now });
    const { token } = await mint();
    await refused(
      verifyFor(ISSUER, 'https://other.example.com/mcp')(token),
      'invalid_token',
      /another resource/,
    );
    await refused(
      verifyFor('https://other-as.example.com', RESOURCE)(token),
      'invalid_token',
      /another issuer/,
    );
    clock.advance(601_000);
    await refused(verifyFor(ISSUER, RESOURCE)(token), 'invalid_token', /expired/);
  });

  it('refuses a token with another typ, an unknown kid, a forged signature, alg none and HS256', async () => {
    const { mint, verify, clock } = setup();
    const { token } = await mint();
    const [h, p, s] = token.split('.') as [string, string, string];
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const header = decodeProtectedHeader(token);
    const claims = decodeJwt(token);
    await refused(verify(`${b64({ ...header, typ: 'JWT' })}.${p}.${s}`), 'invalid_token', /typ/);
    await refused(verify(`${b64({ ...header, kid: 'unknown' })}.${p}.${s}`), 'invalid_token', /unknown key/);
    await refused(verify(`${h}.${b64({ ...claims, scope: 'admin' })}.${s}`), 'invalid_token', /signature/);
    await refused(verify(`${b64({ alg: 'none', typ: 'at+jwt' })}.${p}.`), 'invalid_token', /'none'/);
    const hs = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: header.kid! })
      .sign(new TextEncoder().encode('a-guessable-secret-a-guessable-secret'));
    await refused(verify(hs), 'invalid_token', /HMAC/);
    // Signed by a key that is not ours, under our kid.
    const stranger = await keyPair('ES256');
    const forged = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: header.kid! })
      .sign(stranger.privateKey);
    await refused(verify(forged), 'invalid_token', /signature/);
    expect(clock.now()).toBeGreaterThan(0);
  });

  it('re-reads the key set once on an unknown kid (here: a key store replaced within the cache time)', async () => {
    const clock = manualClock();
    const storage = new MemoryStorage({ now: clock.now });
    const options = {
      store: storageKeyStore(storage, { kind: 'grant' }),
      sealer: keyRing(),
      now: clock.now,
      maxTokenLifetimeSeconds: 3600,
    };
    const verifierKeys = createSigningKeys(options);
    const verify = createAccessTokenVerifier({
      issuer: ISSUER,
      audience: RESOURCE,
      keys: verifierKeys,
      now: clock.now,
    });
    await verifierKeys.jwks(); // cached for five minutes
    await storage.delete('grant', 'signing-keys');
    clock.advance(60_000);
    const signer = createSigningKeys(options);
    const mint = () =>
      mintAccessToken(
        { subject: 'u', audience: RESOURCE, clientId: 'c', scopes: [], lifetimeSeconds: 60 },
        { issuer: ISSUER, keys: signer, now: clock.now },
      );
    const { token } = await mint();
    await expect(verify(token)).resolves.toMatchObject({ subject: 'u' });
    // The re-read is rate-limited: a second unknown kid within 30 s is refused without one.
    let reads = 0;
    const load = options.store.load;
    options.store.load = () => {
      reads++;
      return load();
    };
    const [h, p, sig] = token.split('.') as [string, string, string];
    const header = JSON.parse(Buffer.from(h, 'base64url').toString());
    const bogus = `${Buffer.from(JSON.stringify({ ...header, kid: 'bogus' })).toString('base64url')}.${p}.${sig}`;
    await refused(verify(bogus), 'invalid_token', /unknown key/);
    expect(reads).toBe(0);
  });
});
