/** Conformance matrix: the protected resource — 401/403 challenges, audience, step-up — per MCP revision. */

import { jwtAccessTokens } from '@portcullis/core/extensions';
import { afterAll, beforeAll, expect } from 'vitest';
import {
  callMcp,
  challengedScopes,
  getJson,
  type MatrixServer,
  obtainTokens,
  parseChallenge,
  register,
  startMatrix,
  toolCall,
} from './harness.js';
import { requirementsOf } from './matrix.js';
import { type ExternalResource, startExternalResource } from './peers.js';

const requirement = requirementsOf('resource');

let server: MatrixServer;
let timed: MatrixServer;
let offline: MatrixServer;
/** Issues RFC 9068 JWT access tokens, with a manual clock. */
let jwt: MatrixServer;
/** Resource-server-only mode (ADR 011) in front of `offline`, holding an `mcp offline_access` token. */
let external: ExternalResource;
beforeAll(async () => {
  [server, timed, offline, jwt] = await Promise.all([
    startMatrix(),
    startMatrix({ clock: true }),
    startMatrix({ overrides: { scopes: { supported: ['mcp', 'offline_access'], default: ['mcp'] } } }),
    startMatrix({ clock: true, overrides: { extensions: [jwtAccessTokens()] } }),
  ]);
  external = await startExternalResource(offline, 'mcp offline_access');
});
afterAll(() => Promise.all([server, timed, offline, jwt, external].map((s) => s?.close())));

/** A request to the resource-server-only endpoint. */
const externalCall = (need: string[]) => external.call(need);

const prmUrl = (s: MatrixServer, path = '/mcp') => `${s.url}/.well-known/oauth-protected-resource${path}`;

/** GETs `<resource>/raw?need=…` with a bearer token. */
const raw = (s: MatrixServer, token: string, need: string[] = [], path = '/mcp') =>
  fetch(`${s.url}${path}/raw?need=${need.join(',')}`, { headers: { authorization: `Bearer ${token}` } });

/** Revokes a token of a public client at the server (RFC 7009). */
async function revoke(s: MatrixServer, token: string, clientId: string): Promise<void> {
  const revocation = await fetch(`${s.issuer}/revoke`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token, client_id: clientId }),
  });
  expect(revocation.status).toBe(200);
}

/** Expects a 401 `invalid_token` challenge. */
async function expectInvalidToken(response: Response): Promise<void> {
  expect(response.status).toBe(401);
  const challenge = parseChallenge(response.headers.get('www-authenticate'));
  expect(challenge.scheme).toBe('Bearer');
  expect(challenge.error).toBe('invalid_token');
  await response.body?.cancel();
}

requirement('RS-401', async () => {
  for (const response of [await callMcp(server.mcpUrl, undefined), await fetch(server.mcpUrl)]) {
    expect(response.status).toBe(401);
    expect(parseChallenge(response.headers.get('www-authenticate')).scheme).toBe('Bearer');
    await response.body?.cancel();
  }
});

requirement('RS-INVALID-TOKEN', async ({ revision }) => {
  await expectInvalidToken(await callMcp(timed.mcpUrl, `pcat_${'A'.repeat(43)}`));
  const { client_id } = await register(timed);
  const expiring = await obtainTokens(timed, client_id, revision, {}, timed.mcpUrl);
  timed.advance((expiring.expires_in + 1) * 1000);
  await expectInvalidToken(await callMcp(timed.mcpUrl, expiring.access_token));
  const revoked = await obtainTokens(timed, client_id, revision, {}, timed.mcpUrl);
  await revoke(timed, revoked.access_token, client_id);
  await expectInvalidToken(await callMcp(timed.mcpUrl, revoked.access_token));
});

requirement('RS-HEADER-ONLY', async ({ revision }) => {
  const { client_id } = await register(server);
  const { access_token } = await obtainTokens(server, client_id, revision);
  const inQuery = await fetch(`${server.mcpUrl}?access_token=${access_token}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
  });
  expect(inQuery.status).toBe(400);
  expect(parseChallenge(inQuery.headers.get('www-authenticate')).error).toBe('invalid_request');
  const { body } = await getJson(prmUrl(server));
  expect(body.bearer_methods_supported).toEqual(['header']);
});

requirement('RS-MALFORMED', async () => {
  for (const authorization of ['Bearer', 'Bearer a b c', 'Bearer "quoted"', 'Bearer tok,en']) {
    const response = await fetch(server.mcpUrl, { headers: { authorization } });
    expect(response.status, authorization).toBe(400);
    expect(parseChallenge(response.headers.get('www-authenticate')).error).toBe('invalid_request');
    await response.body?.cancel();
  }
});

requirement('RS-AUDIENCE', async ({ revision }) => {
  const { client_id } = await register(server);
  const forMcp = await obtainTokens(server, client_id, revision, {}, server.mcpUrl);
  const forOther = await obtainTokens(server, client_id, revision, {}, `${server.url}/other`);
  expect((await callMcp(server.mcpUrl, forMcp.access_token)).status).toBe(200);
  expect((await callMcp(`${server.url}/other`, forOther.access_token)).status).toBe(200);
  await expectInvalidToken(await callMcp(`${server.url}/other`, forMcp.access_token));
  await expectInvalidToken(await callMcp(server.mcpUrl, forOther.access_token));
});

/** The claims of a JWT (unverified: the test only reads what the server put in). */
const claimsOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString());

requirement('RS-AUDIENCE-JWT', async ({ revision }) => {
  const { client_id } = await register(jwt);
  const forMcp = await obtainTokens(jwt, client_id, revision, {}, jwt.mcpUrl);
  const forOther = await obtainTokens(jwt, client_id, revision, {}, `${jwt.url}/other`);
  expect(claimsOf(forMcp.access_token).aud).toBe(jwt.mcpUrl);
  expect(claimsOf(forOther.access_token).aud).toBe(`${jwt.url}/other`);
  expect((await callMcp(jwt.mcpUrl, forMcp.access_token)).status).toBe(200);
  await expectInvalidToken(await callMcp(`${jwt.url}/other`, forMcp.access_token));
  await expectInvalidToken(await callMcp(jwt.mcpUrl, forOther.access_token));
});

requirement('RS-INVALID-TOKEN-JWT', async ({ revision }) => {
  const { client_id } = await register(jwt);
  const live = await obtainTokens(jwt, client_id, revision, {}, jwt.mcpUrl);
  const [header, payload] = live.access_token.split('.');
  await expectInvalidToken(await callMcp(jwt.mcpUrl, `${header}.${payload}.${'A'.repeat(86)}`));
  const revoked = await obtainTokens(jwt, client_id, revision, {}, jwt.mcpUrl);
  await revoke(jwt, revoked.access_token, client_id);
  await expectInvalidToken(await callMcp(jwt.mcpUrl, revoked.access_token));
  expect((await callMcp(jwt.mcpUrl, live.access_token)).status).toBe(200);
  jwt.advance((live.expires_in + 1) * 1000);
  await expectInvalidToken(await callMcp(jwt.mcpUrl, live.access_token));
});

requirement('RS-403-SCOPE', async ({ revision }) => {
  const { client_id } = await register(server);
  const { access_token } = await obtainTokens(server, client_id, revision, { scope: 'mcp' });
  for (const refused of [
    await callMcp(server.mcpUrl, access_token, toolCall('write_file')),
    await raw(server, access_token, ['files:read']),
  ]) {
    expect(refused.status).toBe(403);
    const challenge = parseChallenge(refused.headers.get('www-authenticate'));
    expect(challenge.scheme).toBe('Bearer');
    expect(challenge.error).toBe('insufficient_scope');
    expect(challenge.resource_metadata).toBe(prmUrl(server));
    expect(challenge.scope?.length).toBeGreaterThan(0);
    await refused.body?.cancel();
  }
  // A tool the token covers still runs.
  expect((await callMcp(server.mcpUrl, access_token)).status).toBe(200);
});

requirement('RS-403-ALL-ONCE', async ({ revision }) => {
  const { client_id } = await register(server);
  const { access_token } = await obtainTokens(server, client_id, revision, { scope: 'mcp' });
  const partial = await obtainTokens(server, client_id, revision, { scope: 'mcp files:write' });
  const cases: [string, Response, string[]][] = [
    [
      'admin_task tool',
      await callMcp(server.mcpUrl, access_token, toolCall('admin_task')),
      ['files:admin', 'files:write'],
    ],
    [
      'admin_task tool, files:write held',
      await callMcp(server.mcpUrl, partial.access_token, toolCall('admin_task')),
      ['files:admin'],
    ],
    [
      'requiredScopes with a repeat',
      await raw(server, access_token, ['files:write', 'files:admin', 'files:write']),
      ['files:admin', 'files:write'],
    ],
    [
      'resource-server-only mode, a repeat',
      await externalCall(['mcp', 'files:write', 'files:admin', 'files:write']),
      ['files:admin', 'files:write'],
    ],
  ];
  const problems: Record<string, string> = {};
  for (const [name, response, needed] of cases) {
    const scopes = challengedScopes(response.headers.get('www-authenticate'));
    await response.body?.cancel();
    if (response.status !== 403) problems[name] = `status ${response.status}`;
    else if (!needed.every((scope) => scopes.includes(scope)))
      problems[name] = `names only ${scopes.join(' ')}`;
    else if (scopes.length !== new Set(scopes).size) problems[name] = `repeats: ${scopes.join(' ')}`;
  }
  expect(problems).toEqual({});
});

requirement('REF-OFFLINE-CHALLENGE', async ({ revision }) => {
  const { client_id } = await register(offline);
  const { access_token } = await obtainTokens(offline, client_id, revision, { scope: 'mcp offline_access' });
  expect((await externalCall(['mcp'])).status, 'the introspected token works').toBe(200);
  const challenges: [string, Response][] = [
    ['401 of the MCP endpoint', await callMcp(offline.mcpUrl, undefined)],
    ['401 in resource-server-only mode', await fetch(`${external.url}/mcp`)],
    ['403 of a tool', await callMcp(offline.mcpUrl, access_token, toolCall('write_file'))],
    ['403 of authenticate', await raw(offline, access_token, ['mcp', 'files:write'])],
    ['403 in resource-server-only mode', await externalCall(['mcp', 'files:write'])],
  ];
  const leaks: Record<string, string> = {};
  for (const [name, response] of challenges) {
    const scopes = challengedScopes(response.headers.get('www-authenticate'));
    await response.body?.cancel();
    if (scopes.includes('offline_access')) leaks[name] = scopes.join(' ');
  }
  expect(leaks).toEqual({});
});
