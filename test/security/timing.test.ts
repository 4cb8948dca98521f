/**
 * Constant-time comparisons. Measuring timing differences in a shared CI machine is flaky, so these
 * cases check the code paths instead: every secret the server compares (PIN, client secret, registration
 * access token, PKCE challenge) goes through `timingSafeEqual` of packages/core/src/crypto/hash.ts with
 * the expected operands, and CSRF tokens through WebCrypto's HMAC `verify`. The helper itself is checked
 * to compare whole digests (no early exit on length or prefix).
 */
import { afterEach, describe, expect, vi } from 'vitest';
import * as hash from '../../packages/core/src/crypto/hash.js';
import {
  authorizeUrl,
  Browser,
  codeForm,
  obtainCode,
  openPinPage,
  PIN,
  runCases,
  type SecurityCase,
  setup,
  submit,
  tokenRequest,
} from '../support/security.js';

vi.mock('../../packages/core/src/crypto/hash.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../packages/core/src/crypto/hash.js')>();
  return { ...original, timingSafeEqual: vi.fn(original.timingSafeEqual) };
});

const compare = vi.mocked(hash.timingSafeEqual);
afterEach(() => compare.mockClear());

/** The argument pairs `timingSafeEqual` was called with. */
const calls = () => compare.mock.calls.map(([a, b]) => [a, b] as const);

const cases: SecurityCase[] = [
  {
    source: 'RFC 9700 §2.5',
    name: 'the PIN is compared with timingSafeEqual(submitted, configured)',
    run: async () => {
      const { server, clientId } = await setup();
      const browser = new Browser(server.fetch);
      const { action, fields } = await openPinPage(browser, await authorizeUrl(clientId));
      compare.mockClear();
      const wrong = await submit(browser, action, { ...fields, pin: 'guess-123456', decision: 'approve' });
      expect(wrong.status).toBe(401);
      expect(calls()).toContainEqual(['guess-123456', PIN]);
    },
  },
  {
    source: 'RFC 6749 §2.3.1',
    name: 'client_secret_basic is checked by a constant-time compare of hashes',
    run: async () => {
      const { server, client, clientId } = await setup({ token_endpoint_auth_method: 'client_secret_basic' });
      compare.mockClear();
      const response = await tokenRequest(
        server.fetch,
        { grant_type: 'refresh_token', refresh_token: 'pcrt_x' },
        { authorization: `Basic ${btoa(`${clientId}:wrong-secret`)}` },
      );
      expect(response.status).toBe(401);
      const wrongHash = await hash.sha256('wrong-secret');
      expect(calls()).toContainEqual([wrongHash, await hash.sha256(client.client_secret!)]);
    },
  },
  {
    source: 'RFC 6749 §2.3.1',
    name: 'client_secret_post is checked by a constant-time compare of hashes',
    run: async () => {
      const { server, client, clientId } = await setup({ token_endpoint_auth_method: 'client_secret_post' });
      compare.mockClear();
      const response = await tokenRequest(server.fetch, {
        grant_type: 'refresh_token',
        refresh_token: 'pcrt_x',
        client_id: clientId,
        client_secret: `${client.client_secret}x`,
      });
      expect(response.status).toBe(401);
      expect(calls()).toContainEqual([
        await hash.sha256(`${client.client_secret}x`),
        await hash.sha256(client.client_secret!),
      ]);
    },
  },
  {
    source: 'RFC 7592 §2',
    name: 'the registration access token is checked by a constant-time compare',
    run: async () => {
      const { server, client } = await setup();
      compare.mockClear();
      const response = await server.fetch(
        new Request(client.registration_client_uri!, { headers: { authorization: 'Bearer pcrg_wrong' } }),
      );
      expect(response.status).toBe(401);
      expect(calls()).toContainEqual([
        await hash.sha256('pcrg_wrong'),
        await hash.sha256(client.registration_access_token!),
      ]);
    },
  },
  {
    source: 'RFC 7636 §4.6',
    name: 'the PKCE challenge is checked by a constant-time compare',
    run: async () => {
      const ctx = await setup();
      const challenge = 'Q'.repeat(43);
      const { code } = await obtainCode(ctx.server.fetch, ctx.clientId, { code_challenge: challenge });
      compare.mockClear();
      const verifier = 'v'.repeat(43);
      const response = await tokenRequest(
        ctx.server.fetch,
        codeForm(ctx.clientId, code, { code_verifier: verifier }),
      );
      expect(response.status).toBe(400);
      const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
      const computed = Buffer.from(digest).toString('base64url');
      expect(calls()).toContainEqual([computed, challenge]);
    },
  },
  {
    source: 'RFC 9700 §4.7.1',
    name: 'CSRF tokens are verified with WebCrypto HMAC verify, not string equality',
    run: async () => {
      const { server, clientId } = await setup();
      const browser = new Browser(server.fetch);
      const { action, fields } = await openPinPage(browser, await authorizeUrl(clientId));
      const verify = vi.spyOn(crypto.subtle, 'verify');
      try {
        // The first character carries six MAC bits (the last one has unused bits, and an 'A' → 'B' there
        // is a non-canonical encoding, refused before any MAC is checked).
        const forged = `${fields.csrf!.startsWith('A') ? 'B' : 'A'}${fields.csrf!.slice(1)}`;
        const response = await submit(browser, action, { ...fields, csrf: forged, pin: PIN });
        expect(response.status).toBe(403);
        expect(verify).toHaveBeenCalledWith('HMAC', expect.anything(), expect.anything(), expect.anything());
      } finally {
        verify.mockRestore();
      }
    },
  },
  {
    source: 'RFC 9700 §2.5',
    name: 'timingSafeEqual compares full digests: length and prefix differences are just "unequal"',
    run: async () => {
      const equal = await hash.timingSafeEqual('same-secret', 'same-secret');
      expect(equal).toBe(true);
      for (const [a, b] of [
        ['secret', 'secret-but-longer'],
        ['', 'x'],
        ['abcdef', 'abcdeF'],
        ['Xbcdef', 'abcdef'],
      ] as const) {
        expect(await hash.timingSafeEqual(a, b)).toBe(false);
      }
      // Both sides are digested, so the loop always runs over 43 characters whatever the inputs.
      expect((await hash.sha256('x')).length).toBe(43);
      expect((await hash.sha256('x'.repeat(10_000))).length).toBe(43);
    },
  },
];

describe('security: constant-time comparisons', () => runCases(cases));
