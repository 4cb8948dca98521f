/**
 * RFC 9449 DPoP with proofs made by oauth4webapi's DPoP support (a client someone else wrote), including
 * its nonce retry: the verifier plays the server inside oauth4webapi's fetch.
 */
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import * as oauth from 'oauth4webapi';
import { describe, expect, it } from 'vitest';
import { accessTokenHash, createDpopVerifier, jwkThumbprint, normalizeHtu } from '../../src/jose/dpop.js';
import { createDpopNonces } from '../../src/jose/dpop-nonce.js';
import { JoseError } from '../../src/jose/types.js';
import { ISSUER, keyRing, manualClock, memoryGuard, refused } from './helpers.js';

const RESOURCE = 'https://mcp.example.com/mcp';
const TOKEN_ENDPOINT = `${ISSUER}/token`;
const TOKEN = 'at-0123456789abcdefghijklmnopqrstuvwxyz';
const as: oauth.AuthorizationServer = { issuer: ISSUER, token_endpoint: TOKEN_ENDPOINT };
const client: oauth.Client = { client_id: 'public-client' };

type Modify = (header: Record<string, unknown>, payload: Record<string, unknown>) => void;

async function clientKeys(alg: 'ES256' | 'EdDSA' | 'RS256' | 'PS256' = 'ES256') {
  const pair = await generateKeyPair(alg, { extractable: true });
  return { pair, jkt: await jwkThumbprint(await exportJWK(pair.publicKey)) };
}

/** The DPoP header oauth4webapi sends with a resource request. */
async function resourceProof(
  pair: CryptoKeyPair,
  method = 'POST',
  url = RESOURCE,
  token = TOKEN,
  modify?: Modify,
) {
  let proof: string | null = null;
  const DPoP = oauth.DPoP(client, pair, modify ? { [oauth.modifyAssertion]: modify } : {});
  await oauth.protectedResourceRequest(token, method, new URL(url), new Headers(), null, {
    DPoP,
    [oauth.customFetch]: async (_url, init) => {
      proof = new Headers(init.headers).get('dpop');
      return new Response('ok');
    },
  });
  return proof!;
}

/** The DPoP header oauth4webapi sends to the token endpoint. */
async function tokenProof(pair: CryptoKeyPair, modify?: Modify) {
  let proof: string | null = null;
  const DPoP = oauth.DPoP(client, pair, modify ? { [oauth.modifyAssertion]: modify } : {});
  await oauth.genericTokenEndpointRequest(
    as,
    client,
    oauth.None(),
    'refresh_token',
    { refresh_token: 'rt' },
    {
      DPoP,
      [oauth.customFetch]: async (_url, init) => {
        proof = new Headers(init.headers).get('dpop');
        return Response.json({ access_token: 'x', token_type: 'DPoP' });
      },
    },
  );
  return proof!;
}

function verifiers(extra: Partial<Parameters<typeof createDpopVerifier>[0]> = {}) {
  const { guard } = memoryGuard();
  return {
    token: createDpopVerifier({ replay: guard, endpoint: 'token', ...extra }),
    resource: createDpopVerifier({ replay: guard, endpoint: 'resource', ...extra }),
  };
}

const atResource = (proof: string, extra: Record<string, unknown> = {}) => ({
  proof,
  method: 'POST',
  url: RESOURCE,
  accessToken: TOKEN,
  ...extra,
});

describe('DPoP proofs', () => {
  it('computes the RFC 7638 §3.1 example thumbprint', async () => {
    const jwk = {
      kty: 'RSA',
      n: '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw',
      e: 'AQAB',
      alg: 'RS256',
      kid: '2011-04-29',
    };
    expect(await jwkThumbprint(jwk)).toBe('NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs');
  });

  it.each(['ES256', 'EdDSA', 'RS256', 'PS256'] as const)(
    'accepts an oauth4webapi %s proof at the token endpoint',
    async (alg) => {
      const { pair, jkt } = await clientKeys(alg);
      const verified = await verifiers().token({
        proof: await tokenProof(pair),
        method: 'POST',
        url: TOKEN_ENDPOINT,
      });
      expect(verified.jkt).toBe(jkt);
      expect(verified.jwk).not.toHaveProperty('d');
    },
  );

  it('accepts a resource proof with the matching ath and key binding', async () => {
    const { pair, jkt } = await clientKeys();
    const proof = await resourceProof(pair);
    await expect(verifiers().resource(atResource(proof, { boundJkt: jkt }))).resolves.toMatchObject({ jkt });
    expect(await accessTokenHash(TOKEN)).toHaveLength(43);
  });

  it('compares htu without query and fragment, after normalisation', async () => {
    const { pair } = await clientKeys();
    const { resource } = verifiers();
    for (const htu of [
      'HTTPS://MCP.Example.COM:443/mcp',
      'https://mcp.example.com/%6dcp',
      'https://mcp.example.com/a/../mcp',
    ])
      await expect(
        resource(
          atResource(
            await resourceProof(pair, 'POST', RESOURCE, TOKEN, (_h, p) => void Object.assign(p, { htu })),
          ),
        ),
      ).resolves.toBeDefined();
    await expect(
      resource(atResource(await resourceProof(pair), { url: `${RESOURCE}?session=1#x` })),
    ).resolves.toBeDefined();
    expect(normalizeHtu('https://h.example/a%2fb')).toBe('https://h.example/a%2Fb');
    expect(normalizeHtu('ftp://h.example/')).toBeUndefined();
  });

  it('refuses a wrong htm or htu', async () => {
    const { pair } = await clientKeys();
    const { resource } = verifiers();
    await refused(resource(atResource(await resourceProof(pair, 'GET'))), 'invalid_dpop_proof', /'htm'/);
    await refused(
      resource(atResource(await resourceProof(pair, 'POST', 'https://mcp.example.com/other'))),
      'invalid_dpop_proof',
      /'htu'/,
    );
    await refused(
      resource(atResource(await resourceProof(pair, 'POST', 'https://evil.example.com/mcp'))),
      'invalid_dpop_proof',
      /'htu'/,
    );
  });

  it('refuses a stale or future iat; with server nonces a stale one is answered use_dpop_nonce', async () => {
    const { pair } = await clientKeys();
    const stale = await resourceProof(
      pair,
      'POST',
      RESOURCE,
      TOKEN,
      (_h, p) => void Object.assign(p, { iat: (p.iat as number) - 120 }),
    );
    await refused(verifiers().resource(atResource(stale)), 'invalid_dpop_proof', /too old/);
    const nonces = createDpopNonces({ key: keyRing(), scope: RESOURCE });
    const error = await refused(verifiers({ nonces }).resource(atResource(stale)), 'use_dpop_nonce', /nonce/);
    expect(error.headers['DPoP-Nonce']).toBe(await nonces.current());
    const future = await resourceProof(
      pair,
      'POST',
      RESOURCE,
      TOKEN,
      (_h, p) => void Object.assign(p, { iat: (p.iat as number) + 120 }),
    );
    await refused(verifiers().resource(atResource(future)), 'invalid_dpop_proof', /future/);
  });

  it('refuses a proof made for another access token (ath)', async () => {
    const { pair } = await clientKeys();
    const proof = await resourceProof(pair, 'POST', RESOURCE, 'another-token');
    await refused(verifiers().resource(atResource(proof)), 'invalid_dpop_proof', /'ath'/);
  });

  it('refuses a replayed proof, once under concurrency, across verifiers sharing the storage', async () => {
    const { pair } = await clientKeys();
    const { resource } = verifiers();
    const proof = await resourceProof(pair);
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => resource(atResource(proof))));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    await refused(resource(atResource(proof)), 'invalid_dpop_proof', /already used/);
  });

  it('refuses a proof signed by another key than the token is bound to', async () => {
    const { pair } = await clientKeys();
    const other = await clientKeys();
    const { token, resource } = verifiers();
    const atRs = await refused(
      resource(atResource(await resourceProof(pair), { boundJkt: other.jkt })),
      'invalid_token',
      /bound/,
    );
    expect(atRs.status).toBe(401);
    const atAs = await refused(
      token({ proof: await tokenProof(pair), method: 'POST', url: TOKEN_ENDPOINT, boundJkt: other.jkt }),
      'invalid_grant',
      /bound/,
    );
    expect(atAs.status).toBe(400);
  });

  it('refuses a wrong typ, a private or mismatched jwk, alg none and HS256', async () => {
    const { pair } = await clientKeys();
    const { resource } = verifiers();
    const typ = await resourceProof(
      pair,
      'POST',
      RESOURCE,
      TOKEN,
      (h) => void Object.assign(h, { typ: 'JWT' }),
    );
    await refused(resource(atResource(typ)), 'invalid_dpop_proof', /dpop\+jwt/);
    const privateJwk = await exportJWK(pair.privateKey);
    const leaked = await resourceProof(
      pair,
      'POST',
      RESOURCE,
      TOKEN,
      (h) => void Object.assign(h, { jwk: privateJwk }),
    );
    await refused(resource(atResource(leaked)), 'invalid_dpop_proof', /public key/);
    const rsa = await generateKeyPair('RS256', { extractable: true });
    const mismatched = await resourceProof(
      pair,
      'POST',
      RESOURCE,
      TOKEN,
      (h) => void Object.assign(h, { jwk: null }),
    );
    await refused(resource(atResource(mismatched)), 'invalid_dpop_proof', /public key/);
    const wrongKey = await resourceProof(pair, 'POST', RESOURCE, TOKEN, async () => {});
    const claims = JSON.parse(Buffer.from(wrongKey.split('.')[1]!, 'base64url').toString());
    const signedByOther = await new SignJWT(claims)
      .setProtectedHeader({
        alg: 'ES256',
        typ: 'dpop+jwt',
        jwk: await exportJWK((await clientKeys()).pair.publicKey),
      })
      .sign(pair.privateKey);
    await refused(resource(atResource(signedByOther)), 'invalid_dpop_proof', /signature/);
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    await refused(
      resource(
        atResource(
          `${b64({ alg: 'none', typ: 'dpop+jwt', jwk: await exportJWK(rsa.publicKey) })}.${b64(claims)}.`,
        ),
      ),
      'invalid_dpop_proof',
      /'none'/,
    );
    const hs = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', typ: 'dpop+jwt', jwk: { kty: 'oct', k: 'c2VjcmV0' } as never })
      .sign(new TextEncoder().encode('secret-secret-secret-secret-secret'));
    await refused(resource(atResource(hs)), 'invalid_dpop_proof', /HMAC/);
  });

  it('refuses a missing proof and two DPoP headers, with a DPoP challenge at the resource', async () => {
    const { pair } = await clientKeys();
    const { resource } = verifiers();
    const missing = await refused(resource(atResource('')), 'invalid_dpop_proof', /missing/);
    expect(missing.status).toBe(401);
    expect(missing.headers['WWW-Authenticate']).toMatch(
      /^DPoP algs="RS256 PS256 ES256 EdDSA Ed25519", error="invalid_dpop_proof"/,
    );
    const headers = new Headers();
    headers.append('DPoP', await resourceProof(pair));
    headers.append('DPoP', await resourceProof(pair));
    await refused(resource(atResource(headers.get('dpop')!)), 'invalid_dpop_proof', /exactly one/);
  });

  it('asks for a nonce when required, and oauth4webapi retries with it (resource, §9)', async () => {
    const { pair } = await clientKeys();
    const nonces = createDpopNonces({ key: keyRing(), scope: RESOURCE });
    const { resource } = verifiers({ nonces, requireNonce: true });
    const DPoP = oauth.DPoP(client, pair);
    const statuses: number[] = [];
    const rs = async (url: string, init: { method: string; headers: Record<string, string> }) => {
      const headers = new Headers(init.headers);
      try {
        const verified = await resource({
          proof: headers.get('dpop'),
          method: init.method!,
          url,
          accessToken: headers.get('authorization')!.replace(/^DPoP /, ''),
        });
        statuses.push(200);
        return new Response('ok', {
          headers: verified.nextNonce ? { 'DPoP-Nonce': verified.nextNonce } : {},
        });
      } catch (error) {
        if (!(error instanceof JoseError)) throw error;
        statuses.push(error.status);
        return new Response(null, { status: error.status, headers: error.headers });
      }
    };
    const call = () =>
      oauth.protectedResourceRequest(TOKEN, 'POST', new URL(RESOURCE), new Headers(), null, {
        DPoP,
        [oauth.customFetch]: rs,
      });
    const first = await call().catch((e: unknown) => e);
    expect(oauth.isDPoPNonceError(first)).toBe(true);
    expect((await call()).status).toBe(200);
    expect(statuses).toEqual([401, 200]);
  });

  it('asks for a nonce at the token endpoint (§8), answered in the error body oauth4webapi reads', async () => {
    const { pair } = await clientKeys();
    const nonces = createDpopNonces({ key: keyRing() });
    const { token } = verifiers({ nonces, requireNonce: true });
    const DPoP = oauth.DPoP(client, pair);
    const asFetch = async (url: string, init: { method: string; headers: Record<string, string> }) => {
      try {
        await token({ proof: new Headers(init.headers).get('dpop'), method: init.method!, url });
        return Response.json({ access_token: 'bound', token_type: 'DPoP' });
      } catch (error) {
        if (!(error instanceof JoseError)) throw error;
        return Response.json(
          { error: error.code, error_description: error.description },
          { status: error.status, headers: error.headers },
        );
      }
    };
    const request = async () =>
      oauth.processGenericTokenEndpointResponse(
        as,
        client,
        await oauth.genericTokenEndpointRequest(
          as,
          client,
          oauth.None(),
          'refresh_token',
          { refresh_token: 'rt' },
          { DPoP, [oauth.customFetch]: asFetch },
        ),
      );
    const first = await request().catch((e: unknown) => e);
    expect(oauth.isDPoPNonceError(first)).toBe(true);
    await expect(request()).resolves.toMatchObject({ access_token: 'bound' });
  });

  it('rotates nonces: the previous window is accepted with a fresh nonce, older ones are asked to retry', async () => {
    const { pair } = await clientKeys();
    const clock = manualClock(Date.now());
    const nonces = createDpopNonces({ key: keyRing(), windowSeconds: 300, now: clock.now, scope: RESOURCE });
    const { resource } = verifiers({ nonces, requireNonce: true });
    const old = await nonces.current();
    const withNonce = (nonce: string) =>
      resourceProof(pair, 'POST', RESOURCE, TOKEN, (_h, p) => void Object.assign(p, { nonce }));
    expect((await resource(atResource(await withNonce(old)))).nextNonce).toBeUndefined();
    clock.advance(300_000);
    const fresh = await nonces.current();
    expect(fresh).not.toBe(old);
    expect((await resource(atResource(await withNonce(old)))).nextNonce).toBe(fresh);
    clock.advance(300_000);
    const expired = await refused(resource(atResource(await withNonce(old))), 'use_dpop_nonce', /expired/);
    expect(expired.headers['DPoP-Nonce']).toBe(await nonces.current());
    const otherScope = await createDpopNonces({ key: keyRing(), now: clock.now, scope: 'as' }).current();
    await refused(resource(atResource(await withNonce(otherScope))), 'use_dpop_nonce');
    await refused(resource(atResource(await withNonce('not a nonce!'))), 'use_dpop_nonce');
    await refused(
      verifiers().resource(atResource(await withNonce(fresh))),
      'invalid_dpop_proof',
      /does not issue/,
    );
  });
});
