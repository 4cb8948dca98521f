/** Conformance matrix: authorization server metadata (RFC 8414, OpenID Connect Discovery) per MCP revision. */
import { ConfigurationError, createAuthorizationServer, MemoryStorage } from '@portcullis/core';
import { pinUpstream } from '@portcullis/core/upstreams';
import { afterAll, beforeAll, expect } from 'vitest';
import { clientOf, getJson, type MatrixServer, startMatrix } from './harness.js';
import { requirementsOf } from './matrix.js';

const requirement = requirementsOf('as-metadata');

let server: MatrixServer;
let tenant: MatrixServer;
let offline: MatrixServer;
beforeAll(async () => {
  [server, tenant, offline] = await Promise.all([
    startMatrix(),
    startMatrix({ issuerPath: '/tenant1' }),
    startMatrix({ overrides: { scopes: { supported: ['mcp', 'offline_access'], default: ['mcp'] } } }),
  ]);
});
afterAll(() => Promise.all([server, tenant, offline].map((s) => s?.close())));

/** Fetches one metadata URL as a client of `revision` and checks it is the issuer's own document. */
async function metadataAt(url: string, issuer: string, revision: Parameters<typeof clientOf>[0]) {
  const { status, body, response } = await getJson(url, clientOf(revision).headers);
  expect(status, url).toBe(200);
  expect(response.headers.get('content-type')).toContain('application/json');
  // RFC 8414 §3.3: the issuer is identical to the one the well-known URL was built from.
  expect(body.issuer, url).toBe(issuer);
  return body;
}

requirement('ASM-RFC8414', async ({ revision }) => {
  const body = await metadataAt(
    `${server.url}/.well-known/oauth-authorization-server`,
    server.issuer,
    revision,
  );
  expect(body.authorization_endpoint).toBe(`${server.issuer}/authorize`);
  expect(body.token_endpoint).toBe(`${server.issuer}/token`);
  expect(body.response_types_supported).toContain('code');
  // The endpoints it names answer (GET /token is the wrong method, not a missing route).
  expect((await fetch(String(body.token_endpoint))).status).toBe(405);
});

requirement('ASM-BASE-URL', async ({ revision }) => {
  // A 2025-03-26 client of https://host/mcp drops the path and reads the origin's metadata.
  const base = new URL(server.mcpUrl).origin;
  const body = await metadataAt(`${base}/.well-known/oauth-authorization-server`, server.issuer, revision);
  for (const endpoint of ['authorization_endpoint', 'token_endpoint', 'registration_endpoint'])
    expect(new URL(String(body[endpoint])).origin).toBe(base);
});

requirement('ASM-PATH-INSERT', async ({ revision }) => {
  expect(tenant.issuer).toBe(`${tenant.url}/tenant1`);
  const body = await metadataAt(
    `${tenant.url}/.well-known/oauth-authorization-server/tenant1`,
    tenant.issuer,
    revision,
  );
  expect(body.authorization_endpoint).toBe(`${tenant.issuer}/authorize`);
});

requirement('ASM-OIDC-FALLBACKS', async ({ revision }) => {
  // The client's priority order for a path issuer, then for a root issuer: every URL answers.
  for (const url of [
    `${tenant.url}/.well-known/oauth-authorization-server/tenant1`,
    `${tenant.url}/.well-known/openid-configuration/tenant1`,
    `${tenant.url}/tenant1/.well-known/openid-configuration`,
  ])
    await metadataAt(url, tenant.issuer, revision);
  for (const url of [
    `${server.url}/.well-known/oauth-authorization-server`,
    `${server.url}/.well-known/openid-configuration`,
  ])
    await metadataAt(url, server.issuer, revision);
});

requirement('ASM-PKCE-METHODS', async ({ revision }) => {
  for (const suffix of ['oauth-authorization-server', 'openid-configuration']) {
    const body = await metadataAt(`${server.url}/.well-known/${suffix}`, server.issuer, revision);
    expect(body.code_challenge_methods_supported).toContain('S256');
    expect(body.code_challenge_methods_supported).not.toContain('plain');
  }
});

requirement('ASM-ISS-SUPPORTED', async ({ revision }) => {
  for (const s of [server, tenant]) {
    const url = `${s.url}/.well-known/oauth-authorization-server${s === tenant ? '/tenant1' : ''}`;
    const body = await metadataAt(url, s.issuer, revision);
    expect(body.authorization_response_iss_parameter_supported).toBe(true);
  }
});

requirement('ASM-CIMD-SUPPORTED', async ({ revision }) => {
  const body = await metadataAt(
    `${server.url}/.well-known/oauth-authorization-server`,
    server.issuer,
    revision,
  );
  expect(body.client_id_metadata_document_supported).toBe(true);
});

requirement('ASM-REGISTRATION-ENDPOINT', async ({ revision }) => {
  const body = await metadataAt(
    `${server.url}/.well-known/oauth-authorization-server`,
    server.issuer,
    revision,
  );
  expect(body.registration_endpoint).toBe(`${server.issuer}/register`);
  const refused = await fetch(String(body.registration_endpoint), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
  });
  // The endpoint exists and judges the metadata (RFC 7591 §3.2.2), it is not a 404.
  expect(refused.status).toBe(400);
  expect(((await refused.json()) as { error: string }).error).toBe('invalid_redirect_uri');
});

requirement('ASM-GRANTS', async ({ revision }) => {
  const body = await metadataAt(
    `${server.url}/.well-known/oauth-authorization-server`,
    server.issuer,
    revision,
  );
  expect(body.response_types_supported).toEqual(['code']);
  expect(body.grant_types_supported).toEqual(expect.arrayContaining(['authorization_code', 'refresh_token']));
  expect(body.token_endpoint_auth_methods_supported).toEqual(
    expect.arrayContaining(['none', 'client_secret_basic', 'client_secret_post']),
  );
});

requirement('REF-OFFLINE-AS', async ({ revision }) => {
  const body = await metadataAt(
    `${offline.url}/.well-known/oauth-authorization-server`,
    offline.issuer,
    revision,
  );
  expect(body.scopes_supported).toEqual(expect.arrayContaining(['mcp', 'offline_access']));
});

requirement('SEC-HTTPS', async () => {
  const base = {
    storage: new MemoryStorage(),
    upstream: pinUpstream({ pin: '123456789' }),
    secret: 'conformance-matrix-secret-0123456789abcdef',
  };
  for (const issuer of ['http://as.example.com', 'http://10.0.0.8:8080'])
    expect(() => createAuthorizationServer({ ...base, issuer })).toThrow(ConfigurationError);
  const as = createAuthorizationServer({ ...base, issuer: 'https://as.example.com/tenant1' });
  const response = await as.fetch(
    new Request('https://as.example.com/.well-known/oauth-authorization-server/tenant1'),
  );
  const body = (await response.json()) as Record<string, unknown>;
  const endpoints = Object.entries(body).filter(([name]) => name.endsWith('_endpoint'));
  expect(endpoints.length).toBeGreaterThanOrEqual(4);
  for (const [, url] of endpoints) expect(String(url)).toMatch(/^https:\/\/as\.example\.com\/tenant1\//);
});
