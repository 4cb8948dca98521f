/**
 * Hostile HTTP input: tokens in URLs and bodies, malformed Authorization headers, oversized, streamed,
 * mis-encoded and malicious JSON / form bodies. Every one gets the RFC error code, never a 500.
 */
import { describe, expect } from 'vitest';
import {
  authorizeUrl,
  Browser,
  bearer,
  expectJsonError,
  expectPage,
  expectRefused,
  ISSUER,
  openPinPage,
  PIN,
  postRegister,
  runCases,
  type SecurityCase,
  setup,
  submit,
  tokenRequest,
  tokensFor,
} from '../support/security.js';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

/** `authenticate` refuses the header with `status` (and `error` when the request is malformed). */
function badBearer(name: string, header: string, status: number, error?: string): SecurityCase {
  return {
    source: status === 400 ? 'RFC 6750 §3.1' : 'RFC 6750 §3',
    name,
    run: async () => {
      const ctx = await setup();
      const { access_token } = await tokensFor(ctx);
      await expectRefused(await bearer(ctx.server, header.replace('$TOKEN', access_token)), status, error);
    },
  };
}

/** The token endpoint refuses a client Authorization header with 401 invalid_client + Basic challenge. */
function badBasic(name: string, header: string): SecurityCase {
  return {
    source: 'RFC 6749 §2.3.1',
    name,
    run: async () => {
      const { server } = await setup({ token_endpoint_auth_method: 'client_secret_basic' });
      const response = await tokenRequest(
        server.fetch,
        { grant_type: 'refresh_token', refresh_token: 'pcrt_x' },
        { authorization: header },
      );
      await expectJsonError(response, 'invalid_client', 401);
      expect(response.headers.get('www-authenticate')).toMatch(/^Basic /);
    },
  };
}

const credentials: SecurityCase[] = [
  {
    source: 'RFC 6750 §2.2',
    name: 'access token in a form body instead of the header is not accepted',
    run: async () => {
      const ctx = await setup();
      const { access_token } = await tokensFor(ctx);
      const result = await ctx.server.authenticate(
        new Request(`${ISSUER}/mcp`, {
          method: 'POST',
          headers: FORM,
          body: new URLSearchParams({ access_token }),
        }),
      );
      await expectRefused(result, 401);
    },
  },
  {
    source: 'RFC 9700 §4.3.2',
    name: 'access token in the query string even next to a valid header',
    run: async () => {
      const ctx = await setup();
      const { access_token } = await tokensFor(ctx);
      const result = await ctx.server.authenticate(
        new Request(`${ISSUER}/mcp?access_token=${access_token}`, {
          headers: { authorization: `Bearer ${access_token}` },
        }),
      );
      await expectRefused(result, 400, 'invalid_request');
    },
  },
  {
    source: 'RFC 6749 §3.2',
    name: 'token request parameters in the URL query, empty body',
    run: async () => {
      const ctx = await setup();
      const query = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'x' });
      const response = await ctx.server.fetch(
        new Request(`${ISSUER}/token?${query}`, { method: 'POST', headers: FORM, body: '' }),
      );
      await expectJsonError(response, 'invalid_request');
    },
  },
  {
    source: 'RFC 6749 §2.3.1',
    name: 'client_secret in the URL query is ignored (client_secret_post client fails)',
    run: async () => {
      const ctx = await setup({ token_endpoint_auth_method: 'client_secret_post' });
      const query = new URLSearchParams({ client_secret: ctx.client.client_secret! });
      const response = await ctx.server.fetch(
        new Request(`${ISSUER}/token?${query}`, {
          method: 'POST',
          headers: FORM,
          body: new URLSearchParams({
            grant_type: 'refresh_token',
            refresh_token: 'pcrt_x',
            client_id: ctx.clientId,
          }),
        }),
      );
      await expectJsonError(response, 'invalid_client', 401);
    },
  },
  badBearer('scheme without a token ("Bearer")', 'Bearer', 400, 'invalid_request'),
  badBearer('token followed by a second word', 'Bearer $TOKEN extra', 400, 'invalid_request'),
  badBearer('Basic credentials sent to a bearer resource', 'Basic dXNlcjpwYXNz', 400, 'invalid_request'),
  badBearer('two bearer tokens in one header', 'Bearer $TOKEN, Bearer $TOKEN', 400, 'invalid_request'),
  badBearer('tab instead of a space after the scheme', 'Bearer\t$TOKEN', 400, 'invalid_request'),
  badBearer('"=" inside the token68 value', 'Bearer $TOKEN=x', 400, 'invalid_request'),
  badBearer('valid token quoted like an auth-param', 'Bearer "$TOKEN"', 400, 'invalid_request'),
  badBearer('10 kB token', `Bearer ${'A'.repeat(10_000)}`, 401, 'invalid_token'),
  badBearer('valid token with a changed last character', 'Bearer $TOKENx', 401, 'invalid_token'),
  badBasic('Basic credentials without a colon', `Basic ${btoa('client-without-colon')}`),
  badBasic('Basic credentials with a broken percent-escape', `Basic ${btoa('%zz:secret')}`),
  badBasic('Basic credentials with an empty client id', `Basic ${btoa(':secret')}`),
  badBasic('Bearer scheme used for client authentication', 'Bearer pcs_not-a-client-secret'),
];

/** A body the endpoint must refuse before or while reading it. */
const big = 'x'.repeat(70_000);

/** A request body streamed in chunks without Content-Length (the limit must hold while streaming). */
function streamed(chunks: number, size: number): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent++ >= chunks) controller.close();
      else controller.enqueue(new TextEncoder().encode(`a${'b'.repeat(size - 1)}`));
    },
  });
}

const bodies: SecurityCase[] = [
  {
    source: 'RFC 6749 §5.2',
    name: 'token request body over 64 KiB is refused with 413',
    run: async () => {
      const { server } = await setup();
      const response = await tokenRequest(server.fetch, { grant_type: 'refresh_token', pad: big });
      await expectJsonError(response, 'invalid_request', 413);
    },
  },
  {
    source: 'RFC 6749 §5.2',
    name: 'streamed body without Content-Length is cut off at the limit',
    run: async () => {
      const { server } = await setup();
      const response = await server.fetch(
        new Request(`${ISSUER}/token`, {
          method: 'POST',
          headers: FORM,
          body: streamed(1000, 1024),
          duplex: 'half',
        } as RequestInit),
      );
      await expectJsonError(response, 'invalid_request', 413);
    },
  },
  {
    source: 'RFC 6749 §5.2',
    name: 'declared Content-Length over the limit is refused before reading',
    run: async () => {
      const { server } = await setup();
      const response = await server.fetch(
        new Request(`${ISSUER}/register`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'content-length': '999999999' },
          body: streamed(1, 16),
          duplex: 'half',
        } as RequestInit),
      );
      await expectJsonError(response, 'invalid_request', 413);
    },
  },
  {
    source: 'RFC 6749 §5.2',
    name: 'form body that is not valid UTF-8',
    run: async () => {
      const { server } = await setup();
      const bytes = new Uint8Array([...new TextEncoder().encode('grant_type=refresh_token&x='), 0xc3, 0x28]);
      const response = await server.fetch(
        new Request(`${ISSUER}/token`, { method: 'POST', headers: FORM, body: bytes }),
      );
      await expectJsonError(response, 'invalid_request');
    },
  },
  {
    source: 'RFC 6749 §4.1.2.1',
    name: 'oversized PIN form answers an error page (413), not JSON or a redirect',
    run: async () => {
      const { server, clientId } = await setup();
      const browser = new Browser(server.fetch);
      const { action, fields } = await openPinPage(browser, await authorizeUrl(clientId));
      const response = await submit(browser, action, { ...fields, pin: PIN, decision: 'approve', pad: big });
      await expectPage(response, 413, 'exceeds');
    },
  },
  {
    source: 'RFC 7591 §3.2.2',
    name: 'registration JSON nested 30 000 levels deep',
    run: async () => {
      const { server } = await setup();
      const nested = `{"redirect_uris":["https://c.example.com/cb"],"x":${'['.repeat(30_000)}${']'.repeat(30_000)}}`;
      const response = await postRegister(server, nested);
      expect(response.status).toBeLessThan(500);
      if (response.status !== 201) await expectJsonError(response, 'invalid_client_metadata');
    },
  },
  {
    source: 'RFC 7591 §3.2.2',
    name: '__proto__ in registration metadata pollutes nothing and changes no default',
    run: async () => {
      const { server } = await setup();
      const response = await postRegister(
        server,
        '{"redirect_uris":["https://c.example.com/cb"],"__proto__":{"token_endpoint_auth_method":"none","polluted":true}}',
      );
      expect(response.status).toBe(201);
      const body = await response.json();
      expect(body.token_endpoint_auth_method).toBe('client_secret_basic');
      expect(typeof body.client_secret).toBe('string');
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    },
  },
  {
    source: 'RFC 7591 §3.2.2',
    name: 'registration body that is the JSON literal null',
    run: async () => {
      const { server } = await setup();
      await expectJsonError(await postRegister(server, 'null'), 'invalid_client_metadata');
    },
  },
  {
    source: 'RFC 7591 §3.1',
    name: 'registration JSON sent as text/plain (CORS-simple request)',
    run: async () => {
      const { server } = await setup();
      const body = JSON.stringify({ redirect_uris: ['https://c.example.com/cb'] });
      await expectJsonError(
        await postRegister(server, body, { 'content-type': 'text/plain' }),
        'invalid_client_metadata',
      );
    },
  },
  {
    source: 'RFC 7591 §3.2.2',
    name: 'registration metadata with wrong types for every field',
    run: async () => {
      const { server } = await setup();
      const body = JSON.stringify({
        redirect_uris: ['https://c.example.com/cb'],
        client_name: { toString: 'x' },
        grant_types: 'authorization_code',
        contacts: [1, 2],
      });
      await expectJsonError(await postRegister(server, body), 'invalid_client_metadata');
    },
  },
  {
    source: 'RFC 6749 §4.1.2.1',
    name: 'consent form posted as JSON is a page (400), never a 500',
    run: async () => {
      const { server } = await setup();
      const response = await server.fetch(
        new Request(`${ISSUER}/authorize/consent`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{"pending":"x","decision":"approve"}',
        }),
      );
      await expectPage(response, 400);
    },
  },
  {
    source: 'RFC 7009 §2.1',
    name: 'revocation with a 10 kB token and an unknown hint answers 200 without effect',
    run: async () => {
      const ctx = await setup();
      const { access_token } = await tokensFor(ctx);
      const response = await ctx.server.fetch(
        new Request(`${ISSUER}/revoke`, {
          method: 'POST',
          headers: FORM,
          body: new URLSearchParams({
            token: `pcat_${'A'.repeat(10_000)}`,
            token_type_hint: 'id_token',
            client_id: ctx.clientId,
          }),
        }),
      );
      expect(response.status).toBe(200);
      expect((await bearer(ctx.server, `Bearer ${access_token}`)).ok).toBe(true);
    },
  },
];

describe('security: credentials in the wrong place and malformed Authorization headers', () =>
  runCases(credentials));
describe('security: oversized and malformed bodies', () => runCases(bodies));
