/** Conformance matrix: client registration — DCR (deprecated in 2026-07-28) and Client ID Metadata Documents. */
import { afterAll, beforeAll, expect } from 'vitest';
import {
  authorizationUrl,
  callMcp,
  getJson,
  HttpBrowser,
  LIVE_PIN,
  type MatrixServer,
  obtainTokens,
  REDIRECT,
  register,
  startMatrix,
} from './harness.js';
import { requirementsOf } from './matrix.js';
import { CIMD_ORIGIN, type DocumentHost, routedFetch, startDocumentHost } from './peers.js';

const requirement = requirementsOf('registration');

let host: DocumentHost;
let server: MatrixServer;
let cached: MatrixServer;
const fetched: string[] = [];
beforeAll(async () => {
  host = await startDocumentHost();
  const fetch = routedFetch(host);
  [server, cached] = await Promise.all([
    startMatrix({
      overrides: {
        clientIdMetadataDocuments: {
          fetch: (input, init) => {
            fetched.push(input);
            return fetch(input, init);
          },
        },
      },
    }),
    startMatrix({ clock: true, overrides: { clientIdMetadataDocuments: { fetch } } }),
  ]);
});
afterAll(() => Promise.all([server, cached, host].map((s) => s?.close())));

/** A valid Client ID Metadata Document served at `path` (overrides merged in). */
function publish(
  path: string,
  overrides: Record<string, unknown> = {},
  headers: Record<string, string> = {},
) {
  const clientId = `${CIMD_ORIGIN}${path}`;
  host.serve(
    path,
    {
      client_id: clientId,
      client_name: 'CIMD matrix client',
      redirect_uris: [REDIRECT],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      ...overrides,
    },
    headers,
  );
  return clientId;
}

/** Expects an authorization request to be refused on a page, never redirected to the client. */
async function expectRefusedPage(url: URL): Promise<string> {
  const response = await fetch(url, { redirect: 'manual' });
  expect(response.status).toBeGreaterThanOrEqual(400);
  expect(response.status).toBeLessThan(500);
  expect(response.headers.get('location')).toBeNull();
  expect(response.headers.get('content-type')).toContain('text/html');
  return response.text();
}

const postRegistration = (metadata: Record<string, unknown>) =>
  fetch(`${server.issuer}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token_endpoint_auth_method: 'none', ...metadata }),
  });

requirement('REG-DCR', async ({ revision }) => {
  const metadata = await getJson(`${server.url}/.well-known/oauth-authorization-server`);
  const registered = await register(server, { client_name: `DCR ${revision}` });
  expect(registered.client_id).toMatch(/^\S{16,}$/);
  // RFC 7591 §3.2.1: the response carries the registered metadata.
  expect(registered).toMatchObject({
    redirect_uris: [REDIRECT],
    grant_types: ['authorization_code', 'refresh_token'],
    token_endpoint_auth_method: 'none',
    client_name: `DCR ${revision}`,
  });
  expect(metadata.body.registration_endpoint).toBe(`${server.issuer}/register`);
  const tokens = await obtainTokens(server, registered.client_id, revision);
  expect((await callMcp(server.mcpUrl, tokens.access_token)).status).toBe(200);
});

requirement('REG-DCR-ERRORS', async () => {
  const response = await postRegistration({ redirect_uris: ['http://evil.example.com/cb'] });
  expect(response.status).toBe(400);
  const body = (await response.json()) as { error: string; error_description?: string };
  expect(body.error).toBe('invalid_redirect_uri');
  expect(body.error_description).toMatch(/\S{10,}/);
});

requirement('REG-APPTYPE-NATIVE', async () => {
  const registered = await register(server, {
    application_type: 'native',
    redirect_uris: ['http://127.0.0.1/callback', 'http://localhost:33418/cb', 'com.example.app:/oauth'],
  });
  // RFC 8252 §7.3: the loopback port is chosen at run time.
  const browser = new HttpBrowser();
  const url = await authorizationUrl(server, registered.client_id, {
    redirect_uri: 'http://127.0.0.1:51234/callback',
  });
  const form = await browser.openForm(url);
  const approved = await browser.post(form.action, { ...form.fields, pin: LIVE_PIN, decision: 'approve' });
  expect(approved.status).toBe(302);
  const location = new URL(approved.headers.get('location')!);
  expect(`${location.origin}${location.pathname}`).toBe('http://127.0.0.1:51234/callback');
  expect(location.searchParams.get('code')).toBeTruthy();
});

requirement('REG-APPTYPE-WEB', async () => {
  const response = await postRegistration({
    application_type: 'web',
    redirect_uris: ['https://app.example.com/oauth/callback'],
  });
  expect(response.status).toBe(201);
  expect(((await response.json()) as { redirect_uris: string[] }).redirect_uris).toEqual([
    'https://app.example.com/oauth/callback',
  ]);
});

requirement('REG-APPTYPE-ABSENT', async ({ revision }) => {
  for (const redirect of ['http://127.0.0.1:8976/cb', 'http://localhost/callback']) {
    const response = await postRegistration({
      redirect_uris: [redirect],
      client_name: `no type ${revision}`,
    });
    expect(response.status, redirect).toBe(201);
  }
});

requirement('REG-CIMD-FLOW', async ({ revision }) => {
  const clientId = publish(`/oauth/flow-${revision}.json`);
  const tokens = await obtainTokens(server, clientId, revision);
  expect(tokens.refresh_token).toBeTruthy();
  expect((await callMcp(server.mcpUrl, tokens.access_token)).status).toBe(200);
  expect(host.hits(`/oauth/flow-${revision}.json`)).toBeGreaterThanOrEqual(1);
});

requirement('REG-CIMD-ID-MATCH', async ({ revision }) => {
  const path = `/oauth/mismatch-${revision}.json`;
  publish(path, { client_id: `${CIMD_ORIGIN}/oauth/someone-else.json` });
  await expectRefusedPage(await authorizationUrl(server, `${CIMD_ORIGIN}${path}`));
});

requirement('REG-CIMD-REDIRECT', async ({ revision }) => {
  const clientId = publish(`/oauth/redirect-${revision}.json`);
  await expectRefusedPage(
    await authorizationUrl(server, clientId, { redirect_uri: 'http://127.0.0.1:47011/elsewhere' }),
  );
  await expectRefusedPage(
    await authorizationUrl(server, clientId, { redirect_uri: 'https://attacker.example/cb' }),
  );
});

requirement('REG-CIMD-STRUCTURE', async ({ revision }) => {
  host.serve(`/oauth/not-json-${revision}.json`, '{"client_id": ');
  await expectRefusedPage(await authorizationUrl(server, `${CIMD_ORIGIN}/oauth/not-json-${revision}.json`));
  const noRedirects = publish(`/oauth/no-redirects-${revision}.json`, { redirect_uris: undefined });
  await expectRefusedPage(await authorizationUrl(server, noRedirects));
});

requirement('REG-CIMD-CACHE', async ({ revision }) => {
  const path = `/oauth/cached-${revision}.json`;
  const clientId = publish(path, {}, { 'cache-control': 'max-age=60' });
  const first = await fetch(await authorizationUrl(cached, clientId), { redirect: 'manual' });
  expect(first.status).toBe(200);
  // The client moves its callback; once max-age has passed the document is read again.
  const moved = 'http://127.0.0.1:47011/moved';
  publish(path, { redirect_uris: [moved] }, { 'cache-control': 'max-age=60' });
  cached.advance(120_000);
  const second = await fetch(await authorizationUrl(cached, clientId, { redirect_uri: moved }), {
    redirect: 'manual',
  });
  expect(second.status).toBe(200);
  expect(host.hits(path)).toBe(2);
});

requirement('REG-CIMD-SSRF', async () => {
  const before = fetched.length;
  for (const clientId of [
    'https://127.0.0.1/client.json',
    'https://localhost/client.json',
    'https://10.1.2.3/client.json',
    'https://169.254.169.254/latest/meta-data',
    'https://[::1]/client.json',
    'https://metadata.internal/client.json',
  ])
    await expectRefusedPage(await authorizationUrl(server, clientId));
  expect(fetched.slice(before)).toEqual([]);
});

requirement('REG-CIMD-HOSTNAME', async ({ revision }) => {
  const clientId = publish(`/oauth/hostname-${revision}.json`, {
    redirect_uris: ['https://callback.example.net/oauth/cb'],
  });
  const page = await new HttpBrowser().openForm(
    await authorizationUrl(server, clientId, { redirect_uri: 'https://callback.example.net/oauth/cb' }),
  );
  expect(page.html).toContain('callback.example.net');
});
