/** Conformance matrix: protected-resource metadata discovery (RFC 9728) per MCP revision. */
import type { ResourceOptions } from '@portcullis/core';
import { afterAll, beforeAll, expect } from 'vitest';
import {
  answerPinPage,
  authorizationUrl,
  callMcp,
  challengedScopes,
  clientOf,
  codeOf,
  getJson,
  type MatrixServer,
  parseChallenge,
  REDIRECT,
  register,
  startMatrix,
  tokenRequest,
  tokensOf,
  VERIFIER,
} from './harness.js';
import { requirementsOf } from './matrix.js';
import { type ExternalResource, startExternalResource } from './peers.js';

const requirement = requirementsOf('discovery');

/** A resource that advertises `baseline` and accepts `accepted` (RFC 9728 §2). */
const baselineResource = (path: string, baseline: string[], accepted: string[]): ResourceOptions => ({
  path,
  scopes: accepted,
  advertisedScopes: baseline,
});

let server: MatrixServer;
let nested: MatrixServer;
let root: MatrixServer;
let offline: MatrixServer;
let baseline: MatrixServer;
/** Resource-server-only mode (ADR 011) in front of `server`. */
let external: ExternalResource;
beforeAll(async () => {
  [server, nested, root, offline, baseline] = await Promise.all([
    startMatrix(),
    startMatrix({ overrides: { resources: [{ path: '/public/mcp' }] } }),
    startMatrix({ overrides: { resources: [{ path: '/' }] } }),
    startMatrix({
      overrides: { scopes: { supported: ['mcp', 'offline_access'], default: ['mcp'] } },
    }),
    startMatrix({
      overrides: {
        scopes: { supported: ['mcp:read', 'mcp:write'], default: ['mcp:read'] },
        resources: [baselineResource('/mcp', ['mcp:read'], ['mcp:read', 'mcp:write'])],
      },
    }),
  ]);
  external = await startExternalResource(server, 'mcp');
});
afterAll(() => Promise.all([server, nested, root, offline, baseline, external].map((s) => s?.close())));

const prmUrl = (s: MatrixServer, path: string) => `${s.url}/.well-known/oauth-protected-resource${path}`;

requirement('DISC-PRM-DOC', async ({ revision }) => {
  for (const path of ['/mcp', '/other']) {
    const { status, body, response } = await getJson(prmUrl(server, path), clientOf(revision).headers);
    expect(status).toBe(200);
    expect(response.headers.get('content-type')).toContain('application/json');
    // RFC 9728 §3.3: `resource` is the identifier the well-known URL was built from.
    expect(body.resource).toBe(`${server.url}${path}`);
    expect(Array.isArray(body.authorization_servers)).toBe(true);
    expect(body.authorization_servers).toContain(server.issuer);
  }
});

requirement('DISC-PRM-401', async ({ revision }) => {
  // Resource-server-only mode: its resource identifier is the AS's /mcp (so the tokens fit), its 401
  // points at that identifier's metadata URL, and it serves the document naming the external AS.
  const outside = await fetch(`${external.url}/mcp`);
  expect(outside.status).toBe(401);
  expect(parseChallenge(outside.headers.get('www-authenticate')).resource_metadata).toBe(
    prmUrl(server, '/mcp'),
  );
  const served = await getJson(
    `${external.url}/.well-known/oauth-protected-resource/mcp`,
    clientOf(revision).headers,
  );
  expect(served.status).toBe(200);
  expect(served.body.authorization_servers).toEqual([server.issuer]);
  for (const path of ['/mcp', '/other']) {
    const refused = await callMcp(`${server.url}${path}`, undefined);
    expect(refused.status).toBe(401);
    const challenge = parseChallenge(refused.headers.get('www-authenticate'));
    expect(challenge.scheme).toBe('Bearer');
    expect(challenge.resource_metadata).toBe(prmUrl(server, path));
    const { status, body } = await getJson(challenge.resource_metadata!, clientOf(revision).headers);
    expect(status).toBe(200);
    expect(body.resource).toBe(`${server.url}${path}`);
  }
});

requirement('DISC-PRM-SUFFIX', async ({ revision }) => {
  const { status, body } = await getJson(prmUrl(nested, '/public/mcp'), clientOf(revision).headers);
  expect(status).toBe(200);
  expect(body.resource).toBe(`${nested.url}/public/mcp`);
  expect(body.authorization_servers).toEqual([nested.issuer]);
  // The 401 of that resource names the same document.
  const refused = await callMcp(`${nested.url}/public/mcp`, undefined);
  expect(parseChallenge(refused.headers.get('www-authenticate')).resource_metadata).toBe(
    prmUrl(nested, '/public/mcp'),
  );
});

requirement('DISC-PRM-ROOT', async ({ revision }) => {
  const { status, body } = await getJson(prmUrl(root, ''), clientOf(revision).headers);
  expect(status).toBe(200);
  expect(String(body.resource).replace(/\/$/, '')).toBe(root.url);
  expect(body.authorization_servers).toEqual([root.issuer]);
});

requirement('DISC-CANONICAL-NO-SLASH', async ({ revision }) => {
  const { body } = await getJson(prmUrl(root, ''), clientOf(revision).headers);
  expect(body.resource).toBe(root.url);
});

requirement('DISC-PRM-SCOPE', async () => {
  const metadata = await getJson(`${server.url}/.well-known/oauth-authorization-server`);
  const challenges: Record<string, string[]> = {};
  for (const [name, url] of [
    ['MCP endpoint', server.mcpUrl],
    ['resource-server-only mode', `${external.url}/mcp`],
  ] as const) {
    const refused = await callMcp(url, undefined);
    challenges[name] = challengedScopes(refused.headers.get('www-authenticate'));
    for (const scope of challenges[name]) expect(metadata.body.scopes_supported).toContain(scope);
  }
  const without = Object.entries(challenges).filter(([, scopes]) => scopes.length === 0);
  expect(Object.fromEntries(without), 'challenges without a scope').toEqual({});
});

requirement('DISC-PRM-BASELINE', async ({ revision }) => {
  const { body } = await getJson(prmUrl(baseline, '/mcp'), clientOf(revision).headers);
  expect(body.scopes_supported).toEqual(['mcp:read']);
  const refused = await callMcp(baseline.mcpUrl, undefined);
  expect(challengedScopes(refused.headers.get('www-authenticate'))).toEqual(['mcp:read']);
  // The accepted step-up scope is still granted and the token works at the resource.
  const { client_id } = await register(baseline);
  const client = clientOf(revision);
  const location = await answerPinPage(
    await authorizationUrl(baseline, client_id, {
      scope: 'mcp:read mcp:write',
      ...client.resource(baseline.mcpUrl),
    }),
  );
  const tokens = await tokensOf(
    await tokenRequest(baseline, {
      grant_type: 'authorization_code',
      code: codeOf(location),
      redirect_uri: REDIRECT,
      code_verifier: VERIFIER,
      client_id,
      ...client.resource(baseline.mcpUrl),
    }),
  );
  expect(tokens.scope.split(' ').sort()).toEqual(['mcp:read', 'mcp:write']);
  expect((await callMcp(baseline.mcpUrl, tokens.access_token)).status).toBe(200);
});

requirement('REF-OFFLINE-PRM', async ({ revision }) => {
  const { body } = await getJson(prmUrl(offline, '/mcp'), clientOf(revision).headers);
  expect(body.scopes_supported).toContain('mcp');
  expect(body.scopes_supported).not.toContain('offline_access');
});
