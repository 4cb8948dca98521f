/**
 * `clientCredentials()`: the MCP OAuth Client Credentials extension (SEP-1046, RFC 6749 §4.4), driven by
 * oauth4webapi's client-credentials request with its Basic, post and private_key_jwt client auth.
 */
import { clientCredentials, privateKeyJwt } from '@portcullis/core/extensions';
import * as oauth from 'oauth4webapi';
import { describe, expect, it } from 'vitest';
import { issueTokens, makeServer, registerClient } from '../helpers.js';
import { discover, ISSUER, keyPair, oauthError, register, serverWith } from './support.js';

const RESOURCES = [{ path: '/mcp' }, { path: '/tools', scopes: ['tools'] }];

/** The clients the tests allow (the registered ones; `machine` adds each). */
const allowed = new Set<string>();

async function setup(overrides = {}) {
  return serverWith({
    extensions: [clientCredentials({ allow: ({ clientId }) => allowed.has(clientId) }), privateKeyJwt()],
    now: Date.now,
    scopes: { supported: ['mcp', 'mcp:read', 'tools'] },
    resources: RESOURCES,
    ...overrides,
  });
}

/** Registers a machine client: client_credentials only, no redirect URIs. */
async function machine(fetcher: (r: Request) => Promise<Response>, metadata: Record<string, unknown>) {
  const registered = await register(fetcher, {
    grant_types: ['client_credentials'],
    redirect_uris: undefined,
    ...metadata,
  });
  allowed.add(registered.client_id);
  return registered;
}

describe('clientCredentials()', () => {
  it.each([
    ['client_secret_basic', (secret: string) => oauth.ClientSecretBasic(secret)],
    ['client_secret_post', (secret: string) => oauth.ClientSecretPost(secret)],
  ])(
    'issues a token to a %s client, for the client itself, without a refresh token',
    async (method, auth) => {
      const { server, as, options } = await setup();
      const registered = await machine(server.fetch, { token_endpoint_auth_method: method });
      expect(registered).toMatchObject({ grant_types: ['client_credentials'], response_types: [] });
      expect(registered.redirect_uris).toEqual([]);
      const client = { client_id: registered.client_id };
      const tokens = await oauth.processClientCredentialsResponse(
        as,
        client,
        await oauth.clientCredentialsGrantRequest(
          as,
          client,
          auth(registered.client_secret!),
          { scope: 'mcp' },
          options,
        ),
      );
      expect(tokens).toMatchObject({ token_type: 'bearer', scope: 'mcp' });
      expect(tokens.refresh_token).toBeUndefined();
      const auth2 = await server.authenticate(
        new Request(`${ISSUER}/mcp`, { headers: { authorization: `Bearer ${tokens.access_token}` } }),
      );
      // RFC 9068 §2.2: with no user, the subject is the client.
      expect(auth2.ok && auth2.info).toMatchObject({ clientId: client.client_id, userId: client.client_id });
    },
  );

  it('issues a token to a private_key_jwt client', async () => {
    const { server, as, options } = await setup();
    const key = await keyPair('EdDSA');
    const { client_id } = await machine(server.fetch, {
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [key.publicJwk] },
    });
    const tokens = await oauth.processClientCredentialsResponse(
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
    expect(tokens.scope).toBe('mcp');
  });

  it('honours resource and scope like the authorization endpoint', async () => {
    const { server, as, options } = await setup();
    const { client_id, client_secret } = await machine(server.fetch, {
      token_endpoint_auth_method: 'client_secret_basic',
    });
    const request = (parameters: Record<string, string>) =>
      oauth
        .clientCredentialsGrantRequest(
          as,
          { client_id },
          oauth.ClientSecretBasic(client_secret!),
          parameters,
          options,
        )
        .then((r) => oauth.processClientCredentialsResponse(as, { client_id }, r));
    const tools = await request({ resource: `${ISSUER}/tools`, scope: 'tools' });
    expect(tools.scope).toBe('tools');
    const at = await server.authenticate(
      new Request(`${ISSUER}/tools`, { headers: { authorization: `Bearer ${tools.access_token}` } }),
    );
    expect(at.ok && at.info.resource).toBe(`${ISSUER}/tools`);
    const elsewhere = await server.authenticate(
      new Request(`${ISSUER}/mcp`, { headers: { authorization: `Bearer ${tools.access_token}` } }),
    );
    expect(elsewhere.ok).toBe(false);
    // RFC 6749 §3.3: an ungrantable scope is dropped from the request (tolerant mode).
    expect((await request({ scope: 'mcp:read unknown' })).scope).toBe('mcp:read');
    expect(await oauthError(request({ resource: 'https://elsewhere.example.com/mcp' }))).toMatchObject({
      error: 'invalid_target',
      status: 400,
    });
    expect(await oauthError(request({ resource: 'not a uri' }))).toMatchObject({ error: 'invalid_target' });
  });

  it('refuses an ungrantable scope with invalid_scope in strict mode', async () => {
    const { server, as, options } = await setup({ scopes: { supported: ['mcp', 'tools'], strict: true } });
    const { client_id, client_secret } = await machine(server.fetch, {
      token_endpoint_auth_method: 'client_secret_post',
    });
    const refused = await oauthError(
      oauth
        .clientCredentialsGrantRequest(
          as,
          { client_id },
          oauth.ClientSecretPost(client_secret!),
          { scope: 'admin' },
          options,
        )
        .then((r) => oauth.processClientCredentialsResponse(as, { client_id }, r)),
    );
    expect(refused).toMatchObject({ error: 'invalid_scope', status: 400 });
  });

  it('refuses a client the options do not allow with unauthorized_client', async () => {
    const { server, as, options } = await setup();
    // Registered by anyone (open registration), not allowed by the operator.
    const { client_id, client_secret } = await register(server.fetch, {
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['client_credentials'],
      redirect_uris: undefined,
    });
    const refused = await oauthError(
      oauth
        .clientCredentialsGrantRequest(
          as,
          { client_id },
          oauth.ClientSecretBasic(client_secret!),
          {},
          options,
        )
        .then((r) => oauth.processClientCredentialsResponse(as, { client_id }, r)),
    );
    expect(refused).toMatchObject({ error: 'unauthorized_client', status: 400 });
    expect(refused.description).toContain('may not use');
  });

  it('allows the client_ids listed in clients', async () => {
    const key = await keyPair('ES256');
    const id = 'https://agent.example.com/client.json';
    const document = {
      client_id: id,
      token_endpoint_auth_method: 'private_key_jwt',
      grant_types: ['client_credentials'],
      jwks: { keys: [key.publicJwk] },
    };
    const { as, options } = await setup({
      extensions: [clientCredentials({ clients: [id] }), privateKeyJwt()],
      clientIdMetadataDocuments: {
        fetch: async () =>
          new Response(JSON.stringify(document), { headers: { 'content-type': 'application/json' } }),
      },
    });
    const tokens = await oauth.processClientCredentialsResponse(
      as,
      { client_id: id },
      await oauth.clientCredentialsGrantRequest(
        as,
        { client_id: id },
        oauth.PrivateKeyJwt({ key: key.privateKey, kid: key.kid }),
        {},
        options,
      ),
    );
    expect(tokens.access_token).toMatch(/^pcat_/);
    expect(() => clientCredentials({})).toThrow(/allowed clients/);
  });

  it('refuses public clients with unauthorized_client', async () => {
    const { server, as, options } = await setup();
    const { client_id } = await machine(server.fetch, { token_endpoint_auth_method: 'none' });
    const refused = await oauthError(
      oauth
        .clientCredentialsGrantRequest(as, { client_id }, oauth.None(), {}, options)
        .then((r) => oauth.processClientCredentialsResponse(as, { client_id }, r)),
    );
    expect(refused).toMatchObject({ error: 'unauthorized_client', status: 400 });
    expect(refused.description).toContain('client authentication');
  });

  it('refuses a private_key_jwt client that authenticates as a public one (none listed)', async () => {
    const { server, as, options } = await setup();
    const key = await keyPair('ES256');
    const { client_id, token_endpoint_auth_methods_supported } = await machine(server.fetch, {
      token_endpoint_auth_method: 'private_key_jwt',
      token_endpoint_auth_methods_supported: ['private_key_jwt', 'none'],
      jwks: { keys: [key.publicJwk] },
    });
    expect(token_endpoint_auth_methods_supported).toEqual(['private_key_jwt', 'none']);
    const refused = await oauthError(
      oauth
        .clientCredentialsGrantRequest(as, { client_id }, oauth.None(), {}, options)
        .then((r) => oauth.processClientCredentialsResponse(as, { client_id }, r)),
    );
    expect(refused).toMatchObject({ error: 'unauthorized_client' });
  });

  it('refuses a client that did not register the grant with unauthorized_client', async () => {
    const { server, as, options } = await setup();
    const { client_id, client_secret } = await register(server.fetch, {
      token_endpoint_auth_method: 'client_secret_basic',
    });
    const refused = await oauthError(
      oauth
        .clientCredentialsGrantRequest(
          as,
          { client_id },
          oauth.ClientSecretBasic(client_secret!),
          {},
          options,
        )
        .then((r) => oauth.processClientCredentialsResponse(as, { client_id }, r)),
    );
    expect(refused).toMatchObject({ error: 'unauthorized_client' });
  });

  it('refuses a wrong secret with invalid_client and a Basic challenge (RFC 6749 §5.2)', async () => {
    const { server, as, options } = await setup();
    const { client_id } = await machine(server.fetch, { token_endpoint_auth_method: 'client_secret_basic' });
    const refused = await oauthError(
      oauth
        .clientCredentialsGrantRequest(as, { client_id }, oauth.ClientSecretBasic('pcs_wrong'), {}, options)
        .then((r) => oauth.processClientCredentialsResponse(as, { client_id }, r)),
    );
    expect(refused).toMatchObject({ error: 'invalid_client', status: 401 });
    expect(refused.headers.get('www-authenticate')).toMatch(/^Basic /);
  });

  it('is advertised and registrable only when installed', async () => {
    const { as } = await setup();
    expect(as.grant_types_supported).toEqual(['authorization_code', 'refresh_token', 'client_credentials']);
    const plain = makeServer();
    expect((await discover(plain.server)).grant_types_supported).not.toContain('client_credentials');
    // Without the extension the grant is not offered, so a machine client has no usable grant.
    const refused = await registerClient(plain.server.fetch, {
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['client_credentials'],
      redirect_uris: undefined,
    });
    expect(refused.response.status).toBe(400);
    expect(refused.body).toMatchObject({ error: 'invalid_client_metadata' });
    expect(refused.body.error_description).toContain('No usable grant type');
  });

  it('leaves a user token flow untouched (a client with both grants)', async () => {
    const { server } = await setup();
    const { client_id } = await register(server.fetch, {
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'client_credentials'],
    });
    const tokens = await issueTokens(server.fetch, client_id);
    expect(tokens.access_token).toMatch(/^pcat_/);
  });
});
