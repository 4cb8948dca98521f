/**
 * private_key_jwt (RFC 7523 §2.2, §3; OIDC Core §9) with assertions made by oauth4webapi, a client
 * library someone else wrote, with real RS256 / PS256 / ES256 / EdDSA key pairs.
 */
import { type CryptoKey, type JWK, SignJWT } from 'jose';
import * as oauth from 'oauth4webapi';
import { afterEach, describe, expect, it } from 'vitest';
import {
  assertionClientId,
  CLIENT_ASSERTION_TYPE,
  createClientAssertionVerifier,
} from '../../src/jose/client-assertion.js';
import { createJwksFetcher } from '../../src/jose/jwks-fetch.js';
import { httpServer, ISSUER, keyPair, memoryGuard, refused, routedFetch } from './helpers.js';

const CLIENT_ID = 'https://chatgpt.example.com/oauth/client.json';
const TOKEN_ENDPOINT = `${ISSUER}/token`;
const as: oauth.AuthorizationServer = { issuer: ISSUER, token_endpoint: TOKEN_ENDPOINT };

type Modify = (header: Record<string, unknown>, payload: Record<string, unknown>) => void;

/** The client_assertion oauth4webapi sends to the token endpoint (captured from its request body). */
async function assertionFrom(
  key: CryptoKey,
  kid: string | undefined,
  modify?: Modify,
  clientAuth?: oauth.ClientAuth,
): Promise<string> {
  let body = new URLSearchParams();
  const auth =
    clientAuth ?? oauth.PrivateKeyJwt({ key, kid }, modify ? { [oauth.modifyAssertion]: modify } : {});
  await oauth.genericTokenEndpointRequest(
    as,
    { client_id: CLIENT_ID },
    auth,
    'client_credentials',
    new URLSearchParams(),
    {
      [oauth.customFetch]: async (_url, init) => {
        body = new URLSearchParams(init.body as unknown as string);
        return Response.json({ access_token: 'x', token_type: 'bearer' });
      },
    },
  );
  expect(body.get('client_assertion_type')).toBe(CLIENT_ASSERTION_TYPE);
  return body.get('client_assertion')!;
}

const params = (clientAssertion: string, clientId?: string) => ({
  clientAssertionType: CLIENT_ASSERTION_TYPE,
  clientAssertion,
  ...(clientId ? { clientId } : {}),
});

function verifier(overrides: Partial<Parameters<typeof createClientAssertionVerifier>[0]> = {}) {
  const { guard } = memoryGuard();
  return createClientAssertionVerifier({
    issuer: ISSUER,
    endpoints: [TOKEN_ENDPOINT, `${ISSUER}/revoke`],
    replay: guard,
    fetchJwks: async () => {
      throw new Error('no jwks_uri in this test');
    },
    ...overrides,
  });
}

const servers: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe('private_key_jwt client assertions', () => {
  it.each(['RS256', 'PS256', 'ES256', 'EdDSA'] as const)(
    'accepts an oauth4webapi %s assertion',
    async (alg) => {
      const pair = await keyPair(alg);
      const assertion = await assertionFrom(pair.privateKey, pair.kid);
      expect(assertionClientId(assertion)).toBe(CLIENT_ID);
      const verified = await verifier()(params(assertion, CLIENT_ID), {
        clientId: CLIENT_ID,
        jwks: { keys: [pair.publicJwk] },
      });
      // oauth4webapi names Ed25519 signatures by their fully-specified alg (RFC 9864).
      expect(verified).toMatchObject({
        clientId: CLIENT_ID,
        alg: alg === 'EdDSA' ? 'Ed25519' : alg,
        kid: pair.kid,
      });
      expect(verified.jti.length).toBeGreaterThan(10);
    },
  );

  it('accepts "alg": "EdDSA" (RFC 8037) for the same Ed25519 key', async () => {
    const pair = await keyPair('EdDSA');
    const now = Math.floor(Date.now() / 1000);
    const assertion = await new SignJWT({
      iss: CLIENT_ID,
      sub: CLIENT_ID,
      aud: ISSUER,
      jti: 'j-eddsa',
      iat: now,
      exp: now + 60,
    })
      .setProtectedHeader({ alg: 'EdDSA', kid: pair.kid })
      .sign(pair.privateKey);
    const verified = await verifier()(params(assertion), {
      clientId: CLIENT_ID,
      jwks: { keys: [pair.publicJwk] },
    });
    expect(verified.alg).toBe('EdDSA');
  });

  it('accepts the endpoint URL as aud, alone or as an array member', async () => {
    const pair = await keyPair('ES256');
    const client = { clientId: CLIENT_ID, jwks: { keys: [pair.publicJwk] } };
    const verify = verifier();
    for (const aud of [TOKEN_ENDPOINT, [TOKEN_ENDPOINT, 'https://other.example'], [`${ISSUER}/revoke`]]) {
      const assertion = await assertionFrom(pair.privateKey, pair.kid, (_h, p) => {
        p.aud = aud;
      });
      await expect(verify(params(assertion), client)).resolves.toMatchObject({ clientId: CLIENT_ID });
    }
  });

  it('uses the only key of the matching type when the assertion has no kid', async () => {
    const ec = await keyPair('ES256');
    const rsa = await keyPair('RS256');
    const assertion = await assertionFrom(ec.privateKey, undefined);
    const { kid: _kid, ...noKid } = ec.publicJwk;
    await expect(
      verifier()(params(assertion), { clientId: CLIENT_ID, jwks: { keys: [rsa.publicJwk, noKid] } }),
    ).resolves.toMatchObject({ alg: 'ES256' });
    // Two EC keys and no kid: ambiguous.
    const other = await keyPair('ES256', 'other');
    await refused(
      verifier()(params(await assertionFrom(ec.privateKey, undefined)), {
        clientId: CLIENT_ID,
        jwks: { keys: [ec.publicJwk, other.publicJwk] },
      }),
      'invalid_client',
      /several keys/,
    );
  });

  it('accepts a jti once, also under concurrency, and never repeats the jti in the error', async () => {
    const pair = await keyPair('ES256');
    const client = { clientId: CLIENT_ID, jwks: { keys: [pair.publicJwk] } };
    const verify = verifier();
    const assertion = await assertionFrom(pair.privateKey, pair.kid);
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, () => verify(params(assertion), client)),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const error = await refused(verify(params(assertion), client), 'invalid_client', /already used/);
    const { jti } = (await import('jose')).decodeJwt(assertion);
    expect(error.description).not.toContain(jti as string);
    expect(error.description).not.toContain(assertion.slice(0, 20));
  });

  it('shares replay state across verifier instances through the storage', async () => {
    const pair = await keyPair('EdDSA');
    const client = { clientId: CLIENT_ID, jwks: { keys: [pair.publicJwk] } };
    const { guard } = memoryGuard();
    const a = verifier({ replay: guard });
    const b = verifier({ replay: guard });
    const assertion = await assertionFrom(pair.privateKey, pair.kid);
    await a(params(assertion), client);
    await refused(b(params(assertion), client), 'invalid_client', /already used/);
  });

  const refusals: [string, Modify, RegExp][] = [
    [
      'a wrong aud',
      (_h, p) => {
        p.aud = 'https://evil.example';
      },
      /'aud'/,
    ],
    [
      'an aud array without this server',
      (_h, p) => {
        p.aud = ['https://a.example', 'https://b.example'];
      },
      /'aud'/,
    ],
    [
      'an expired assertion',
      (_h, p) => {
        p.exp = (p.iat as number) - 120;
      },
      /expired/,
    ],
    [
      'an exp too far ahead',
      (_h, p) => {
        p.exp = (p.iat as number) + 3600;
      },
      /too far in the future/,
    ],
    [
      'no exp',
      (_h, p) => {
        delete p.exp;
      },
      /'exp'/,
    ],
    [
      'an iat in the future',
      (_h, p) => {
        p.iat = (p.iat as number) + 600;
      },
      /in the future/,
    ],
    [
      'an nbf in the future',
      (_h, p) => {
        p.nbf = (p.iat as number) + 600;
      },
      /not valid yet/,
    ],
    [
      'no jti',
      (_h, p) => {
        delete p.jti;
      },
      /'jti'/,
    ],
    [
      'iss different from sub',
      (_h, p) => {
        p.iss = 'https://other.example/client.json';
      },
      /'iss' and 'sub'/,
    ],
    [
      'an unknown kid',
      (h) => {
        h.kid = 'rotated-away';
      },
      /kid/,
    ],
  ];
  it.each(refusals)('refuses %s', async (_name, modify, message) => {
    const pair = await keyPair('ES256');
    const assertion = await assertionFrom(pair.privateKey, pair.kid, modify);
    await refused(
      verifier()(params(assertion), { clientId: CLIENT_ID, jwks: { keys: [pair.publicJwk] } }),
      'invalid_client',
      message,
    );
  });

  it('refuses an assertion for another client, or a client_id parameter that differs', async () => {
    const pair = await keyPair('ES256');
    const assertion = await assertionFrom(pair.privateKey, pair.kid);
    const jwks = { keys: [pair.publicJwk] };
    await refused(
      verifier()(params(assertion), { clientId: 'https://other.example/c.json', jwks }),
      'invalid_client',
      /'iss' and 'sub'/,
    );
    await refused(
      verifier()(params(assertion, 'someone-else'), { clientId: CLIENT_ID, jwks }),
      'invalid_client',
      /client_id parameter/,
    );
  });

  it('refuses a signature by another key under the registered kid', async () => {
    const registered = await keyPair('ES256', 'k1');
    const attacker = await keyPair('ES256', 'k1');
    const assertion = await assertionFrom(attacker.privateKey, 'k1');
    await refused(
      verifier()(params(assertion), { clientId: CLIENT_ID, jwks: { keys: [registered.publicJwk] } }),
      'invalid_client',
      /signature/,
    );
  });

  it('refuses alg "none", HS256 (oauth4webapi client_secret_jwt) and HS256 keyed with the public key', async () => {
    const pair = await keyPair('RS256');
    const client = { clientId: CLIENT_ID, jwks: { keys: [pair.publicJwk] } };
    const claims = (await import('jose')).decodeJwt(await assertionFrom(pair.privateKey, pair.kid));
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const none = `${b64({ alg: 'none' })}.${b64(claims)}.`;
    await refused(verifier()(params(none), client), 'invalid_client', /'none'/);
    const hs = await assertionFrom(
      pair.privateKey,
      undefined,
      undefined,
      oauth.ClientSecretJwt('a-shared-secret-a-shared-secret!'),
    );
    await refused(verifier()(params(hs), client), 'invalid_client', /HMAC/);
    // The classic confusion: HMAC keyed with the bytes of the published public key.
    const confused = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', kid: pair.kid })
      .sign(new TextEncoder().encode(JSON.stringify(pair.publicJwk)));
    await refused(verifier()(params(confused), client), 'invalid_client', /HMAC/);
  });

  it('refuses an algorithm outside the allow-list and a key of the wrong type', async () => {
    const pair = await keyPair('ES256');
    const es384 = await (await import('jose')).generateKeyPair('ES384');
    const assertion = await assertionFrom(es384.privateKey, 'k');
    await refused(
      verifier()(params(assertion), { clientId: CLIENT_ID, jwks: { keys: [pair.publicJwk] } }),
      'invalid_client',
      /not accepted/,
    );
    const rsa = await keyPair('RS256', 'ES256-key');
    const es = await assertionFrom(pair.privateKey, 'ES256-key');
    await refused(
      verifier()(params(es), { clientId: CLIENT_ID, jwks: { keys: [rsa.publicJwk] } }),
      'invalid_client',
      /kid/,
    );
  });

  it('refuses an RSA key shorter than 2048 bits (RFC 7518 §3.3)', async () => {
    const weak = (await crypto.subtle.generateKey(
      {
        name: 'RSASSA-PKCS1-v1_5',
        modulusLength: 1024,
        publicExponent: new Uint8Array([1, 0, 1]),
        hash: 'SHA-256',
      },
      true,
      ['sign', 'verify'],
    )) as CryptoKeyPair;
    const jwk = { ...(await (await import('jose')).exportJWK(weak.publicKey)), kid: 'weak' };
    const now = Math.floor(Date.now() / 1000);
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const input = `${b64({ alg: 'RS256', kid: 'weak' })}.${b64({ iss: CLIENT_ID, sub: CLIENT_ID, aud: ISSUER, jti: 'w', iat: now, exp: now + 60 })}`;
    const signature = await crypto.subtle.sign(
      'RSASSA-PKCS1-v1_5',
      weak.privateKey,
      new TextEncoder().encode(input),
    );
    const assertion = `${input}.${Buffer.from(signature).toString('base64url')}`;
    await refused(
      verifier()(params(assertion), { clientId: CLIENT_ID, jwks: { keys: [jwk] } }),
      'invalid_client',
      /cannot be used/,
    );
  });

  it('refuses a wrong client_assertion_type, a missing assertion and garbage', async () => {
    const client = { clientId: CLIENT_ID, jwks: { keys: [(await keyPair('ES256')).publicJwk] } };
    await refused(
      verifier()(
        {
          clientAssertionType: 'urn:ietf:params:oauth:client-assertion-type:saml2-bearer',
          clientAssertion: 'x',
        },
        client,
      ),
      'invalid_client',
      /client_assertion_type/,
    );
    await refused(
      verifier()({ clientAssertionType: CLIENT_ASSERTION_TYPE, clientAssertion: undefined }, client),
      'invalid_client',
      /missing/,
    );
    const error = await refused(
      verifier()(params('<script>alert(1)</script>'), client),
      'invalid_client',
      /compact/,
    );
    expect(error.description).not.toContain('<script>');
  });

  it('refuses a registered jwks with private key material, and a client without keys', async () => {
    const pair = await keyPair('ES256');
    const assertion = await assertionFrom(pair.privateKey, pair.kid);
    const privateJwk: JWK = { ...(await (await import('jose')).exportJWK(pair.privateKey)), kid: pair.kid };
    await refused(
      verifier()(params(assertion), { clientId: CLIENT_ID, jwks: { keys: [privateJwk] } }),
      'invalid_client',
      /private/,
    );
    await refused(
      verifier()(params(assertion), { clientId: CLIENT_ID }),
      'invalid_client',
      /no registered keys/,
    );
  });

  it('fetches a jwks_uri, refetches once on an unknown kid after a key rotation, and not again in the cooldown', async () => {
    const old = await keyPair('ES256', 'old');
    const rotated = await keyPair('ES256', 'new');
    let published = [old.publicJwk];
    let hits = 0;
    const host = await httpServer((_req, res) => {
      hits++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: published }));
    });
    servers.push(host);
    const routed = routedFetch(host.origin);
    const fetchJwks = createJwksFetcher({ fetch: routed.fetch, cooldownSeconds: 0 });
    const verify = verifier({ fetchJwks });
    const client = { clientId: CLIENT_ID, jwksUri: 'https://chatgpt.example.com/oauth/jwks.json' };
    await verify(params(await assertionFrom(old.privateKey, 'old')), client);
    published = [old.publicJwk, rotated.publicJwk];
    await verify(params(await assertionFrom(rotated.privateKey, 'new')), client);
    expect(hits).toBe(2);

    // With a cooldown, a burst of unknown kids costs at most one refetch.
    const limited = verifier({ fetchJwks: createJwksFetcher({ fetch: routed.fetch, cooldownSeconds: 60 }) });
    await limited(params(await assertionFrom(old.privateKey, 'old')), client);
    const before = hits;
    for (let i = 0; i < 5; i++)
      await refused(
        limited(params(await assertionFrom(old.privateKey, `bogus-${i}`)), client),
        'invalid_client',
        /kid/,
      );
    expect(hits - before).toBe(0);
  });

  it('refuses a jwks_uri at a private address without fetching it', async () => {
    const pair = await keyPair('ES256');
    const calls: string[] = [];
    const fetchJwks = createJwksFetcher({
      fetch: async (url) => {
        calls.push(url);
        return Response.json({ keys: [pair.publicJwk] });
      },
    });
    const assertion = await assertionFrom(pair.privateKey, pair.kid);
    for (const jwksUri of [
      'https://10.0.0.5/jwks.json',
      'https://169.254.169.254/keys',
      'https://localhost/jwks',
    ])
      await refused(
        verifier({ fetchJwks })(params(assertion), { clientId: CLIENT_ID, jwksUri }),
        'invalid_client',
        /public host/,
      );
    expect(calls).toHaveLength(0);
  });
});
