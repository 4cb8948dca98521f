/**
 * `privateKeyJwt()`: RFC 7523 §2.2/§3 and OIDC Core §9 client authentication, driven by oauth4webapi's
 * `PrivateKeyJwt` client authentication with real key pairs, at the token, revocation and
 * introspection endpoints, for registered clients and Client ID Metadata Documents.
 */
import { clientCredentials, privateKeyJwt } from '@portcullis/core/extensions';
import { SignJWT } from 'jose';
import * as oauth from 'oauth4webapi';
import { describe, expect, it } from 'vitest';
import { CLIENT_AUTH_METHODS } from '../../src/clients/authenticate.js';
import { REAL_DOCUMENTS } from '../fixtures/real-clients.js';
import { makeServer, obtainCode, registerClient, tokenRequest, VERIFIER } from '../helpers.js';
import { discover, ISSUER, inProcess, json, keyPair, oauthError, register, serverWith } from './support.js';

const EXTENSIONS = [privateKeyJwt(), clientCredentials({ allow: () => true })];
const ALGS = ['RS256', 'PS256', 'ES256', 'EdDSA'] as const;

/** A server with private_key_jwt and client credentials, and a client registered with one key. */
async function setup(alg: (typeof ALGS)[number] = 'ES256', overrides = {}) {
  const ctx = await serverWith({ extensions: EXTENSIONS, now: Date.now, ...overrides });
  const key = await keyPair(alg);
  const registered = await register(ctx.server.fetch, {
    token_endpoint_auth_method: 'private_key_jwt',
    grant_types: ['client_credentials'],
    redirect_uris: undefined,
    jwks: { keys: [key.publicJwk] },
  });
  const client: oauth.Client = { client_id: registered.client_id };
  const auth = (options?: oauth.ModifyAssertionOptions) =>
    oauth.PrivateKeyJwt({ key: key.privateKey, kid: key.kid }, options);
  const grant = (clientAuth = auth()) =>
    oauth.clientCredentialsGrantRequest(ctx.as, client, clientAuth, {}, ctx.options);
  const redeem = async (clientAuth = auth()) =>
    oauth.processClientCredentialsResponse(ctx.as, client, await grant(clientAuth));
  return { ...ctx, key, client, auth, grant, redeem };
}

/** A private_key_jwt client auth whose assertion claims are patched before signing (`undefined` removes one). */
const modified = (patch: Record<string, unknown>) => ({
  [oauth.modifyAssertion]: (_header: unknown, payload: Record<string, unknown>) => {
    for (const [claim, value] of Object.entries(patch)) {
      if (value === undefined) delete payload[claim];
      else payload[claim] = value;
    }
  },
});
const seconds = () => Math.floor(Date.now() / 1000);

describe('privateKeyJwt()', () => {
  it.each(ALGS)('authenticates a registered client signing with %s', async (alg) => {
    const { redeem, server, client } = await setup(alg);
    const tokens = await redeem();
    expect(tokens.token_type).toBe('bearer');
    const auth = await server.authenticate(
      new Request(`${ISSUER}/mcp`, { headers: { authorization: `Bearer ${tokens.access_token}` } }),
    );
    expect(auth.ok && auth.info.clientId).toBe(client.client_id);
  });

  it('advertises private_key_jwt and its algorithms only when installed', async () => {
    const { as } = await setup();
    expect(as.token_endpoint_auth_methods_supported).toEqual([...CLIENT_AUTH_METHODS, 'private_key_jwt']);
    expect(as.introspection_endpoint_auth_methods_supported).toContain('private_key_jwt');
    expect(as.revocation_endpoint_auth_methods_supported).toContain('private_key_jwt');
    for (const member of [
      'token_endpoint_auth_signing_alg_values_supported',
      'revocation_endpoint_auth_signing_alg_values_supported',
      'introspection_endpoint_auth_signing_alg_values_supported',
    ]) {
      expect(as[member]).toEqual(expect.arrayContaining(['RS256', 'PS256', 'ES256', 'EdDSA']));
      expect(as[member]).not.toContain('HS256');
    }
    const plain = await discover(makeServer().server);
    expect(plain.token_endpoint_auth_methods_supported).not.toContain('private_key_jwt');
    expect(plain.token_endpoint_auth_signing_alg_values_supported).toBeUndefined();
  });

  it('refuses to be installed twice', () => {
    expect(() => makeServer({ extensions: [privateKeyJwt(), privateKeyJwt()] })).toThrow(
      /client authentication method private_key_jwt is added twice/,
    );
  });

  it('authenticates at the revocation and introspection endpoints', async () => {
    const { as, client, auth, redeem, options } = await setup();
    const { access_token } = await redeem();
    const introspected = await oauth.processIntrospectionResponse(
      as,
      client,
      await oauth.introspectionRequest(as, client, auth(), access_token, options),
    );
    expect(introspected).toMatchObject({ active: true, client_id: client.client_id });
    await oauth.processRevocationResponse(
      await oauth.revocationRequest(as, client, auth(), access_token, options),
    );
    const after = await oauth.processIntrospectionResponse(
      as,
      client,
      await oauth.introspectionRequest(as, client, auth(), access_token, options),
    );
    expect(after.active).toBe(false);
  });

  it.each([
    ['a wrong aud', { aud: 'https://other.example.com' }, "'aud'"],
    ['an expired assertion', { exp: seconds() - 120 }, 'expired'],
    ['no exp', { exp: undefined }, "'exp'"],
    ['a lifetime over 5 minutes', { exp: seconds() + 3600 }, 'too far'],
    ['an iat in the future', { iat: seconds() + 600 }, "'iat'"],
    ['an nbf in the future', { nbf: seconds() + 600 }, 'not valid yet'],
    ['no jti', { jti: undefined }, "'jti'"],
    ['another sub', { sub: 'someone-else' }, "'sub'"],
  ])('refuses %s with invalid_client (401, no Basic challenge)', async (_name, change, reason) => {
    const { grant, auth, as, client } = await setup();
    const refused = await oauthError(
      grant(auth(modified(change))).then((r) => oauth.processClientCredentialsResponse(as, client, r)),
    );
    expect(refused).toMatchObject({ error: 'invalid_client', status: 401 });
    expect(refused.description).toContain(reason);
    // RFC 6749 §5.2: the challenge is for clients that used the Authorization header.
    expect(refused.headers.get('www-authenticate')).toBeNull();
  });

  it('accepts the token endpoint URL as aud (OIDC Core §9)', async () => {
    const { redeem, auth } = await setup();
    const tokens = await redeem(auth(modified({ aud: `${ISSUER}/token` })));
    expect(tokens.access_token).toMatch(/^pcat_/);
  });

  it('refuses an unknown kid and a bad signature', async () => {
    const { grant, as, client, key } = await setup();
    const other = await keyPair('ES256');
    const process = (r: Response) => oauth.processClientCredentialsResponse(as, client, r);
    const unknownKid = await oauthError(
      grant(oauth.PrivateKeyJwt({ key: key.privateKey, kid: 'not-published' })).then(process),
    );
    expect(unknownKid).toMatchObject({ error: 'invalid_client', status: 401 });
    expect(unknownKid.description).toContain('kid');
    const forged = await oauthError(
      grant(oauth.PrivateKeyJwt({ key: other.privateKey, kid: key.kid })).then(process),
    );
    expect(forged).toMatchObject({ error: 'invalid_client', status: 401 });
    expect(forged.description).toContain('signature');
  });

  it('refuses an HMAC or unsigned assertion', async () => {
    const { server, client } = await setup();
    const claims = { iss: client.client_id, sub: client.client_id, aud: ISSUER, jti: crypto.randomUUID() };
    const hmac = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuedAt()
      .setExpirationTime('1m')
      .sign(new TextEncoder().encode('a-shared-secret-of-32-bytes-long!'));
    const b64 = (value: unknown) =>
      btoa(JSON.stringify(value)).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
    const unsigned = `${b64({ alg: 'none' })}.${b64({ ...claims, iat: seconds(), exp: seconds() + 60 })}.`;
    for (const [jwt, reason] of [
      [hmac, 'HMAC'],
      [unsigned, "'none'"],
    ] as const) {
      const response = await tokenRequest(server.fetch, {
        grant_type: 'client_credentials',
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: jwt,
      });
      expect(response.status).toBe(401);
      const body = await response.json();
      expect(body.error).toBe('invalid_client');
      expect(body.error_description).toContain(reason);
    }
  });

  it('refuses a replayed assertion (same jti) on the same instance', async () => {
    const { server, as, client, auth } = await setup();
    let body = '';
    const capture = {
      [oauth.customFetch]: async (url: URL | string, init?: RequestInit) => {
        body = String(init?.body);
        return server.fetch(new Request(url, init));
      },
    };
    await oauth.processClientCredentialsResponse(
      as,
      client,
      await oauth.clientCredentialsGrantRequest(as, client, auth(), {}, capture),
    );
    const replay = await server.fetch(
      new Request(`${ISSUER}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body,
      }),
    );
    expect(replay.status).toBe(401);
    expect(await replay.json()).toMatchObject({
      error: 'invalid_client',
      error_description: expect.stringContaining('already used'),
    });
  });

  it('refuses an assertion from a client that did not register private_key_jwt', async () => {
    const { server, as, options } = await setup();
    const { client_id, client_secret } = await register(server.fetch, {
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['client_credentials'],
      redirect_uris: undefined,
    });
    expect(client_secret).toBeTruthy();
    const key = await keyPair('ES256');
    const refused = await oauthError(
      oauth
        .clientCredentialsGrantRequest(as, { client_id }, oauth.PrivateKeyJwt(key.privateKey), {}, options)
        .then((r) => oauth.processClientCredentialsResponse(as, { client_id }, r)),
    );
    expect(refused).toMatchObject({ error: 'invalid_client', status: 401 });
    expect(refused.description).toContain('client_secret_basic');
    // RFC 6749 §5.2: this client authenticates with the Authorization header, so the 401 says how.
    expect(refused.headers.get('www-authenticate')).toMatch(/^Basic /);
  });
});

describe('privateKeyJwt() with jwks_uri', () => {
  const JWKS_URI = 'https://keys.client.example/jwks.json';

  it('fetches the key set through the document fetch and caches it', async () => {
    const key = await keyPair('RS256');
    const fetched: string[] = [];
    const fetchFn = async (url: string) => {
      fetched.push(url);
      return json({ keys: [key.publicJwk] }, { 'cache-control': 'max-age=300' });
    };
    const { server, as, options } = await serverWith({
      extensions: EXTENSIONS,
      now: Date.now,
      clientIdMetadataDocuments: { fetch: fetchFn },
    });
    const { client_id } = await register(server.fetch, {
      token_endpoint_auth_method: 'private_key_jwt',
      grant_types: ['client_credentials'],
      redirect_uris: undefined,
      jwks_uri: JWKS_URI,
    });
    for (let i = 0; i < 3; i++) {
      const response = await oauth.clientCredentialsGrantRequest(
        as,
        { client_id },
        oauth.PrivateKeyJwt({ key: key.privateKey, kid: key.kid }),
        {},
        options,
      );
      expect(
        (await oauth.processClientCredentialsResponse(as, { client_id }, response)).access_token,
      ).toBeTruthy();
    }
    expect(fetched).toEqual([JWKS_URI]);
  });

  it('follows the key set’s Cache-Control like a metadata document, never under the 30 s cooldown', async () => {
    const key = await keyPair('ES256');
    const fetched: string[] = [];
    let skew = 0;
    const { server, as, options } = await serverWith({
      extensions: EXTENSIONS,
      now: () => Date.now() + skew,
      clientIdMetadataDocuments: {
        fetch: async (url: string) => {
          fetched.push(url);
          return json({ keys: [key.publicJwk] }, { 'cache-control': 'no-store' });
        },
      },
    });
    const { client_id } = await register(server.fetch, {
      token_endpoint_auth_method: 'private_key_jwt',
      grant_types: ['client_credentials'],
      redirect_uris: undefined,
      jwks_uri: JWKS_URI,
    });
    const redeem = async () =>
      oauth.processClientCredentialsResponse(
        as,
        { client_id },
        await oauth.clientCredentialsGrantRequest(
          as,
          { client_id },
          oauth.PrivateKeyJwt({ key: key.privateKey, kid: key.kid }),
          {},
          options,
        ),
      );
    await redeem();
    await redeem();
    expect(fetched).toHaveLength(1);
    skew = 31_000;
    await redeem();
    expect(fetched).toHaveLength(2);
  });

  it('refuses a jwks_uri at a private address, at registration and when a stored one is used', async () => {
    const fetched: string[] = [];
    const { server, storage, as } = await serverWith({
      extensions: EXTENSIONS,
      now: Date.now,
      clientIdMetadataDocuments: {
        fetch: async (url: string) => {
          fetched.push(url);
          return json({ keys: [] });
        },
      },
    });
    for (const uri of [
      'https://10.0.0.7/jwks',
      'https://127.0.0.1/jwks',
      'https://[::1]/jwks',
      'https://localhost/jwks',
    ]) {
      const { body } = await registerClient(server.fetch, {
        token_endpoint_auth_method: 'private_key_jwt',
        jwks_uri: uri,
      });
      expect(body.error, uri).toBe('invalid_client_metadata');
    }
    // A record that names a private jwks_uri (written before the rule, or by hand) is still not fetched.
    const { client_id } = await register(server.fetch, {
      token_endpoint_auth_method: 'private_key_jwt',
      grant_types: ['client_credentials'],
      redirect_uris: undefined,
      jwks_uri: JWKS_URI,
    });
    const stored = JSON.parse((await storage.get('client', client_id))!.value);
    await storage.put(
      'client',
      client_id,
      JSON.stringify({ ...stored, jwksUri: 'https://169.254.169.254/latest' }),
      null,
    );
    const fresh = makeServer({
      storage,
      extensions: EXTENSIONS,
      now: Date.now,
      clientIdMetadataDocuments: {
        fetch: async (url: string) => {
          fetched.push(url);
          return json({ keys: [] });
        },
      },
    });
    const key = await keyPair('ES256');
    const refused = await oauthError(
      oauth
        .clientCredentialsGrantRequest(
          as,
          { client_id },
          oauth.PrivateKeyJwt(key.privateKey),
          {},
          inProcess(fresh.server.fetch),
        )
        .then((r) => oauth.processClientCredentialsResponse(as, { client_id }, r)),
    );
    expect(refused).toMatchObject({ error: 'invalid_client', status: 401 });
    expect(refused.description).toMatch(/public|private|address/);
    expect(fetched).toEqual([]);
  });
});

describe('privateKeyJwt() with Client ID Metadata Documents', () => {
  const CHATGPT = REAL_DOCUMENTS.find((d) => d.client === 'ChatGPT')!;
  const CHATGPT_ID = String(CHATGPT.document.client_id);

  /** A server serving one CIMD document (ChatGPT's, with our key set at its jwks_uri). */
  async function withDocument(document: Record<string, unknown>) {
    const key = await keyPair('RS256');
    const fetchFn = async (url: string) =>
      url === CHATGPT_ID ? json(document) : json({ keys: [key.publicJwk] });
    const ctx = await serverWith({
      extensions: [privateKeyJwt()],
      now: Date.now,
      clientIdMetadataDocuments: { fetch: fetchFn },
    });
    const { code } = await obtainCode(ctx.server.fetch, CHATGPT_ID, { redirect_uri: CHATGPT.redirectUri });
    const form = {
      grant_type: 'authorization_code',
      code,
      redirect_uri: CHATGPT.redirectUri,
      code_verifier: VERIFIER,
    };
    return { ...ctx, key, form };
  }

  /** A signed client assertion for ChatGPT's client_id. */
  const assertion = async (key: Awaited<ReturnType<typeof keyPair>>) =>
    new SignJWT({ jti: crypto.randomUUID() })
      .setProtectedHeader({ alg: 'RS256', kid: key.kid })
      .setIssuer(CHATGPT_ID)
      .setSubject(CHATGPT_ID)
      .setAudience(ISSUER)
      .setIssuedAt()
      .setExpirationTime('1m')
      .sign(key.privateKey);

  it("lets ChatGPT's document authenticate with private_key_jwt", async () => {
    const { server, key, form } = await withDocument(CHATGPT.document);
    const response = await tokenRequest(server.fetch, {
      ...form,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: await assertion(key),
    });
    expect(response.status).toBe(200);
  });

  it("still lets ChatGPT's document be a public client, because it lists none", async () => {
    const { server, form } = await withDocument(CHATGPT.document);
    const response = await tokenRequest(server.fetch, { ...form, client_id: CHATGPT_ID });
    expect(response.status).toBe(200);
  });

  it('requires the assertion from a document that does not list none', async () => {
    const { token_endpoint_auth_methods_supported: _listed, ...only } = CHATGPT.document;
    const { server, key, form } = await withDocument(only);
    const publicTry = await tokenRequest(server.fetch, { ...form, client_id: CHATGPT_ID });
    expect(publicTry.status).toBe(401);
    expect(await publicTry.json()).toMatchObject({
      error: 'invalid_client',
      error_description: 'This client must authenticate with private_key_jwt, not none',
    });
    // The refused attempt did not burn the code: the authenticated retry redeems it.
    const response = await tokenRequest(server.fetch, {
      ...form,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: await assertion(key),
    });
    expect(response.status).toBe(200);
  });
});
