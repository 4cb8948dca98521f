/**
 * ID-JAG verification (draft-ietf-oauth-identity-assertion-authz-grant-04 §3.1, §4.4.1; MCP
 * Enterprise-Managed Authorization §5), with ID-JAGs signed by jose playing the enterprise IdP.
 */
import { type CryptoKey, type JWTPayload, SignJWT } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { createIdJagVerifier, ID_JAG_TYP, type IdJagVerifierOptions } from '../../src/jose/id-jag.js';
import { createJwksFetcher } from '../../src/jose/jwks-fetch.js';
import { httpServer, ISSUER, keyPair, memoryGuard, refused, routedFetch } from './helpers.js';

const IDP = 'https://acme.idp.example';
const CLIENT_ID = 'https://client.example.com/client.json';
const servers: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const now = () => Math.floor(Date.now() / 1000);
const claims = (extra: JWTPayload = {}): JWTPayload => ({
  jti: `jag-${crypto.randomUUID()}`,
  iss: IDP,
  sub: 'U019488227',
  email: 'user@acme.example',
  aud: ISSUER,
  resource: 'https://mcp.example.com/mcp',
  client_id: CLIENT_ID,
  iat: now(),
  exp: now() + 300,
  scope: 'chat.read chat.history',
  ...extra,
});

async function idJag(
  key: CryptoKey,
  alg: string,
  kid: string,
  payload: JWTPayload,
  header: Record<string, unknown> = {},
) {
  return new SignJWT(payload).setProtectedHeader({ alg, kid, typ: ID_JAG_TYP, ...header }).sign(key);
}

const idpKey = keyPair('RS256', 'idp-1');

async function setup(overrides: Partial<IdJagVerifierOptions> = {}) {
  const idp = await idpKey;
  const { guard } = memoryGuard();
  const verify = createIdJagVerifier({
    issuer: ISSUER,
    trustedIdps: [{ issuer: IDP, jwks: { keys: [idp.publicJwk] } }],
    replay: guard,
    fetchJwks: async () => {
      throw new Error('unused');
    },
    ...overrides,
  });
  const sign = (payload: JWTPayload = claims(), header: Record<string, unknown> = {}) =>
    idJag(idp.privateKey, 'RS256', 'idp-1', payload, header);
  return { idp, verify, sign };
}

describe('ID-JAG (Enterprise-Managed Authorization)', () => {
  it('accepts an ID-JAG from the trusted IdP and returns what it grants', async () => {
    const { verify, sign } = await setup();
    const payload = claims();
    await expect(verify(await sign(payload), CLIENT_ID)).resolves.toMatchObject({
      issuer: IDP,
      subject: 'U019488227',
      clientId: CLIENT_ID,
      resources: ['https://mcp.example.com/mcp'],
      scopes: ['chat.read', 'chat.history'],
      jti: payload.jti,
      claims: expect.objectContaining({ email: 'user@acme.example' }),
    });
  });

  it('accepts aud as a one-element array, and resource as an array or absent', async () => {
    const { verify, sign } = await setup();
    await expect(verify(await sign(claims({ aud: [ISSUER] })), CLIENT_ID)).resolves.toBeDefined();
    const many = ['https://mcp.example.com/a', 'https://mcp.example.com/b'];
    await expect(verify(await sign(claims({ resource: many })), CLIENT_ID)).resolves.toMatchObject({
      resources: many,
    });
    await expect(
      verify(await sign(claims({ resource: undefined, scope: undefined })), CLIENT_ID),
    ).resolves.toMatchObject({
      resources: [],
      scopes: [],
    });
  });

  it.each([
    ['a plain JWT typ', { typ: 'JWT' }],
    ['an ID token typ', { typ: 'id_token+jwt' }],
    ['no typ', { typ: undefined }],
  ])('refuses %s', async (_name, header) => {
    const { verify, sign } = await setup();
    await refused(verify(await sign(claims(), header), CLIENT_ID), 'invalid_grant', /oauth-id-jag\+jwt/);
  });

  it.each<[string, JWTPayload, RegExp]>([
    ['another audience', { aud: 'https://other-as.example' }, /audience/],
    ['the token endpoint as audience', { aud: `${ISSUER}/token` }, /audience/],
    ['two audiences', { aud: [ISSUER, 'https://other-as.example'] }, /audience/],
    ['an expired grant', { exp: now() - 120 }, /expired/],
    ['an exp too far ahead', { exp: now() + 86_400 }, /too far/],
    ['no iat', { iat: undefined }, /'iat'/],
    ['an iat in the future', { iat: now() + 600 }, /future/],
    ['no sub', { sub: undefined }, /'sub'/],
    ['no jti', { jti: undefined }, /'jti'/],
    ['a resource with a fragment', { resource: 'https://mcp.example.com/mcp#x' }, /resource/],
    ['a relative resource', { resource: '/mcp' }, /resource/],
    ['a non-string scope', { scope: ['chat.read'] }, /scope/],
  ])('refuses %s', async (_name, extra, message) => {
    const { verify, sign } = await setup();
    await refused(verify(await sign(claims(extra)), CLIENT_ID), 'invalid_grant', message);
  });

  it('refuses an ID-JAG issued for another client than the one that authenticated', async () => {
    const { verify, sign } = await setup();
    await refused(
      verify(await sign(), 'https://other-client.example/c.json'),
      'invalid_grant',
      /another client/,
    );
  });

  it('refuses an untrusted issuer, and a trusted issuer signed with a key it does not publish', async () => {
    const { verify, sign } = await setup();
    await refused(
      verify(await sign(claims({ iss: 'https://evil.idp.example' })), CLIENT_ID),
      'invalid_grant',
      /trusted/,
    );
    const stranger = await keyPair('RS256', 'idp-1');
    await refused(
      verify(await idJag(stranger.privateKey, 'RS256', 'idp-1', claims()), CLIENT_ID),
      'invalid_grant',
      /signature/,
    );
    await refused(
      verify(await idJag(stranger.privateKey, 'RS256', 'idp-2', claims()), CLIENT_ID),
      'invalid_grant',
      /does not publish/,
    );
  });

  it('refuses alg none and HS256', async () => {
    const { verify } = await setup();
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    await refused(
      verify(`${b64({ alg: 'none', typ: ID_JAG_TYP })}.${b64(claims())}.`, CLIENT_ID),
      'invalid_grant',
      /'none'/,
    );
    const hs = await new SignJWT(claims())
      .setProtectedHeader({ alg: 'HS256', typ: ID_JAG_TYP, kid: 'idp-1' })
      .sign(new TextEncoder().encode('shared-secret-shared-secret-shared'));
    await refused(verify(hs, CLIENT_ID), 'invalid_grant', /HMAC/);
  });

  it('redeems an ID-JAG once', async () => {
    const { verify, sign } = await setup();
    const jag = await sign();
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => verify(jag, CLIENT_ID)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    await refused(verify(jag, CLIENT_ID), 'invalid_grant', /already used/);
  });

  it("fetches the IdP's jwks_uri and follows its key rotation", async () => {
    const first = await keyPair('ES256', 'k1');
    const second = await keyPair('ES256', 'k2');
    let published = [first.publicJwk];
    const host = await httpServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: published }));
    });
    servers.push(host);
    const { guard } = memoryGuard();
    const verify = createIdJagVerifier({
      issuer: ISSUER,
      trustedIdps: [{ issuer: IDP, jwksUri: `${IDP}/oauth2/keys` }],
      replay: guard,
      fetchJwks: createJwksFetcher({ fetch: routedFetch(host.origin).fetch, cooldownSeconds: 0 }),
    });
    await verify(await idJag(first.privateKey, 'ES256', 'k1', claims()), CLIENT_ID);
    published = [first.publicJwk, second.publicJwk];
    await expect(
      verify(await idJag(second.privateKey, 'ES256', 'k2', claims()), CLIENT_ID),
    ).resolves.toBeDefined();
  });

  it('refuses a configuration that trusts itself or mixes jwks and jwksUri', async () => {
    const { publicJwk } = await keyPair('ES256');
    const base = { issuer: ISSUER, replay: memoryGuard().guard, fetchJwks: async () => ({ keys: [] }) };
    expect(() =>
      createIdJagVerifier({ ...base, trustedIdps: [{ issuer: ISSUER, jwks: { keys: [publicJwk] } }] }),
    ).toThrow(/this issuer/);
    expect(() =>
      createIdJagVerifier({
        ...base,
        trustedIdps: [{ issuer: IDP, jwks: { keys: [publicJwk] }, jwksUri: `${IDP}/k` }],
      }),
    ).toThrow(/exactly one/);
  });
});
