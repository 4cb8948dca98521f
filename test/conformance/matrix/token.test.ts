/** Conformance matrix: the token endpoint and refresh per MCP revision. */
import { afterAll, beforeAll, expect } from 'vitest';
import {
  answerPinPage,
  authorizationUrl,
  callMcp,
  clientOf,
  codeOf,
  type MatrixServer,
  obtainTokens,
  REDIRECT,
  register,
  startMatrix,
  tokenRequest,
  tokensOf,
  VERIFIER,
} from './harness.js';
import { requirementsOf } from './matrix.js';
import type { Revision } from './requirements.js';

const requirement = requirementsOf('token');

let server: MatrixServer;
let timed: MatrixServer;
let named: MatrixServer;
let offline: MatrixServer;
beforeAll(async () => {
  [server, timed, named, offline] = await Promise.all([
    startMatrix(),
    startMatrix({ clock: true }),
    startMatrix({
      overrides: {
        resources: [{ path: '/mcp', resource: 'https://mcp.example.com/mcp' }, { path: '/other' }],
      },
    }),
    startMatrix({ overrides: { scopes: { supported: ['mcp', 'offline_access'], default: ['mcp'] } } }),
  ]);
});
afterAll(() => Promise.all([server, timed, named, offline].map((s) => s?.close())));

/** A fresh authorization code for `clientId` (PIN approved), with `params` on the request. */
async function freshCode(s: MatrixServer, clientId: string, params: Record<string, string | undefined> = {}) {
  return codeOf(await answerPinPage(await authorizationUrl(s, clientId, params)));
}

/** The code-for-token form of a public client. */
const codeForm = (clientId: string, code: string, extra: Record<string, string> = {}) => ({
  grant_type: 'authorization_code',
  code,
  redirect_uri: REDIRECT,
  code_verifier: VERIFIER,
  client_id: clientId,
  ...extra,
});

/** Expects an RFC 6749 §5.2 JSON error. */
async function expectTokenError(response: Response, error: string, status = 400): Promise<void> {
  const body = (await response.json()) as { error: string };
  expect(response.status, JSON.stringify(body)).toBe(status);
  expect(body.error).toBe(error);
  expect(response.headers.get('cache-control')).toContain('no-store');
}

const refreshForm = (clientId: string, refreshToken: string, extra: Record<string, string> = {}) => ({
  grant_type: 'refresh_token',
  refresh_token: refreshToken,
  client_id: clientId,
  ...extra,
});

requirement('TOK-PKCE-VERIFY', async ({ revision }) => {
  const { client_id } = await register(server);
  const resource = clientOf(revision).resource(server.mcpUrl);
  const missing = codeForm(client_id, await freshCode(server, client_id, resource), resource);
  delete (missing as Record<string, string>).code_verifier;
  await expectTokenError(await tokenRequest(server, missing), 'invalid_request');
  const wrong = codeForm(client_id, await freshCode(server, client_id, resource), {
    ...resource,
    code_verifier: `${VERIFIER.slice(0, -1)}X`,
  });
  await expectTokenError(await tokenRequest(server, wrong), 'invalid_grant');
});

requirement('TOK-CODE-ONCE', async ({ revision }) => {
  const { client_id } = await register(server);
  const resource = clientOf(revision).resource(server.mcpUrl);
  const form = codeForm(client_id, await freshCode(server, client_id, resource), resource);
  const first = await tokensOf(await tokenRequest(server, form));
  expect((await callMcp(server.mcpUrl, first.access_token)).status).toBe(200);
  // The very same request again (its response was lost) is answered with the same tokens: the code is
  // not redeemed a second time.
  expect((await tokensOf(await tokenRequest(server, form))).access_token).toBe(first.access_token);
  // Anyone presenting the code without its PKCE verifier is refused, and what it issued is revoked.
  await expectTokenError(
    await tokenRequest(server, { ...form, code_verifier: `${VERIFIER.slice(0, -1)}X` }),
    'invalid_grant',
  );
  expect((await callMcp(server.mcpUrl, first.access_token)).status).toBe(401);
});

requirement('TOK-CLIENT-AUTH', async ({ revision }) => {
  const resource = clientOf(revision).resource(server.mcpUrl);
  const pub = await register(server);
  await tokensOf(
    await tokenRequest(server, codeForm(pub.client_id, await freshCode(server, pub.client_id), resource)),
  );

  const basic = await register(server, { token_endpoint_auth_method: 'client_secret_basic' });
  const credentials = Buffer.from(
    `${encodeURIComponent(basic.client_id)}:${encodeURIComponent(String(basic.client_secret))}`,
  ).toString('base64');
  const basicForm = codeForm(basic.client_id, await freshCode(server, basic.client_id), resource);
  delete (basicForm as Record<string, string>).client_id;
  await tokensOf(await tokenRequest(server, basicForm, { authorization: `Basic ${credentials}` }));

  const post = await register(server, { token_endpoint_auth_method: 'client_secret_post' });
  const code = await freshCode(server, post.client_id);
  await expectTokenError(
    await tokenRequest(server, codeForm(post.client_id, code, { ...resource, client_secret: 'pcs_wrong' })),
    'invalid_client',
    401,
  );
  await tokensOf(
    await tokenRequest(
      server,
      codeForm(post.client_id, await freshCode(server, post.client_id), {
        ...resource,
        client_secret: String(post.client_secret),
      }),
    ),
  );
});

requirement('TOK-RESOURCE', async () => {
  const { client_id } = await register(server);
  const mine = { resource: server.mcpUrl };
  const theirs = { resource: `${server.url}/other` };
  const redeem = async (extra: Record<string, string>) =>
    tokenRequest(server, codeForm(client_id, await freshCode(server, client_id, mine), extra));
  await expectTokenError(await redeem(theirs), 'invalid_target');
  // Each refresh below uses its own grant: a refused refresh is not what is measured here.
  const refused = await tokensOf(await redeem(mine));
  await expectTokenError(
    await tokenRequest(server, refreshForm(client_id, refused.refresh_token!, theirs)),
    'invalid_target',
  );
  const tokens = await tokensOf(await redeem(mine));
  expect((await callMcp(server.mcpUrl, tokens.access_token)).status).toBe(200);
  const refreshed = await tokensOf(
    await tokenRequest(server, refreshForm(client_id, tokens.refresh_token!, mine)),
  );
  expect((await callMcp(server.mcpUrl, refreshed.access_token)).status).toBe(200);
});

requirement('TOK-RESOURCE-CASE', async () => {
  const { client_id } = await register(named);
  const outcomes: Record<string, number> = {};
  for (const variant of ['HTTPS://MCP.EXAMPLE.COM/mcp', 'https://Mcp.Example.com/mcp']) {
    const code = await freshCode(named, client_id, { resource: 'https://mcp.example.com/mcp' });
    outcomes[variant] = (await tokenRequest(named, codeForm(client_id, code, { resource: variant }))).status;
  }
  expect(outcomes).toEqual({ 'HTTPS://MCP.EXAMPLE.COM/mcp': 200, 'https://Mcp.Example.com/mcp': 200 });
});

requirement('TOK-RESOURCE-ABSENT', async ({ revision }) => {
  const { client_id } = await register(server);
  const tokens = await obtainTokens(server, client_id, revision);
  const refreshed = await tokensOf(await tokenRequest(server, refreshForm(client_id, tokens.refresh_token!)));
  expect((await callMcp(server.mcpUrl, refreshed.access_token)).status).toBe(200);
});

/** Tokens for a fresh public client of the timed server. */
async function timedTokens(revision: Revision) {
  const { client_id } = await register(timed);
  return { clientId: client_id, tokens: await obtainTokens(timed, client_id, revision, {}, timed.mcpUrl) };
}

requirement('TOK-ROTATION', async ({ revision }) => {
  const { clientId, tokens } = await timedTokens(revision);
  const resource = clientOf(revision).resource(timed.mcpUrl);
  const rotated = await tokensOf(
    await tokenRequest(timed, refreshForm(clientId, tokens.refresh_token!, resource)),
  );
  expect(rotated.refresh_token).toBeTruthy();
  expect(rotated.refresh_token).not.toBe(tokens.refresh_token);
  // Well past any reuse interval, the stale token is a replay: refused, and the family revoked.
  timed.advance(120_000);
  await expectTokenError(
    await tokenRequest(timed, refreshForm(clientId, tokens.refresh_token!, resource)),
    'invalid_grant',
  );
  await expectTokenError(
    await tokenRequest(timed, refreshForm(clientId, rotated.refresh_token!, resource)),
    'invalid_grant',
  );
  expect((await callMcp(timed.mcpUrl, rotated.access_token)).status).toBe(401);
});

requirement('TOK-SHORT-LIVED', async ({ revision }) => {
  const { tokens } = await timedTokens(revision);
  expect(tokens.expires_in).toBeGreaterThan(0);
  expect(tokens.expires_in).toBeLessThanOrEqual(3600);
  expect((await callMcp(timed.mcpUrl, tokens.access_token)).status).toBe(200);
  timed.advance((tokens.expires_in + 1) * 1000);
  const expired = await callMcp(timed.mcpUrl, tokens.access_token);
  expect(expired.status).toBe(401);
  expect(expired.headers.get('www-authenticate')).toContain('error="invalid_token"');
});

requirement('REF-GRANT-TYPES', async ({ revision }) => {
  const refreshing = await register(server, { grant_types: ['authorization_code', 'refresh_token'] });
  const tokens = await obtainTokens(server, refreshing.client_id, revision);
  expect(tokens.refresh_token).toBeTruthy();
  await tokensOf(
    await tokenRequest(
      server,
      refreshForm(refreshing.client_id, tokens.refresh_token!, clientOf(revision).resource(server.mcpUrl)),
    ),
  );
  const codeOnly = await register(server, { grant_types: ['authorization_code'] });
  expect((await obtainTokens(server, codeOnly.client_id, revision)).refresh_token).toBeUndefined();
});

requirement('REF-OFFLINE-REQUEST', async ({ revision }) => {
  const { client_id } = await register(offline);
  const tokens = await obtainTokens(offline, client_id, revision, { scope: 'mcp offline_access' });
  expect(tokens.refresh_token).toBeTruthy();
  expect(tokens.scope.split(' ')).toContain('mcp');
  expect((await callMcp(offline.mcpUrl, tokens.access_token)).status).toBe(200);
  const refreshed = await tokensOf(
    await tokenRequest(
      offline,
      refreshForm(client_id, tokens.refresh_token!, clientOf(revision).resource(offline.mcpUrl)),
    ),
  );
  expect((await callMcp(offline.mcpUrl, refreshed.access_token)).status).toBe(200);
});
