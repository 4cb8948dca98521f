/**
 * Client authentication at the token, revocation and introspection endpoints (RFC 6749 §2.3, RFC 7591
 * `token_endpoint_auth_method`): one method per request, one the client registered or listed.
 */
import { describe, expect, it } from 'vitest';
import { CLIENT_AUTH_METHODS } from '../src/clients/authenticate.js';
import { REAL_DOCUMENTS } from './fixtures/real-clients.js';
import { ISSUER, makeServer, obtainCode, registerClient, tokenRequest, VERIFIER } from './helpers.js';

const CHATGPT = REAL_DOCUMENTS.find((d) => d.client === 'ChatGPT')!;
const CHATGPT_ID = String(CHATGPT.document.client_id);
const json = (body: unknown) =>
  new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } });

/** A server that serves one client ID metadata document, and a code for that client. */
async function withDocument(document: Record<string, unknown>) {
  const ctx = makeServer({ clientIdMetadataDocuments: { fetch: async () => json(document) } });
  const { code } = await obtainCode(ctx.server.fetch, CHATGPT_ID, { redirect_uri: CHATGPT.redirectUri });
  const redeem = (extra: Record<string, string> = {}) =>
    tokenRequest(ctx.server.fetch, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: CHATGPT.redirectUri,
      code_verifier: VERIFIER,
      client_id: CHATGPT_ID,
      ...extra,
    });
  return { ...ctx, redeem };
}

const ASSERTION = {
  client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
  client_assertion: 'eyJhbGciOiJSUzI1NiJ9.e30.c2ln',
};

describe('client authentication methods', () => {
  it('metadata lists exactly the methods the registry verifies', async () => {
    const { server } = makeServer();
    const metadata = await (
      await server.fetch(new Request(`${ISSUER}/.well-known/oauth-authorization-server`))
    ).json();
    expect(metadata.token_endpoint_auth_methods_supported).toEqual(CLIENT_AUTH_METHODS);
    expect(CLIENT_AUTH_METHODS).toEqual(['client_secret_basic', 'client_secret_post', 'none']);
  });

  it("lets ChatGPT's document (private_key_jwt, none listed) authenticate as a public client", async () => {
    const { redeem } = await withDocument(CHATGPT.document);
    const response = await redeem();
    expect(response.status).toBe(200);
    expect((await response.json()).access_token).toMatch(/^pcat_/);
  });

  it('refuses a client assertion clearly while private_key_jwt is not verified here, without burning the code', async () => {
    const { redeem } = await withDocument(CHATGPT.document);
    const refused = await redeem(ASSERTION);
    expect(refused.status).toBe(401);
    const body = await refused.json();
    expect(body.error).toBe('invalid_client');
    expect(body.error_description).toContain('private_key_jwt');
    expect((await redeem()).status).toBe(200);
  });

  it('answers a client that can only do private_key_jwt with invalid_client at /token', async () => {
    const { token_endpoint_auth_methods_supported: _listed, ...only } = CHATGPT.document;
    const { redeem } = await withDocument(only);
    const response = await redeem();
    expect(response.status).toBe(401);
    const body = await response.json();
    expect(body.error).toBe('invalid_client');
    expect(body.error_description).toBe(
      'This client registered only private_key_jwt, which this server does not support',
    );
  });

  it('answers a registered private_key_jwt client the same way', async () => {
    const { server } = makeServer();
    const { body: client } = await registerClient(server.fetch, {
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [{ kty: 'EC', crv: 'P-256', x: 'x', y: 'y' }] },
    });
    const { code } = await obtainCode(server.fetch, client.client_id!);
    const response = await tokenRequest(server.fetch, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: 'https://client.example.com/callback',
      code_verifier: VERIFIER,
      client_id: client.client_id!,
    });
    expect(response.status).toBe(401);
    expect((await response.json()).error_description).toContain('private_key_jwt');
  });

  it.each([
    ['client_secret and a client assertion', { client_secret: 'x', ...ASSERTION }, {}],
    ['Basic and a client assertion', ASSERTION, { authorization: `Basic ${btoa('a:b')}` }],
    ['Basic and client_secret', { client_secret: 'x' }, { authorization: `Basic ${btoa('a:b')}` }],
  ])('refuses two methods in one request: %s', async (_name, form, headers) => {
    const { server } = makeServer();
    const response = await tokenRequest(
      server.fetch,
      { grant_type: 'refresh_token', refresh_token: 'pcrt_x', client_id: 'a', ...form },
      headers,
    );
    expect(response.status).toBe(400);
    expect((await response.json()).error).toBe('invalid_request');
  });

  it('keeps introspection for clients that authenticate, even when they may also be public', async () => {
    const { server } = await withDocument(CHATGPT.document);
    const response = await server.fetch(
      new Request(`${ISSUER}/introspect`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token: 'pcat_x', client_id: CHATGPT_ID }),
      }),
    );
    expect(response.status).toBe(401);
    expect((await response.json()).error).toBe('invalid_client');
  });
});
