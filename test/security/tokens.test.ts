/**
 * PKCE downgrade and verifier abuse, authorization code injection and replay, refresh token reuse and
 * scope widening, token-type confusion and audience (resource) mismatch.
 */
import { describe, expect } from 'vitest';
import {
  authorizeUrl,
  Browser,
  bearer,
  codeForm,
  expectJsonError,
  expectRedirectError,
  expectRefused,
  ISSUER,
  LOOPBACK,
  obtainCode,
  refresh,
  registerClient,
  runCases,
  type SecurityCase,
  setup,
  tokenRequest,
  tokensFor,
} from '../support/security.js';

/** A code obtained with the default verifier, redeemed with `form` overrides: must fail with `error`. */
function badRedemption(
  source: string,
  name: string,
  extra: Record<string, string>,
  error: string,
  drop: string[] = [],
): SecurityCase {
  return {
    source,
    name,
    run: async () => {
      const ctx = await setup();
      const { code } = await obtainCode(ctx.server.fetch, ctx.clientId);
      const form: Record<string, string> = codeForm(ctx.clientId, code, extra);
      for (const name of drop) delete form[name];
      await expectJsonError(await tokenRequest(ctx.server.fetch, form), error);
      expect(ctx.events.some((e) => e.type === 'token_issued')).toBe(false);
    },
  };
}

/** An authorization request whose PKCE parameters are refused with a redirected `invalid_request`. */
function badChallenge(name: string, params: Record<string, string | undefined>): SecurityCase {
  return {
    source: 'RFC 7636 §4.4.1',
    name,
    run: async () => {
      const { server, clientId } = await setup();
      const response = await new Browser(server.fetch).fetch(await authorizeUrl(clientId, params));
      expectRedirectError(response, 'invalid_request');
    },
  };
}

const pkce: SecurityCase[] = [
  badRedemption(
    'RFC 9700 §4.8',
    'PKCE downgrade: code_verifier left out of the token request',
    {},
    'invalid_request',
    ['code_verifier'],
  ),
  badRedemption('RFC 7636 §4.1', 'empty code_verifier', { code_verifier: '' }, 'invalid_request'),
  badRedemption(
    'RFC 7636 §4.1',
    'verifier of 42 characters (one short)',
    { code_verifier: 'a'.repeat(42) },
    'invalid_request',
  ),
  badRedemption(
    'RFC 7636 §4.1',
    'verifier of 129 characters (one long)',
    { code_verifier: 'a'.repeat(129) },
    'invalid_request',
  ),
  badRedemption(
    'RFC 7636 §4.1',
    'verifier with characters outside the unreserved set',
    { code_verifier: `${'a'.repeat(42)}+` },
    'invalid_request',
  ),
  badRedemption(
    'RFC 7636 §4.6',
    'well-formed but wrong verifier',
    { code_verifier: 'z'.repeat(64) },
    'invalid_grant',
  ),
  {
    source: 'RFC 7636 §7.2',
    name: 'plain semantics: the verifier sent is the challenge itself',
    run: async () => {
      const ctx = await setup();
      const challenge = 'C'.repeat(43);
      const { code } = await obtainCode(ctx.server.fetch, ctx.clientId, { code_challenge: challenge });
      await expectJsonError(
        await tokenRequest(ctx.server.fetch, codeForm(ctx.clientId, code, { code_verifier: challenge })),
        'invalid_grant',
      );
    },
  },
  {
    source: 'RFC 9700 §4.5',
    name: 'a failed PKCE check burns the code: a later correct verifier gets nothing',
    run: async () => {
      const ctx = await setup();
      const { code } = await obtainCode(ctx.server.fetch, ctx.clientId);
      const wrong = codeForm(ctx.clientId, code, { code_verifier: 'w'.repeat(43) });
      await expectJsonError(await tokenRequest(ctx.server.fetch, wrong), 'invalid_grant');
      await expectJsonError(
        await tokenRequest(ctx.server.fetch, codeForm(ctx.clientId, code)),
        'invalid_grant',
      );
    },
  },
  badChallenge('code_challenge_method in lower case (s256)', { code_challenge_method: 's256' }),
  badChallenge('challenge in padded standard base64', {
    code_challenge: `${'A'.repeat(42)}+=`,
  }),
  badChallenge('challenge of 44 characters', { code_challenge: 'A'.repeat(44) }),
  badChallenge('empty challenge', { code_challenge: '' }),
];

const codes: SecurityCase[] = [
  {
    source: 'RFC 6749 §4.1.2',
    name: 'code replayed after a refresh revokes the refreshed tokens too',
    run: async () => {
      const ctx = await setup();
      const first = await tokensFor(ctx);
      const rotated = await (await refresh(ctx, first.refresh_token)).json();
      ctx.clock.advance(20_001); // Past the reuse interval: a repeat within it gets the same tokens (packages/core/test/token-reuse.test.ts).
      await expectJsonError(
        await tokenRequest(ctx.server.fetch, codeForm(ctx.clientId, first.code)),
        'invalid_grant',
      );
      await expectRefused(await bearer(ctx.server, `Bearer ${rotated.access_token}`), 401, 'invalid_token');
      await expectJsonError(await refresh(ctx, rotated.refresh_token), 'invalid_grant');
    },
  },
  {
    source: 'RFC 6749 §4.1.3',
    name: 'loopback code redeemed with a redirect_uri on another port than authorized',
    run: async () => {
      const ctx = await setup({ redirect_uris: [LOOPBACK] });
      const used = 'http://127.0.0.1:5000/cb';
      const { code } = await obtainCode(ctx.server.fetch, ctx.clientId, { redirect_uri: used });
      await expectJsonError(
        await tokenRequest(
          ctx.server.fetch,
          codeForm(ctx.clientId, code, { redirect_uri: 'http://127.0.0.1:6000/cb' }),
        ),
        'invalid_grant',
      );
    },
  },
  badRedemption('RFC 6749 §4.1.3', 'redirect_uri left out of the token request', {}, 'invalid_request', [
    'redirect_uri',
  ]),
  {
    source: 'RFC 6749 §10.10',
    name: 'guessed code with the right prefix',
    run: async () => {
      const ctx = await setup();
      await obtainCode(ctx.server.fetch, ctx.clientId);
      await expectJsonError(
        await tokenRequest(ctx.server.fetch, codeForm(ctx.clientId, `pcac_${'A'.repeat(43)}`)),
        'invalid_grant',
      );
    },
  },
  {
    source: 'RFC 6749 §5.2',
    name: 'code with NUL bytes and 10 kB of junk is invalid_grant, not a 500',
    run: async () => {
      const ctx = await setup();
      await expectJsonError(
        await tokenRequest(ctx.server.fetch, codeForm(ctx.clientId, `pcac_\u0000${'x'.repeat(10_000)}`)),
        'invalid_grant',
      );
    },
  },
  {
    source: 'RFC 9700 §4.5',
    name: 'owner and attacker redeem one code concurrently: no access token survives',
    run: async () => {
      const ctx = await setup();
      const attacker = (await registerClient(ctx.server.fetch)).body.client_id!;
      const { code } = await obtainCode(ctx.server.fetch, ctx.clientId);
      const [owner, thief] = await Promise.all([
        tokenRequest(ctx.server.fetch, codeForm(ctx.clientId, code)),
        tokenRequest(ctx.server.fetch, codeForm(attacker, code)),
      ]);
      expect(thief.status).toBe(400);
      if (owner.status === 200) {
        const { access_token } = await owner.json();
        await expectRefused(await bearer(ctx.server, `Bearer ${access_token}`), 401, 'invalid_token');
      } else {
        expect(owner.status).toBe(400);
      }
    },
  },
];

const refreshes: SecurityCase[] = [
  {
    source: 'RFC 9700 §4.14.2',
    name: 'reuse of the first refresh token after two rotations revokes the newest tokens',
    run: async () => {
      const ctx = await setup();
      const first = await tokensFor(ctx);
      const second = await (await refresh(ctx, first.refresh_token)).json();
      const third = await (await refresh(ctx, second.refresh_token)).json();
      ctx.clock.advance(20_001); // Past the reuse interval: a repeat within it gets the same tokens (packages/core/test/token-reuse.test.ts).
      await expectJsonError(await refresh(ctx, first.refresh_token), 'invalid_grant');
      await expectRefused(await bearer(ctx.server, `Bearer ${third.access_token}`), 401, 'invalid_token');
      await expectJsonError(await refresh(ctx, third.refresh_token), 'invalid_grant');
      expect(ctx.events).toContainEqual(expect.objectContaining({ type: 'replay_detected' }));
    },
  },
  {
    source: 'RFC 6749 §6',
    name: 'scope widened on refresh with a scope the server supports but the grant lacks',
    run: async () => {
      const ctx = await setup({}, { scopes: { supported: ['mcp', 'admin'], default: ['mcp'] } });
      const first = await tokensFor(ctx, { scope: 'mcp' });
      await expectJsonError(await refresh(ctx, first.refresh_token, { scope: 'mcp admin' }), 'invalid_scope');
    },
  },
  {
    source: 'RFC 6749 §6',
    name: 'narrowed, then widened back above the narrowed token: bounded by the grant',
    run: async () => {
      const ctx = await setup({}, { scopes: { supported: ['mcp', 'read', 'admin'], default: ['mcp'] } });
      const first = await tokensFor(ctx, { scope: 'mcp read' });
      const narrow = await (await refresh(ctx, first.refresh_token, { scope: 'read' })).json();
      expect(narrow.scope).toBe('read');
      await expectJsonError(
        await refresh(ctx, narrow.refresh_token, { scope: 'read admin' }),
        'invalid_scope',
      );
    },
  },
  {
    source: 'RFC 7591 §2',
    name: 'refresh_token grant by a client that registered only authorization_code',
    run: async () => {
      const ctx = await setup({ grant_types: ['authorization_code'] });
      await expectJsonError(await refresh(ctx, `pcrt_${'A'.repeat(43)}`), 'unauthorized_client');
    },
  },
  {
    source: 'RFC 6749 §1.5',
    name: 'refresh token presented to the resource as a bearer token',
    run: async () => {
      const ctx = await setup();
      const { refresh_token } = await tokensFor(ctx);
      await expectRefused(await bearer(ctx.server, `Bearer ${refresh_token}`), 401, 'invalid_token');
    },
  },
  {
    source: 'RFC 6749 §6',
    name: 'access token presented as a refresh token',
    run: async () => {
      const ctx = await setup();
      const { access_token } = await tokensFor(ctx);
      await expectJsonError(await refresh(ctx, access_token), 'invalid_grant');
    },
  },
  {
    source: 'RFC 6749 §4.1.2',
    name: 'authorization code presented to the resource as a bearer token',
    run: async () => {
      const ctx = await setup();
      const { code } = await obtainCode(ctx.server.fetch, ctx.clientId);
      await expectRefused(await bearer(ctx.server, `Bearer ${code}`), 401, 'invalid_token');
    },
  },
  {
    source: 'RFC 6749 §4.1.3',
    name: 'refresh token presented as an authorization code',
    run: async () => {
      const ctx = await setup();
      const { refresh_token } = await tokensFor(ctx);
      await expectJsonError(
        await tokenRequest(ctx.server.fetch, codeForm(ctx.clientId, refresh_token)),
        'invalid_grant',
      );
      expect((await refresh(ctx, refresh_token)).status).toBe(200);
    },
  },
];

const twoResources = {
  resources: [{ path: '/mcp' }, { path: '/admin' }],
};

const audience: SecurityCase[] = [
  {
    source: 'RFC 8707 §2',
    name: 'token for /mcp used where the route declares the /admin resource',
    run: async () => {
      const ctx = await setup({}, twoResources);
      const { access_token } = await tokensFor(ctx);
      const result = await ctx.server.authenticate(
        new Request(`${ISSUER}/mcp`, { headers: { authorization: `Bearer ${access_token}` } }),
        { resource: `${ISSUER}/admin` },
      );
      await expectRefused(result, 401, 'invalid_token');
    },
  },
  {
    source: 'RFC 8707 §2.2',
    name: 'code exchanged with a resource other than the authorized one',
    run: async () => {
      const ctx = await setup({}, twoResources);
      const { code } = await obtainCode(ctx.server.fetch, ctx.clientId, { resource: `${ISSUER}/mcp` });
      await expectJsonError(
        await tokenRequest(ctx.server.fetch, codeForm(ctx.clientId, code, { resource: `${ISSUER}/admin` })),
        'invalid_target',
      );
    },
  },
  {
    source: 'RFC 8707 §2',
    name: 'resource that only shares a prefix with a protected one (/mcp-evil)',
    run: async () => {
      const { server, clientId } = await setup();
      const url = await authorizeUrl(clientId, { resource: `${ISSUER}/mcp-evil` });
      expectRedirectError(await new Browser(server.fetch).fetch(url), 'invalid_target');
    },
  },
  {
    source: 'RFC 8707 §2',
    name: 'resource with a fragment',
    run: async () => {
      const { server, clientId } = await setup();
      const url = await authorizeUrl(clientId, { resource: `${ISSUER}/mcp#frag` });
      expectRedirectError(await new Browser(server.fetch).fetch(url), 'invalid_target');
    },
  },
  {
    source: 'RFC 8707 §2',
    name: 'resource of the same path on another origin',
    run: async () => {
      const { server, clientId } = await setup();
      const url = await authorizeUrl(clientId, { resource: 'https://as.example.com.evil.example/mcp' });
      expectRedirectError(await new Browser(server.fetch).fetch(url), 'invalid_target');
    },
  },
  {
    source: 'MCP security best practices: token passthrough',
    name: 'a token minted by another authorization server (JWT) is not accepted',
    run: async () => {
      const { server } = await setup();
      const header = btoa(JSON.stringify({ alg: 'none', typ: 'JWT' })).replace(/=+$/, '');
      const payload = btoa(
        JSON.stringify({ iss: 'https://other-idp.example', aud: `${ISSUER}/mcp`, sub: 'mallory' }),
      ).replace(/=+$/, '');
      await expectRefused(await bearer(server, `Bearer ${header}.${payload}.`), 401, 'invalid_token');
    },
  },
  {
    source: 'RFC 7009 §2.1',
    name: 'a refresh token keeps working for nobody after its grant is revoked by the client',
    run: async () => {
      const ctx = await setup();
      const { access_token, refresh_token } = await tokensFor(ctx);
      const revoked = await ctx.server.fetch(
        new Request(`${ISSUER}/revoke`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ token: refresh_token, client_id: ctx.clientId }),
        }),
      );
      expect(revoked.status).toBe(200);
      await expectJsonError(await refresh(ctx, refresh_token), 'invalid_grant');
      await expectRefused(await bearer(ctx.server, `Bearer ${access_token}`), 401, 'invalid_token');
    },
  },
];

describe('security: PKCE', () => runCases(pkce));
describe('security: authorization codes', () => runCases(codes));
describe('security: refresh tokens and token types', () => runCases(refreshes));
describe('security: audience (RFC 8707) and token passthrough', () => runCases(audience));
