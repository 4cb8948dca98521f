/**
 * JWT access tokens and DPoP inside real workerd (Miniflare): oauth4webapi drives the flow with a DPoP
 * key, jose on Node verifies the JWT with the Worker's JWKS, and the bound token works only with a proof.
 */
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createLocalJWKSet, jwtVerify } from 'jose';
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleWorker } from '../../../adapter-workers/test/workerd.js';
import { codeFlow, withNonceRetry } from './flow.js';

interface MiniflareLike {
  dispatchFetch(url: string, init?: Record<string, unknown>): Promise<Response>;
  dispose(): Promise<void>;
}

const ISSUER = 'https://as.example.com';
let mf: MiniflareLike;
beforeAll(async () => {
  const resolve = createRequire(new URL('../../../adapter-workers/package.json', import.meta.url)).resolve;
  const { Miniflare } = (await import(pathToFileURL(resolve('miniflare')).href)) as {
    Miniflare: new (options: Record<string, unknown>) => MiniflareLike;
  };
  const script = await bundleWorker(fileURLToPath(new URL('./fixtures/tokens-worker.ts', import.meta.url)));
  expect(script).not.toMatch(/from\s*["']node:/);
  mf = new Miniflare({ modules: true, script, compatibilityDate: '2025-07-01' });
}, 120_000);
afterAll(async () => {
  await mf?.dispose();
});

/** A Web Request to the Worker, its answer as a Web Response (cookies kept). */
async function dispatch(request: Request): Promise<Response> {
  const body = request.method === 'GET' || request.method === 'HEAD' ? undefined : await request.text();
  const answer = await mf.dispatchFetch(request.url, {
    method: request.method,
    headers: [...request.headers],
    redirect: 'manual',
    ...(body !== undefined ? { body } : {}),
  });
  const headers = new Headers();
  answer.headers.forEach((value, name) => {
    if (name !== 'set-cookie') headers.set(name, value);
  });
  for (const cookie of answer.headers.getSetCookie()) headers.append('set-cookie', cookie);
  const status = answer.status;
  return new Response(status === 204 || status === 304 ? null : await answer.arrayBuffer(), {
    status,
    headers,
  });
}

describe('jwtAccessTokens and dpop on workerd', () => {
  it('issues a DPoP-bound JWT that verifies with the JWKS and works only with a proof', async () => {
    const keyPair = await oauth.generateKeyPair('ES256');
    const flow = await codeFlow({
      issuer: ISSUER,
      fetcher: dispatch,
      resource: `${ISSUER}/mcp`,
      dpop: oauth.DPoP({}, keyPair),
    });
    expect(flow.tokens.token_type).toBe('dpop');
    const set = await (await dispatch(new Request(`${ISSUER}/.well-known/jwks.json`))).json();
    const { payload } = await jwtVerify(flow.tokens.access_token, createLocalJWKSet(set), {
      issuer: ISSUER,
      audience: `${ISSUER}/mcp`,
      typ: 'at+jwt',
    });
    const handle = oauth.DPoP(flow.client, keyPair);
    expect(payload.cnf).toEqual({ jkt: await handle.calculateThumbprint() });

    const customFetch = (
      url: string,
      init: oauth.CustomFetchOptions<string, oauth.ProtectedResourceRequestBody>,
    ) => dispatch(new Request(url, init as RequestInit));
    const call = () =>
      oauth.protectedResourceRequest(
        flow.tokens.access_token,
        'GET',
        new URL(`${ISSUER}/mcp`),
        new Headers(),
        null,
        {
          [oauth.customFetch]: customFetch,
          DPoP: handle,
        },
      );
    const ok = await withNonceRetry(call);
    expect(await ok.json()).toEqual({ user: 'owner' });
    const bearer = await dispatch(
      new Request(`${ISSUER}/mcp`, { headers: { authorization: `Bearer ${flow.tokens.access_token}` } }),
    );
    expect(bearer.status).toBe(401);
  });
});
