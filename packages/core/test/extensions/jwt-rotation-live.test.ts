/**
 * A third party verifies Portcullis's JWT access tokens against the live JWKS URL of a listening server
 * with `jose` (createRemoteJWKSet), across a key rotation; an external resource server (Portcullis's
 * resource-server-only mode, as it would sit in front of any AS) accepts them too.
 */
import { createResourceServer, jwtVerifier, MemoryStorage } from '@portcullis/core';
import { jwtAccessTokens } from '@portcullis/core/extensions';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIVE_PIN, type LiveServer, startLiveServer } from '../../../../test/support/live.js';
import { manualClock } from '../helpers.js';
import { codeFlow } from './flow.js';

const clock = manualClock(Date.now());
let live: LiveServer;

beforeAll(async () => {
  live = await startLiveServer({
    overrides: {
      now: clock.now,
      storage: new MemoryStorage({ now: clock.now }),
      extensions: [
        jwtAccessTokens({
          lifetimeSeconds: 300,
          keys: { rotateAfterSeconds: 3600, publishAheadSeconds: 600, cacheSeconds: 60 },
        }),
      ],
    },
  });
});
afterAll(() => live.close());

const token = async () =>
  (await codeFlow({ issuer: live.issuer, pin: LIVE_PIN, resource: `${live.issuer}/mcp` })).tokens
    .access_token;

describe('JWT access tokens verified by a third party from the live JWKS', () => {
  it('verify across a key rotation: the next key is published before it signs, the old one kept while its tokens live', async () => {
    const jwksUrl = new URL(`${live.issuer}/.well-known/jwks.json`);
    const verify = (jwt: string, keys: ReturnType<typeof createRemoteJWKSet>) =>
      jwtVerify(jwt, keys, {
        issuer: live.issuer,
        audience: `${live.issuer}/mcp`,
        typ: 'at+jwt',
        currentDate: new Date(clock.now()),
      });
    const published = async () =>
      ((await (await fetch(jwksUrl)).json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid);

    const first = await token();
    const firstKid = decodeProtectedHeader(first).kid!;
    // A verifier that cached the set once and may never refetch (no cooldown passes in this test).
    const early = createRemoteJWKSet(jwksUrl, { cooldownDuration: 3_600_000, cacheMaxAge: 3_600_000 });
    expect((await verify(first, early)).payload.sub).toBe('pin-holder');
    expect(await published()).toEqual([firstKid]);

    // The successor is published a full publish-ahead period (10 min) before it signs.
    clock.advance(50 * 60_000);
    const ahead = await published();
    expect(ahead).toHaveLength(2);
    const nextKid = ahead.find((kid) => kid !== firstKid)!;
    const stillFirst = await token();
    expect(decodeProtectedHeader(stillFirst).kid).toBe(firstKid);
    // A verifier that fetched the set during that window (and never fetches again here)…
    const refreshed = createRemoteJWKSet(jwksUrl, { cooldownDuration: 3_600_000, cacheMaxAge: 3_600_000 });
    await verify(stillFirst, refreshed);
    clock.advance(9 * 60_000);
    const lastOfFirst = await token();
    expect(decodeProtectedHeader(lastOfFirst).kid).toBe(firstKid);

    // …verifies the first tokens of the next key, and the last token of the old key still verifies.
    clock.advance(2 * 60_000);
    const second = await token();
    expect(decodeProtectedHeader(second).kid).toBe(nextKid);
    expect((await verify(second, refreshed)).payload.sub).toBe('pin-holder');
    await verify(lastOfFirst, refreshed);
    // The verifier that cached the set before the successor was published cannot (it may not refetch).
    await expect(verify(second, early)).rejects.toThrow(/no applicable key|matching/i);
    expect(await published()).toEqual(expect.arrayContaining([firstKid, nextKid]));

    // Once the last token of the old key has expired (plus cache and skew), the key is dropped.
    clock.advance(7 * 60_000);
    expect(await published()).toEqual([nextKid]);
  });

  it('are accepted by an external resource server that knows only the issuer and its JWKS URL', async () => {
    const resource = 'https://tools.example.net/mcp';
    // The external server is its own resource: a Portcullis that issues tokens for it.
    const external = await startLiveServer({
      overrides: {
        now: clock.now,
        resources: [{ path: '/mcp', resource }],
        extensions: [jwtAccessTokens({ lifetimeSeconds: 300 })],
      },
    });
    try {
      const rs = createResourceServer({
        resource,
        authorizationServers: [external.issuer],
        verify: jwtVerifier({ jwksUrl: `${external.issuer}/.well-known/jwks.json`, issuer: external.issuer }),
        now: clock.now,
      });
      const { tokens } = await codeFlow({ issuer: external.issuer, pin: LIVE_PIN, resource });
      const call = (authorization: string) =>
        rs.authenticate(new Request(resource, { headers: { authorization } }));
      const accepted = await call(`Bearer ${tokens.access_token}`);
      expect(accepted.ok && accepted.info).toMatchObject({ userId: 'pin-holder', scopes: ['mcp'], resource });
      // A token of another issuer (the first server) is refused by the same resource server.
      const foreign = await call(`Bearer ${await token()}`);
      expect(foreign.ok).toBe(false);
      // A token whose signature was tampered with is refused.
      const [h, p] = tokens.access_token.split('.');
      expect((await call(`Bearer ${h}.${p}.${'A'.repeat(86)}`)).ok).toBe(false);
    } finally {
      await external.close();
    }
  });
});
