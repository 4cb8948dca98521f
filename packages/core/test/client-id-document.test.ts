import { describe, expect, it } from 'vitest';
import { clientIdUrlProblem } from '../src/clients/id-document.js';
import { sha256 } from '../src/crypto/hash.js';
import { REAL_DOCUMENTS } from './fixtures/real-clients.js';
import {
  approveWithPin,
  authorizeUrl,
  Browser,
  ISSUER,
  makeServer,
  obtainCode,
  tokenRequest,
  VERIFIER,
} from './helpers.js';

const CLIENT_ID = 'https://app.example.org/oauth/client.json';
const document = (extra: Record<string, unknown> = {}) => ({
  client_id: CLIENT_ID,
  client_name: 'Metadata Document App',
  redirect_uris: ['https://app.example.org/callback'],
  grant_types: ['authorization_code', 'refresh_token'],
  token_endpoint_auth_method: 'none',
  ...extra,
});

/** The document host: the fetch the server is configured with, counting calls. */
function host(respond: (url: string) => Response) {
  const calls: { url: string; init: RequestInit }[] = [];
  const fetch = async (url: string, init: RequestInit) => {
    calls.push({ url, init });
    return respond(url);
  };
  return { calls, fetch };
}

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

describe('Client ID Metadata Documents', () => {
  it('advertises support and completes a flow with a URL client_id, caching the document', async () => {
    const docHost = host(() => json(document()));
    const { server } = makeServer({ clientIdMetadataDocuments: { fetch: docHost.fetch } });
    const metadata = await (
      await server.fetch(new Request(`${ISSUER}/.well-known/oauth-authorization-server`))
    ).json();
    expect(metadata.client_id_metadata_document_supported).toBe(true);

    const page = await new Browser(server.fetch).fetch(
      await authorizeUrl(CLIENT_ID, { redirect_uri: 'https://app.example.org/callback' }),
    );
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Metadata Document App');
    const redirect = await approveWithPin(
      new Browser(server.fetch),
      await authorizeUrl(CLIENT_ID, { redirect_uri: 'https://app.example.org/callback' }),
    );
    const code = new URL(redirect.headers.get('location')!).searchParams.get('code')!;
    const tokens = await tokenRequest(server.fetch, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: 'https://app.example.org/callback',
      code_verifier: VERIFIER,
      client_id: CLIENT_ID,
    });
    expect(tokens.status).toBe(200);
    expect(docHost.calls).toHaveLength(1);
    expect(docHost.calls[0]!.init.redirect).toBe('manual');
  });

  it.each([
    [
      'a mismatched client_id',
      () => json(document({ client_id: 'https://other.example.org/c.json' })),
      'does not match',
    ],
    ['a client secret', () => json(document({ client_secret: 's3cret' })), 'client secret'],
    [
      'a shared-secret auth method',
      () => json(document({ token_endpoint_auth_method: 'client_secret_basic' })),
      'shared-secret method',
    ],
    [
      'a javascript: redirect URI',
      () => json(document({ redirect_uris: ['javascript:alert(1)'] })),
      'forbidden scheme',
    ],
    [
      'a redirect response',
      () => new Response(null, { status: 302, headers: { location: 'http://169.254.169.254/' } }),
      'HTTP 302',
    ],
    ['an HTTP error', () => json({}, 404), 'HTTP 404'],
    ['invalid JSON', () => new Response('<html>', { status: 200 }), 'not valid JSON'],
    ['an oversized document', () => json(document({ client_name: 'x'.repeat(6000) })), 'larger than'],
  ])('refuses a document with %s as a page, never a redirect', async (_name, respond, reason) => {
    const { server } = makeServer({ clientIdMetadataDocuments: { fetch: host(respond).fetch } });
    const response = await new Browser(server.fetch).fetch(
      await authorizeUrl(CLIENT_ID, { redirect_uri: 'https://app.example.org/callback' }),
    );
    expect(response.status).toBe(400);
    expect(response.headers.get('location')).toBeNull();
    expect(await response.text()).toContain(reason);
  });

  it('refuses redirect URIs not listed in the document', async () => {
    const { server } = makeServer({
      clientIdMetadataDocuments: { fetch: host(() => json(document())).fetch },
    });
    const response = await new Browser(server.fetch).fetch(
      await authorizeUrl(CLIENT_ID, { redirect_uri: 'https://attacker.example/cb' }),
    );
    expect(response.status).toBe(400);
  });

  it('treats URL client_ids as unknown when disabled', async () => {
    const docHost = host(() => json(document()));
    const { server } = makeServer({ clientIdMetadataDocuments: { enabled: false, fetch: docHost.fetch } });
    const response = await new Browser(server.fetch).fetch(
      await authorizeUrl(CLIENT_ID, { redirect_uri: 'https://app.example.org/callback' }),
    );
    expect(response.status).toBe(400);
    expect(docHost.calls).toHaveLength(0);
  });

  it.each([
    ['http://app.example.org/c.json', 'https'],
    ['https://app.example.org', 'path'],
    ['https://app.example.org/', 'path'],
    ['https://user@app.example.org/c.json', 'user information'],
    ['https://app.example.org/a/../c.json', 'dot segments'],
    ['https://app.example.org/c.json#x', 'fragment'],
    ['https://localhost/c.json', 'public host'],
    ['https://127.0.0.1/c.json', 'public host'],
    ['https://10.1.2.3/c.json', 'public host'],
    ['https://169.254.169.254/latest/meta-data', 'public host'],
    ['https://192.168.1.1/c.json', 'public host'],
    ['https://[::1]/c.json', 'public host'],
    ['https://metadata.google.internal/c.json', 'public host'],
    ['https://0x7f000001/c.json', 'normalized form'],
    ['https://intranet/c.json', 'public host'],
  ])('refuses the client_id URL %s (SSRF and draft §3 rules)', async (url, reason) => {
    expect(clientIdUrlProblem(url)).toContain(reason);
    const docHost = host(() => json(document({ client_id: url })));
    const { server } = makeServer({ clientIdMetadataDocuments: { fetch: docHost.fetch } });
    const response = await new Browser(server.fetch).fetch(await authorizeUrl(url));
    expect(response.status).toBe(400);
    expect(docHost.calls).toHaveLength(0);
  });

  it('accepts ordinary public https URLs', () => {
    expect(clientIdUrlProblem(CLIENT_ID)).toBeUndefined();
    expect(clientIdUrlProblem('https://vscode.dev/oauth/client-metadata.json')).toBeUndefined();
  });
});

describe('Client ID Metadata Documents of real clients (the same tolerant rules as registration)', () => {
  it.each(REAL_DOCUMENTS.map((d) => [d.client, d] as const))(
    '%s: authorize, token and refresh as a public client',
    async (_name, real) => {
      const clientId = String(real.document.client_id);
      const docHost = host((url) => (url === clientId ? json(real.document) : json({}, 404)));
      const { server } = makeServer({ clientIdMetadataDocuments: { fetch: docHost.fetch } });
      const { code } = await obtainCode(server.fetch, clientId, { redirect_uri: real.redirectUri });
      const tokens = await tokenRequest(server.fetch, {
        grant_type: 'authorization_code',
        code,
        redirect_uri: real.redirectUri,
        code_verifier: VERIFIER,
        client_id: clientId,
      });
      expect(tokens.status).toBe(200);
      const body = await tokens.json();
      expect(body.scope).toBe('mcp');
      const refreshed = await tokenRequest(server.fetch, {
        grant_type: 'refresh_token',
        refresh_token: body.refresh_token,
        client_id: clientId,
      });
      expect(refreshed.status).toBe(200);
      // The extension grants a document lists (device_code, jwt-bearer) are narrowed away, not usable.
      const jwtBearer = await tokenRequest(server.fetch, {
        grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
        assertion: 'x',
        client_id: clientId,
      });
      expect((await jwtBearer.json()).error).toBe('unsupported_grant_type');
    },
  );

  const chatgpt = REAL_DOCUMENTS.find((d) => d.client === 'ChatGPT')!.document;

  it.each([
    [
      'only the device_code grant',
      document({ grant_types: ['urn:ietf:params:oauth:grant-type:device_code'] }),
      'No usable grant type',
    ],
    ['only an id_token response type', document({ response_types: ['id_token'] }), 'No usable response type'],
    ['client_secret_post', document({ token_endpoint_auth_method: 'client_secret_post' }), 'shared-secret'],
    [
      'private_key_jwt without keys',
      document({ token_endpoint_auth_method: 'private_key_jwt' }),
      'jwks or jwks_uri',
    ],
    [
      'a private_key_jwt key set at a private address',
      document({ token_endpoint_auth_method: 'private_key_jwt', jwks_uri: 'https://169.254.169.254/jwks' }),
      'public host',
    ],
    ['a client_secret_expires_at', document({ client_secret_expires_at: 0 }), 'client secret'],
  ])('refuses a document with %s', async (_name, doc, reason) => {
    const { server } = makeServer({ clientIdMetadataDocuments: { fetch: host(() => json(doc)).fetch } });
    const response = await new Browser(server.fetch).fetch(
      await authorizeUrl(CLIENT_ID, { redirect_uri: 'https://app.example.org/callback' }),
    );
    expect(response.status).toBe(400);
    expect(response.headers.get('location')).toBeNull();
    expect(await response.text()).toContain(reason);
  });

  it('accepts a document that lists shared-secret methods beside none, as a public client', async () => {
    const doc = document({ token_endpoint_auth_methods_supported: ['client_secret_basic', 'none'] });
    const { server } = makeServer({ clientIdMetadataDocuments: { fetch: host(() => json(doc)).fetch } });
    const { code } = await obtainCode(server.fetch, CLIENT_ID, {
      redirect_uri: 'https://app.example.org/callback',
    });
    const token = await tokenRequest(server.fetch, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: 'https://app.example.org/callback',
      code_verifier: VERIFIER,
      client_id: CLIENT_ID,
    });
    expect(token.status).toBe(200);
    const withSecret = await tokenRequest(server.fetch, {
      grant_type: 'refresh_token',
      refresh_token: (await token.json()).refresh_token,
      client_id: CLIENT_ID,
      client_secret: 'guess',
    });
    expect(withSecret.status).toBe(401);
    expect((await withSecret.json()).error).toBe('invalid_client');
  });

  it("records ChatGPT's private_key_jwt with its jwks_uri and none as the alternative", async () => {
    const clientId = String(chatgpt.client_id);
    const { server, storage } = makeServer({
      clientIdMetadataDocuments: { fetch: host(() => json(chatgpt)).fetch },
    });
    const page = await new Browser(server.fetch).fetch(
      await authorizeUrl(clientId, { redirect_uri: 'https://chatgpt.com/connector_platform_oauth_redirect' }),
    );
    expect(page.status).toBe(200);
    const cached = await storage.get('cache', `cimd:${await sha256(clientId)}`);
    expect(JSON.parse(cached!.value)).toMatchObject({
      authMethod: 'private_key_jwt',
      authMethods: ['private_key_jwt', 'none'],
      jwksUri: 'https://chatgpt.com/oauth/jwks.json',
      tokenEndpointAuthSigningAlg: 'RS256',
      grantTypes: ['authorization_code', 'refresh_token'],
      responseTypes: ['code'],
      applicationType: 'web',
    });
    // Never a registered client: documents do not expire for want of use, they are re-fetched.
    expect(await storage.get('client', clientId)).toBeNull();
  });
});
