/**
 * Signed identity assertions to an upstream: the upstream side is jose, verifying with the published
 * JWK Set or the shared HS256 secret, and refusing forgeries.
 */
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { createIdentityAssertionSigner } from '../../src/jose/identity-assertion.js';
import { createSigningKeys } from '../../src/jose/signing-keys.js';
import { storageKeyStore } from '../../src/jose/storage-adapters.js';
import { MemoryStorage } from '../../src/storage/memory.js';
import { keyPair, keyRing } from './helpers.js';

const GATEWAY = 'https://gateway.example.com';
const UPSTREAM = 'https://upstream.internal.example/mcp';
const SECRET = 'upstream-shared-hmac-secret-0123456789abcdef';
const caller = {
  subject: 'user-42',
  email: 'ada@example.com',
  name: 'Ada',
  clientId: 'client-1',
  scopes: ['read'],
};

function signingKeys() {
  return createSigningKeys({
    store: storageKeyStore(new MemoryStorage(), { kind: 'grant' }),
    sealer: keyRing(),
  });
}

describe('identity assertions to the upstream', () => {
  it('signs with the gateway key: the upstream verifies with the JWK Set, aud and a lifetime under a minute', async () => {
    const keys = signingKeys();
    const sign = createIdentityAssertionSigner({
      issuer: GATEWAY,
      audience: UPSTREAM,
      signing: { keys },
      claims: (c) => ({ groups: ['eng'], sub: 'root', tenant: c.clientId }),
    });
    const assertion = await sign(caller);
    const { payload, protectedHeader } = await jwtVerify(assertion, createLocalJWKSet(await keys.jwks()), {
      issuer: GATEWAY,
      audience: UPSTREAM,
      algorithms: ['ES256'],
    });
    expect(protectedHeader).toMatchObject({ alg: 'ES256', kid: (await keys.current()).kid, typ: 'JWT' });
    expect(payload).toMatchObject({
      sub: 'user-42',
      email: 'ada@example.com',
      name: 'Ada',
      client_id: 'client-1',
      scope: 'read',
      groups: ['eng'],
      tenant: 'client-1',
    });
    expect(payload.exp! - payload.iat!).toBe(30);
    expect(typeof payload.jti).toBe('string');
    await expect(
      jwtVerify(assertion, createLocalJWKSet(await keys.jwks()), { audience: 'https://other.example' }),
    ).rejects.toThrow(/aud/);
  });

  it('signs HS256 with a shared secret for upstreams that only verify HMAC', async () => {
    const sign = createIdentityAssertionSigner({
      issuer: GATEWAY,
      audience: UPSTREAM,
      signing: { hmacSecret: SECRET },
      lifetimeSeconds: 59,
    });
    const assertion = await sign(caller);
    expect(decodeProtectedHeader(assertion)).toEqual({ alg: 'HS256', typ: 'JWT' });
    const { payload } = await jwtVerify(assertion, new TextEncoder().encode(SECRET), {
      audience: UPSTREAM,
      issuer: GATEWAY,
    });
    expect(payload.exp! - payload.iat!).toBe(59);
  });

  it('is refused by the upstream when forged: another secret, another key, alg none, a changed claim, expired', async () => {
    const keys = signingKeys();
    const jwks = createLocalJWKSet(await keys.jwks());
    const hmac = new TextEncoder().encode(SECRET);
    const genuine = await createIdentityAssertionSigner({
      issuer: GATEWAY,
      audience: UPSTREAM,
      signing: { keys },
    })(caller);
    const forgedSecret = await createIdentityAssertionSigner({
      issuer: GATEWAY,
      audience: UPSTREAM,
      signing: { hmacSecret: 'an-attacker-guess-an-attacker-guess-xx' },
    })(caller);
    await expect(jwtVerify(forgedSecret, hmac)).rejects.toThrow(/signature/);
    const stranger = await keyPair('ES256', (await keys.current()).kid);
    const forgedKey = await new SignJWT(decodeJwt(genuine))
      .setProtectedHeader({ alg: 'ES256', kid: stranger.kid })
      .sign(stranger.privateKey);
    await expect(jwtVerify(forgedKey, jwks)).rejects.toThrow(/signature/);
    const [h, p, s] = genuine.split('.') as [string, string, string];
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    await expect(
      jwtVerify(`${h}.${b64({ ...decodeJwt(genuine), sub: 'admin' })}.${s}`, jwks),
    ).rejects.toThrow(/signature/);
    await expect(jwtVerify(`${b64({ alg: 'none' })}.${p}.`, jwks)).rejects.toThrow();
    const past = createIdentityAssertionSigner({
      issuer: GATEWAY,
      audience: UPSTREAM,
      signing: { hmacSecret: SECRET },
      now: () => Date.now() - 120_000,
    });
    await expect(jwtVerify(await past(caller), hmac)).rejects.toThrow(/exp/);
  });

  it('refuses a lifetime of a minute or more and a short HMAC secret', () => {
    const base = { issuer: GATEWAY, audience: UPSTREAM };
    expect(() =>
      createIdentityAssertionSigner({ ...base, signing: { hmacSecret: SECRET }, lifetimeSeconds: 60 }),
    ).toThrow(/lifetimeSeconds/);
    expect(() => createIdentityAssertionSigner({ ...base, signing: { hmacSecret: 'short' } })).toThrow(
      /32 bytes/,
    );
  });
});
