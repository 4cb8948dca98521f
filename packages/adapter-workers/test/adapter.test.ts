import { fileURLToPath } from 'node:url';
import { Miniflare } from 'miniflare';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleWorker, type Dispatch, pinFlow } from './workerd.js';

const PIN = 'test-pin-4242';
const SECRET = 'workers-adapter-test-secret-0123456789abcdef';
const ORIGIN = 'http://localhost:8787';

let script: string;
const instances: Miniflare[] = [];

function start(bindings: Record<string, string>): { mf: Miniflare; dispatch: Dispatch } {
  const mf = new Miniflare({
    modules: true,
    script,
    compatibilityDate: '2025-07-01',
    kvNamespaces: ['OAUTH_KV'],
    durableObjects: { PORTCULLIS: { className: 'PortcullisCoordinator', useSQLite: true } },
    bindings,
  });
  instances.push(mf);
  const dispatch: Dispatch = async (url, init) =>
    (await mf.dispatchFetch(url, init as never)) as unknown as Response;
  return { mf, dispatch };
}

beforeAll(async () => {
  script = await bundleWorker(fileURLToPath(new URL('./fixtures/worker.ts', import.meta.url)));
});
afterAll(async () => {
  await Promise.all(instances.map((mf) => mf.dispose()));
});

describe('portcullis() on workerd', () => {
  let dispatch: Dispatch;
  beforeAll(() => {
    ({ dispatch } = start({ AUTH_PIN: PIN, PORTCULLIS_SECRET: SECRET, CLEANUP_INTERVAL: '0.000001' }));
  });

  it('takes the issuer from the request origin when none is configured', async () => {
    for (const origin of [ORIGIN, 'http://127.0.0.1:8787']) {
      const response = await dispatch(`${origin}/.well-known/oauth-authorization-server`);
      expect(response.status).toBe(200);
      const metadata = (await response.json()) as { issuer: string; token_endpoint: string };
      expect(metadata.issuer).toBe(origin);
      expect(metadata.token_endpoint).toBe(`${origin}/token`);
    }
  });

  it('serves protected-resource metadata for each API route', async () => {
    const response = await dispatch(`${ORIGIN}/.well-known/oauth-protected-resource/api`);
    expect(response.status).toBe(200);
    expect(((await response.json()) as { resource: string }).resource).toBe(`${ORIGIN}/api`);
  });

  it('refuses the API without a token with an RFC 6750 challenge, readable cross-origin', async () => {
    const response = await dispatch(`${ORIGIN}/mcp`, { method: 'POST', body: '{}' });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toContain(
      `resource_metadata="${ORIGIN}/.well-known/oauth-protected-resource/mcp"`,
    );
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    expect(response.headers.get('access-control-expose-headers')).toContain('WWW-Authenticate');
  });

  it('answers CORS preflight on the API route without a token', async () => {
    const response = await dispatch(`${ORIGIN}/mcp`, {
      method: 'OPTIONS',
      headers: { origin: 'https://inspector.example', 'access-control-request-method': 'POST' },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-headers')).toContain('Authorization');
  });

  it('runs the whole OAuth flow and hands the verified token to the API handler', async () => {
    const { accessToken, clientId } = await pinFlow(dispatch, ORIGIN, PIN);
    const response = await dispatch(`${ORIGIN}/mcp/sub/path`, {
      headers: { authorization: `Bearer ${accessToken}` },
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      path: '/mcp/sub/path',
      userId: 'owner',
      clientId,
      scopes: ['mcp'],
      resource: `${ORIGIN}/mcp`,
      issuer: ORIGIN,
      reauthenticated: true,
    });
  });

  it('binds tokens to their resource: an /mcp token does not open /api', async () => {
    const { accessToken } = await pinFlow(dispatch, ORIGIN, PIN);
    const response = await dispatch(`${ORIGIN}/api`, { headers: { authorization: `Bearer ${accessToken}` } });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toContain('error="invalid_token"');
  });

  it('revokes at once across the Worker (grants live in the Durable Object)', async () => {
    const { accessToken, refreshToken, clientId } = await pinFlow(dispatch, ORIGIN, PIN);
    const ok = await dispatch(`${ORIGIN}/mcp`, { headers: { authorization: `Bearer ${accessToken}` } });
    expect(ok.status).toBe(200);
    const revoked = await dispatch(`${ORIGIN}/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        token: refreshToken,
        token_type_hint: 'refresh_token',
        client_id: clientId,
      }),
    });
    expect(revoked.status).toBe(200);
    const refused = await dispatch(`${ORIGIN}/mcp`, { headers: { authorization: `Bearer ${accessToken}` } });
    expect(refused.status).toBe(401);
  });

  it('sends everything else to the default handler', async () => {
    const response = await dispatch(`${ORIGIN}/some/page`);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('home: /some/page');
  });

  it('builds the configuration once per isolate and sweeps expired records in the background', async () => {
    const stats = (await (await dispatch(`${ORIGIN}/__stats`)).json()) as { builds: number; sweeps: number };
    expect(stats.builds).toBe(1);
    // CLEANUP_INTERVAL≈0: every request scheduled a sweep through ctx.waitUntil.
    expect(stats.sweeps).toBeGreaterThan(10);
  });
});

describe('portcullis() configuration', () => {
  it('uses a configured issuer regardless of the request host', async () => {
    const { dispatch } = start({
      AUTH_PIN: PIN,
      PORTCULLIS_SECRET: SECRET,
      ISSUER: 'https://mcp.example.com',
    });
    const response = await dispatch('http://localhost:8787/.well-known/oauth-authorization-server');
    expect(((await response.json()) as { issuer: string }).issuer).toBe('https://mcp.example.com');
    const stats = (await (await dispatch(`${ORIGIN}/__stats`)).json()) as { sweeps: number };
    expect(stats.sweeps).toBe(0);
  });

  it('answers a clear 500 without leaking secrets when misconfigured', async () => {
    const { dispatch } = start({ AUTH_PIN: PIN, PORTCULLIS_SECRET: 'too-short-secret' });
    const response = await dispatch(`${ORIGIN}/.well-known/oauth-authorization-server`);
    expect(response.status).toBe(500);
    const text = await response.text();
    expect(JSON.parse(text)).toMatchObject({ error: 'server_error' });
    expect(text).not.toContain('too-short-secret');
    expect(text).not.toContain(PIN);
  });
});
