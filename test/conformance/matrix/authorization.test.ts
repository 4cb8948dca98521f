/** Conformance matrix: the authorization request and response per MCP revision. */
import { afterAll, beforeAll, expect } from 'vitest';
import { instantUpstream } from '../../support/security.js';
import {
  answerPinPage,
  authorizationUrl,
  callMcp,
  challengedScopes,
  clientOf,
  codeOf,
  getJson,
  HttpBrowser,
  locationOf,
  type MatrixServer,
  obtainTokens,
  REDIRECT,
  readForm,
  register,
  startMatrix,
  tokenRequest,
  tokensOf,
  toolCall,
  VERIFIER,
} from './harness.js';
import { requirementsOf } from './matrix.js';
import type { Revision } from './requirements.js';

const requirement = requirementsOf('authorization');

let server: MatrixServer;
let tenant: MatrixServer;
let consenting: MatrixServer;
let named: MatrixServer;
beforeAll(async () => {
  [server, tenant, consenting, named] = await Promise.all([
    startMatrix(),
    startMatrix({ issuerPath: '/tenant1' }),
    startMatrix({ overrides: { upstream: instantUpstream({ userId: 'alice' }) } }),
    startMatrix({
      overrides: {
        resources: [{ path: '/mcp', resource: 'https://mcp.example.com/mcp' }, { path: '/other' }],
      },
    }),
  ]);
});
afterAll(() => Promise.all([server, tenant, consenting, named].map((s) => s?.close())));

/** GETs an authorization URL and expects an error redirected to the client, with `iss`. */
async function expectErrorRedirect(s: MatrixServer, url: URL, error: string): Promise<URL> {
  const location = await locationOf(await fetch(url, { redirect: 'manual' }));
  expect(`${location.origin}${location.pathname}`).toBe(REDIRECT);
  expect(location.searchParams.get('error'), url.search).toBe(error);
  expect(location.searchParams.get('code')).toBeNull();
  expect(location.searchParams.get('iss'), `${error} without iss`).toBe(s.issuer);
  return location;
}

/** Expects an authorization request to end on an error page that redirects nowhere. */
async function expectPage(url: URL): Promise<void> {
  const response = await fetch(url, { redirect: 'manual' });
  expect(response.status, url.search).toBe(400);
  expect(response.headers.get('location')).toBeNull();
  expect(response.headers.get('content-type')).toContain('text/html');
}

/** Opens the consent page of the instant-login server; `null` when it redirected straight away. */
async function consentFor(clientId: string, scope: string, revision: Revision) {
  const browser = new HttpBrowser();
  const url = await authorizationUrl(consenting, clientId, {
    scope,
    ...clientOf(revision).resource(consenting.mcpUrl),
  });
  const first = await browser.get(url);
  if (first.status === 302) return { browser, redirect: await locationOf(first), form: null };
  const html = await first.text();
  expect(first.status, html.slice(0, 200)).toBe(200);
  expect(html).toContain('/authorize/consent');
  return { browser, redirect: null, form: readForm(html, url) };
}

/** Approves on the consent page (or takes the direct redirect) and redeems the code. */
async function consentAndRedeem(clientId: string, scope: string, revision: Revision) {
  const step = await consentFor(clientId, scope, revision);
  const location = step.form
    ? await locationOf(
        await step.browser.post(step.form.action, { ...step.form.fields, decision: 'approve' }),
      )
    : step.redirect!;
  return tokensOf(
    await tokenRequest(consenting, {
      grant_type: 'authorization_code',
      code: codeOf(location),
      redirect_uri: REDIRECT,
      code_verifier: VERIFIER,
      client_id: clientId,
      ...clientOf(revision).resource(consenting.mcpUrl),
    }),
  );
}

requirement('AUTHZ-PKCE', async ({ revision }) => {
  const { client_id } = await register(server);
  const resource = clientOf(revision).resource(server.mcpUrl);
  await expectErrorRedirect(
    server,
    await authorizationUrl(server, client_id, { ...resource, code_challenge: undefined }),
    'invalid_request',
  );
  await expectErrorRedirect(
    server,
    await authorizationUrl(server, client_id, {
      ...resource,
      code_challenge: VERIFIER,
      code_challenge_method: 'plain',
    }),
    'invalid_request',
  );
  await expectErrorRedirect(
    server,
    await authorizationUrl(server, client_id, { ...resource, code_challenge_method: undefined }),
    'invalid_request',
  );
  const page = await fetch(await authorizationUrl(server, client_id, resource), { redirect: 'manual' });
  expect(page.status).toBe(200);
});

requirement('AUTHZ-REDIRECT-EXACT', async () => {
  const { client_id } = await register(server);
  for (const redirect of [
    `${REDIRECT}/extra`,
    `${REDIRECT}?x=1`,
    'http://127.0.0.1:47011/CB',
    'https://127.0.0.1:47011/cb',
    'http://localhost:47011/cb',
    'http://127.0.0.1.evil.example:47011/cb',
  ])
    await expectPage(await authorizationUrl(server, client_id, { redirect_uri: redirect }));
  // RFC 8252 §7.3: only the loopback port may vary.
  const page = await fetch(
    await authorizationUrl(server, client_id, { redirect_uri: 'http://127.0.0.1:5555/cb' }),
    {
      redirect: 'manual',
    },
  );
  expect(page.status).toBe(200);
});

requirement('AUTHZ-REDIRECT-HTTPS', async () => {
  const post = (uri: string) =>
    fetch(`${server.issuer}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ redirect_uris: [uri], token_endpoint_auth_method: 'none' }),
    });
  for (const uri of ['http://app.example.com/cb', 'http://192.168.1.20/cb'])
    expect((await post(uri)).status, uri).toBe(400);
  for (const uri of ['https://app.example.com/cb', 'http://localhost:8080/cb', 'http://[::1]:8080/cb'])
    expect((await post(uri)).status, uri).toBe(201);
});

requirement('AUTHZ-ISS-SUCCESS', async ({ revision }) => {
  for (const s of [server, tenant]) {
    const suffix = s === tenant ? '/tenant1' : '';
    const metadata = await getJson(`${s.url}/.well-known/oauth-authorization-server${suffix}`);
    const { client_id } = await register(s);
    const location = await answerPinPage(
      await authorizationUrl(s, client_id, clientOf(revision).resource(s.mcpUrl)),
    );
    expect(location.searchParams.get('code')).toBeTruthy();
    expect(location.searchParams.get('iss')).toBe(metadata.body.issuer);
  }
});

requirement('AUTHZ-ISS-ERRORS', async ({ revision }) => {
  for (const s of [server, tenant]) {
    const { client_id } = await register(s);
    const resource = clientOf(revision).resource(s.mcpUrl);
    const url = (params: Record<string, string | undefined>) =>
      authorizationUrl(s, client_id, { ...resource, ...params });
    await expectErrorRedirect(s, await url({ resource: 'https://elsewhere.example/mcp' }), 'invalid_target');
    await expectErrorRedirect(s, await url({ response_type: 'token' }), 'unsupported_response_type');
    await expectErrorRedirect(s, await url({ code_challenge: undefined }), 'invalid_request');
    await expectErrorRedirect(s, await url({ state: 's'.repeat(3000) }), 'invalid_request');
    const denied = await answerPinPage(await url({}), 'deny');
    expect(denied.searchParams.get('error')).toBe('access_denied');
    expect(denied.searchParams.get('iss')).toBe(s.issuer);
  }
  // Denied on the core's consent page.
  const { client_id } = await register(consenting);
  const step = await consentFor(client_id, 'mcp', revision);
  const denied = await locationOf(
    await step.browser.post(step.form!.action, { ...step.form!.fields, decision: 'deny' }),
  );
  expect(denied.searchParams.get('error')).toBe('access_denied');
  expect(denied.searchParams.get('iss')).toBe(consenting.issuer);
});

requirement('AUTHZ-STATE', async ({ revision }) => {
  const { client_id } = await register(server);
  const state = "a b+c/d=e&f~!*()'%20;?#";
  const resource = clientOf(revision).resource(server.mcpUrl);
  const success = await answerPinPage(await authorizationUrl(server, client_id, { ...resource, state }));
  expect(success.searchParams.get('state')).toBe(state);
  const failed = await expectErrorRedirect(
    server,
    await authorizationUrl(server, client_id, { ...resource, state, response_type: 'token' }),
    'unsupported_response_type',
  );
  expect(failed.searchParams.get('state')).toBe(state);
});

requirement('AUTHZ-RESOURCE', async ({ revision }) => {
  const { client_id } = await register(server);
  for (const path of ['/mcp', '/other']) {
    const tokens = await obtainTokens(server, client_id, revision, {}, `${server.url}${path}`);
    const raw = await fetch(`${server.url}${path}/raw`, {
      headers: { authorization: `Bearer ${tokens.access_token}` },
    });
    expect(raw.status).toBe(200);
    expect(((await raw.json()) as { resource: string }).resource).toBe(`${server.url}${path}`);
  }
});

requirement('AUTHZ-RESOURCE-INVALID', async () => {
  const { client_id } = await register(server);
  for (const resource of [
    'https://elsewhere.example/mcp',
    `${server.mcpUrl}#fragment`,
    'mcp',
    `${server.url}/mcp-other`,
  ])
    await expectErrorRedirect(
      server,
      await authorizationUrl(server, client_id, { resource }),
      'invalid_target',
    );
});

requirement('AUTHZ-RESOURCE-CASE', async () => {
  const { client_id } = await register(named);
  const outcomes: Record<string, string> = {};
  for (const resource of [
    'HTTPS://MCP.EXAMPLE.COM/mcp',
    'https://Mcp.Example.com/mcp',
    'https://mcp.example.com/mcp/',
  ]) {
    const response = await fetch(await authorizationUrl(named, client_id, { resource }), {
      redirect: 'manual',
    });
    const refused =
      response.status === 302 ? new URL(response.headers.get('location')!).searchParams.get('error') : null;
    if (response.status !== 200) {
      outcomes[resource] = `refused: ${refused ?? response.status}`;
      continue;
    }
    const location = await answerPinPage(await authorizationUrl(named, client_id, { resource }));
    const tokens = await tokensOf(
      await tokenRequest(named, {
        grant_type: 'authorization_code',
        code: codeOf(location),
        redirect_uri: REDIRECT,
        code_verifier: VERIFIER,
        client_id,
      }),
    );
    outcomes[resource] = `MCP ${(await callMcp(named.mcpUrl, tokens.access_token)).status}`;
  }
  expect(outcomes).toEqual({
    'HTTPS://MCP.EXAMPLE.COM/mcp': 'MCP 200',
    'https://Mcp.Example.com/mcp': 'MCP 200',
    'https://mcp.example.com/mcp/': 'MCP 200',
  });
});

requirement('AUTHZ-RESOURCE-ABSENT', async ({ revision }) => {
  const { client_id } = await register(server);
  const tokens = await obtainTokens(server, client_id, revision);
  expect((await callMcp(server.mcpUrl, tokens.access_token)).status).toBe(200);
  expect((await callMcp(`${server.url}/other`, tokens.access_token)).status).toBe(401);
});

requirement('AUTHZ-SCOPE-SELECTION', async ({ revision }) => {
  const { client_id } = await register(server);
  // 1. The scope of the 401 challenge.
  const challenge = challengedScopes(
    (await callMcp(server.mcpUrl, undefined)).headers.get('www-authenticate'),
  );
  const fromChallenge = await obtainTokens(server, client_id, revision, { scope: challenge.join(' ') });
  expect(fromChallenge.scope.split(' ').sort()).toEqual([...challenge].sort());
  // 2. All of PRM scopes_supported.
  const prm = await getJson(`${server.url}/.well-known/oauth-protected-resource/mcp`);
  const all = prm.body.scopes_supported as string[];
  const fromMetadata = await obtainTokens(server, client_id, revision, { scope: all.join(' ') });
  expect(fromMetadata.scope.split(' ').sort()).toEqual([...all].sort());
  // 3. No scope parameter: the default.
  const byDefault = await obtainTokens(server, client_id, revision);
  expect(byDefault.scope).toBe('mcp');
  expect((await callMcp(server.mcpUrl, byDefault.access_token)).status).toBe(200);
});

requirement('AUTHZ-STEP-UP-UNION', async ({ revision }) => {
  const { client_id } = await register(consenting, { client_name: `step-up client (${revision})` });
  const first = await consentAndRedeem(client_id, 'mcp', revision);
  const refused = await callMcp(consenting.mcpUrl, first.access_token, toolCall('write_file'));
  expect(refused.status).toBe(403);
  const challenged = challengedScopes(refused.headers.get('www-authenticate'));
  expect(challenged).toContain('files:write');
  // Consent is remembered for what was approved…
  expect((await consentFor(client_id, 'mcp', revision)).form).toBeNull();
  // …and asked again for the union of granted and challenged scopes.
  const union = [...new Set([...first.scope.split(' '), ...challenged])].join(' ');
  expect((await consentFor(client_id, union, revision)).form).not.toBeNull();
  const stepped = await consentAndRedeem(client_id, union, revision);
  expect(stepped.scope.split(' ').sort()).toEqual(union.split(' ').sort());
  expect((await callMcp(consenting.mcpUrl, stepped.access_token, toolCall('write_file'))).status).toBe(200);
  expect((await callMcp(consenting.mcpUrl, stepped.access_token)).status).toBe(200);
});

requirement('AUTHZ-CONSENT-PER-CLIENT', async ({ revision }) => {
  const a = await register(consenting, { client_name: `client A (${revision})` });
  const b = await register(consenting, { client_name: `client B (${revision})` });
  const firstA = await consentFor(a.client_id, 'mcp', revision);
  expect(firstA.form).not.toBeNull();
  await locationOf(
    await firstA.browser.post(firstA.form!.action, { ...firstA.form!.fields, decision: 'approve' }),
  );
  // The upstream knows alice already; client B still needs her approval.
  const firstB = await consentFor(b.client_id, 'mcp', revision);
  expect(firstB.form).not.toBeNull();
  expect(firstB.redirect).toBeNull();
  // Client A, approved, is not asked again.
  const againA = await consentFor(a.client_id, 'mcp', revision);
  expect(againA.form).toBeNull();
  expect(againA.redirect?.searchParams.get('code')).toBeTruthy();
});
