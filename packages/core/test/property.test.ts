import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ISSUER, makeServer, registerClient } from './helpers.js';

const KNOWN = new Set([
  'invalid_request',
  'invalid_client',
  'invalid_grant',
  'unauthorized_client',
  'unsupported_grant_type',
  'invalid_scope',
  'invalid_target',
  'invalid_redirect_uri',
  'invalid_client_metadata',
  'temporarily_unavailable',
]);

const jsonValue = fc.jsonValue({ maxDepth: 3 });
const field = fc.constantFrom(
  'redirect_uris',
  'token_endpoint_auth_method',
  'grant_types',
  'response_types',
  'client_name',
  'client_uri',
  'logo_uri',
  'scope',
  'contacts',
  'jwks',
  'software_id',
  'tos_uri',
);
const uriLike = fc.oneof(
  fc.webUrl({ withFragments: true, withQueryParameters: true }),
  fc.constantFrom(
    'javascript:alert(1)',
    'http://127.0.0.1:1/cb',
    'com.app:/cb',
    '',
    'https://a@b.c/',
    'data:,x',
  ),
  fc.string(),
);

async function expectRfcError(response: Response) {
  expect(response.status).toBeLessThan(500);
  if (response.status >= 400) {
    const body = await response.json();
    expect(KNOWN.has(body.error)).toBe(true);
    expect(typeof body.error_description).toBe('string');
    expect(response.headers.get('cache-control')).toBe('no-store');
  }
}

describe('no request input produces a 500', () => {
  it('registration with arbitrary metadata', async () => {
    const { server } = makeServer();
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(field, fc.oneof(jsonValue, fc.array(uriLike, { maxLength: 3 }), uriLike), {
          maxKeys: 6,
        }),
        async (metadata) => {
          const response = await server.fetch(
            new Request(`${ISSUER}/register`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify(metadata),
            }),
          );
          await expectRfcError(response);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('registration with arbitrary bytes and content types', async () => {
    const { server } = makeServer();
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 300 }),
        fc.constantFrom('application/json', 'text/plain', '', 'application/json; charset=latin1'),
        async (bytes, type) => {
          const response = await server.fetch(
            new Request(`${ISSUER}/register`, {
              method: 'POST',
              headers: type ? { 'content-type': type } : {},
              body: bytes,
            }),
          );
          await expectRfcError(response);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('token requests with arbitrary parameters and Authorization headers', async () => {
    const { server } = makeServer();
    const { body: client } = await registerClient(server.fetch);
    const param = fc.constantFrom(
      'grant_type',
      'code',
      'redirect_uri',
      'code_verifier',
      'client_id',
      'client_secret',
      'refresh_token',
      'scope',
      'resource',
    );
    const value = fc.oneof(
      fc.string(),
      fc.constantFrom(
        'authorization_code',
        'refresh_token',
        client.client_id!,
        'pcac_x',
        'https://as.example.com/mcp',
        'a'.repeat(50),
      ),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(param, value), { maxLength: 8 }),
        fc.option(
          fc.oneof(
            fc.string(),
            fc.constant('Basic '),
            fc.string().map((s) => `Basic ${btoa(unescape(encodeURIComponent(s)))}`),
          ),
        ),
        async (pairs, authorization) => {
          const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
          if (authorization !== null && /^[\x20-\x7e]*$/.test(authorization))
            headers.authorization = authorization;
          const response = await server.fetch(
            new Request(`${ISSUER}/token`, { method: 'POST', headers, body: new URLSearchParams(pairs) }),
          );
          await expectRfcError(response);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('authorize with arbitrary query strings answers a page or a redirect, never a 500', async () => {
    const { server } = makeServer();
    const { body: client } = await registerClient(server.fetch);
    const param = fc.constantFrom(
      'response_type',
      'client_id',
      'redirect_uri',
      'code_challenge',
      'code_challenge_method',
      'scope',
      'state',
      'resource',
    );
    const value = fc.oneof(
      fc.string(),
      fc.constantFrom(
        'code',
        'S256',
        client.client_id!,
        'https://client.example.com/callback',
        'x'.repeat(43),
      ),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(param, value), { maxLength: 10 }), async (pairs) => {
        const response = await server.fetch(new Request(`${ISSUER}/authorize?${new URLSearchParams(pairs)}`));
        expect([200, 302, 400]).toContain(response.status);
        if (response.status === 302) {
          expect(response.headers.get('location')!.startsWith('https://client.example.com/callback?')).toBe(
            true,
          );
        }
      }),
      { numRuns: 300 },
    );
  });
});
