import {
  type AuthorizationServer,
  createResourceServer,
  jwtVerifier,
  MemoryStorage,
  type Storage,
} from '@portcullis/core';
import { type DpopOptions, dpop, dpopResourceProof, jwtAccessTokens } from '@portcullis/core/extensions';
import { redisStorage } from '@portcullis/storage-kv';
import { createLocalJWKSet, jwtVerify } from 'jose';
import * as oauth from 'oauth4webapi';
import { afterAll, describe, expect, it } from 'vitest';
import { ioredis } from '../../../../test/support/deps.js';
import { ISSUER, makeServer, registerClient, tokenRequest } from '../helpers.js';
import { codeFlow, withNonceRetry } from './flow.js';

const MCP = `${ISSUER}/mcp`;

/** The server's routes plus a protected resource at /mcp that answers who called. */
function app(server: AuthorizationServer) {
  return async (request: Request): Promise<Response> => {
    if (server.handles(request)) return server.fetch(request);
    const auth = await server.authenticate(request);
    return auth.ok ? Response.json({ user: auth.info.userId }) : auth.response;
  };
}

/**
 * Two handles on one shared storage, as two instances have: one MemoryStorage, and (with REDIS_URL)
 * two separate Redis connections under this run's own key prefix.
 */
function sharedStorages(): [string, () => Promise<[Storage, Storage]>][] {
  const memory = new MemoryStorage();
  const list: [string, () => Promise<[Storage, Storage]>][] = [
    ['a MemoryStorage', async () => [memory, memory]],
  ];
  const url = process.env.REDIS_URL;
  if (url) {
    const prefix = `tokens_dpop_${process.pid}_${Date.now().toString(36)}:`;
    list.push([
      'Redis',
      async () => {
        const open = () => redisStorage({ url, prefix });
        const pair: [Storage, Storage] = [open(), open()];
        opened.push(...pair);
        return pair;
      },
    ]);
  }
  return list;
}
const opened: Storage[] = [];
afterAll(async () => {
  for (const storage of opened) await storage.close?.();
  const url = process.env.REDIS_URL;
  if (!url) return;
  const client = new ioredis.Redis(url);
  const keys = await client.keys(`tokens_dpop_${process.pid}_*`);
  if (keys.length > 0) await client.del(...keys);
  await client.quit();
});

function dpopServer(options: DpopOptions = {}, storage?: Storage) {
  // Real time: oauth4webapi stamps its proofs with the real clock.
  return makeServer({ now: Date.now, ...(storage ? { storage } : {}), extensions: [dpop(options)] });
}

/** Records the DPoP header oauth4webapi sends, so a test can replay it. */
function recording(fetcher: (request: Request) => Promise<Response>) {
  const proofs: string[] = [];
  const customFetch = (
    url: string,
    init: oauth.CustomFetchOptions<string, oauth.ProtectedResourceRequestBody>,
  ) => {
    const request = new Request(url, init as RequestInit);
    const proof = request.headers.get('dpop');
    if (proof) proofs.push(proof);
    return fetcher(request);
  };
  return { proofs, options: { [oauth.customFetch]: customFetch } };
}

async function use(
  fetcher: (request: Request) => Promise<Response>,
  token: string,
  handle: oauth.DPoPHandle,
): Promise<Response> {
  const { options } = recording(fetcher);
  return oauth.protectedResourceRequest(token, 'GET', new URL(MCP), new Headers(), null, {
    ...options,
    DPoP: handle,
  });
}

/** The `WWW-Authenticate` and error of a refused resource request. */
async function refusal(response: Response) {
  return {
    status: response.status,
    challenge: response.headers.get('www-authenticate') ?? '',
    error: ((await response.json()) as { error: string }).error,
  };
}

const get = (fetcher: (request: Request) => Promise<Response>, headers: Record<string, string>) =>
  fetcher(new Request(MCP, { headers }));

describe('dpop (RFC 9449) with oauth4webapi', () => {
  it('binds tokens to the proof key; the bound token works only with a proof of that key', async () => {
    const { server } = dpopServer();
    const fetcher = app(server);
    const metadata = await (
      await fetcher(new Request(`${ISSUER}/.well-known/oauth-authorization-server`))
    ).json();
    expect(metadata.dpop_signing_alg_values_supported).toContain('ES256');
    const prm = await (
      await fetcher(new Request(`${ISSUER}/.well-known/oauth-protected-resource/mcp`))
    ).json();
    expect(prm.dpop_signing_alg_values_supported).toEqual(metadata.dpop_signing_alg_values_supported);

    const keyPair = await oauth.generateKeyPair('ES256');
    const flow = await codeFlow({ issuer: ISSUER, fetcher, resource: MCP, dpop: oauth.DPoP({}, keyPair) });
    const { tokens } = flow;
    expect(tokens.token_type).toBe('dpop');
    const handle = oauth.DPoP(flow.client, keyPair);

    const ok = await use(fetcher, tokens.access_token, handle);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ user: 'owner' });

    // Without a proof, in either scheme.
    const asBearer = await refusal(await get(fetcher, { authorization: `Bearer ${tokens.access_token}` }));
    expect(asBearer).toMatchObject({ status: 401, error: 'invalid_token' });
    expect(asBearer.challenge).toMatch(/DPoP-bound/);
    expect(asBearer.challenge).toMatch(
      /^Bearer resource_metadata="[^"]+", error="invalid_token".*, DPoP algs="[^"]*ES256/,
    );
    const noProof = await refusal(await get(fetcher, { authorization: `DPoP ${tokens.access_token}` }));
    expect(noProof).toMatchObject({ status: 401, error: 'invalid_dpop_proof' });
    expect(noProof.challenge).toMatch(/DPoP algs="[^"]+", error="invalid_dpop_proof"/);

    // With a proof of another key.
    const other = oauth.DPoP(flow.client, await oauth.generateKeyPair('ES256'));
    await expect(use(fetcher, tokens.access_token, other)).rejects.toSatisfy(
      (e: unknown) =>
        e instanceof oauth.WWWAuthenticateChallengeError &&
        e.cause.some((c) => c.scheme === 'dpop' && c.parameters.error === 'invalid_token'),
    );

    // A request without credentials is challenged with both schemes.
    const bare = await refusal(await get(fetcher, {}));
    expect(bare.challenge).toMatch(/^Bearer resource_metadata="[^"]+".*, DPoP algs="/);
  });

  it.each(sharedStorages())(
    'refuses a replayed proof, on the same instance and on another one sharing %s',
    async (_name, open) => {
      const [one, two] = await open();
      const a = app(dpopServer({}, one).server);
      const b = app(dpopServer({}, two).server);
      const keyPair = await oauth.generateKeyPair('ES256');
      const flow = await codeFlow({
        issuer: ISSUER,
        fetcher: a,
        resource: MCP,
        dpop: oauth.DPoP({}, keyPair),
      });
      const token = flow.tokens.access_token;
      const recorder = recording(a);
      const response = await oauth.protectedResourceRequest(token, 'GET', new URL(MCP), new Headers(), null, {
        ...recorder.options,
        DPoP: oauth.DPoP(flow.client, keyPair),
      });
      expect(response.status).toBe(200);
      // Instance b accepts the token with a fresh proof…
      expect((await use(b, token, oauth.DPoP(flow.client, keyPair))).status).toBe(200);
      // …but not the proof a already accepted, nor a again.
      const replay = { authorization: `DPoP ${token}`, dpop: recorder.proofs[0]! };
      for (const fetcher of [b, a]) {
        const refused = await refusal(await get(fetcher, replay));
        expect(refused).toMatchObject({ status: 401, error: 'invalid_dpop_proof' });
        expect(refused.challenge).toMatch(/already used/);
      }
    },
  );

  it('refuses a proof with a stale iat', async () => {
    const { server } = dpopServer();
    const fetcher = app(server);
    const keyPair = await oauth.generateKeyPair('ES256');
    const flow = await codeFlow({ issuer: ISSUER, fetcher, resource: MCP, dpop: oauth.DPoP({}, keyPair) });
    const stale = oauth.DPoP({ [oauth.clockSkew]: -300 }, keyPair);
    const error = await use(fetcher, flow.tokens.access_token, stale).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(oauth.WWWAuthenticateChallengeError);
    const challenge = (error as oauth.WWWAuthenticateChallengeError).cause.find((c) => c.scheme === 'dpop');
    expect(challenge?.parameters).toMatchObject({ error: 'invalid_dpop_proof' });
    expect(challenge?.parameters.error_description).toMatch(/too old/);
  });

  it('binds a public client refresh token: a refresh needs a proof of the same key', async () => {
    const { server } = dpopServer();
    const fetcher = app(server);
    const keyPair = await oauth.generateKeyPair('ES256');
    const flow = await codeFlow({ issuer: ISSUER, fetcher, resource: MCP, dpop: oauth.DPoP({}, keyPair) });
    const { as, client, clientAuth, options } = flow;
    const refresh = (token: string, handle?: oauth.DPoPHandle) =>
      oauth.refreshTokenGrantRequest(as, client, clientAuth, token, {
        ...options,
        ...(handle ? { DPoP: handle } : {}),
      });

    const withoutProof = await refresh(flow.tokens.refresh_token!);
    expect(withoutProof.status).toBe(400);
    expect(await withoutProof.json()).toMatchObject({ error: 'invalid_grant' });
    const withOtherKey = await refresh(
      flow.tokens.refresh_token!,
      oauth.DPoP(client, await oauth.generateKeyPair('ES256')),
    );
    expect(await withOtherKey.json()).toMatchObject({ error: 'invalid_grant' });
    // The refusals above did not burn the refresh token: the right key still refreshes.
    const refreshed = await oauth.processRefreshTokenResponse(
      as,
      client,
      await refresh(flow.tokens.refresh_token!, oauth.DPoP(client, keyPair)),
    );
    expect(refreshed.token_type).toBe('dpop');
    expect((await use(fetcher, refreshed.access_token, oauth.DPoP(client, keyPair))).status).toBe(200);
  });

  it('asks for a server nonce (use_dpop_nonce), then accepts the retry with it', async () => {
    const { server } = dpopServer({ nonce: true });
    const seen: { status: number; nonce: string | null; error?: string }[] = [];
    const inner = app(server);
    const fetcher = async (request: Request) => {
      const response = await inner(request);
      if (request.headers.has('dpop'))
        seen.push({ status: response.status, nonce: response.headers.get('dpop-nonce') });
      return response;
    };
    const keyPair = await oauth.generateKeyPair('ES256');
    const flow = await codeFlow({ issuer: ISSUER, fetcher, resource: MCP, dpop: oauth.DPoP({}, keyPair) });
    expect(flow.tokens.token_type).toBe('dpop');
    const preflight = await inner(new Request(`${ISSUER}/token`, { method: 'OPTIONS' }));
    expect(preflight.headers.get('access-control-allow-headers')).toContain('DPoP');
    expect(preflight.headers.get('access-control-expose-headers')).toContain('DPoP-Nonce');
    // §8: the first token request was refused with a nonce, the retry with it succeeded.
    expect(seen[0]).toMatchObject({ status: 400 });
    expect(seen[0]!.nonce).toMatch(/^[A-Za-z0-9_-]{16,}$/);
    expect(seen[1]).toMatchObject({ status: 200 });

    // §9: the resource accepts the same server's nonce the handle keeps for this origin.
    const handle = oauth.DPoP(flow.client, keyPair);
    const first = await use(fetcher, flow.tokens.access_token, handle).catch((e: unknown) => e);
    expect(oauth.isDPoPNonceError(first)).toBe(true);
    const retried = await withNonceRetry(() => use(fetcher, flow.tokens.access_token, handle));
    expect(retried.status).toBe(200);
    // A made-up nonce is refused with a fresh one.
    const bad = oauth.DPoP(flow.client, keyPair, {
      [oauth.modifyAssertion]: (_header, payload) => {
        payload.nonce = 'x'.repeat(43);
      },
    });
    const refused = await use(fetcher, flow.tokens.access_token, bad).catch((e: unknown) => e);
    expect(oauth.isDPoPNonceError(refused)).toBe(true);
  });

  it('requires a proof when the server or the client (dpop_bound_access_tokens) says so', async () => {
    const required = app(dpopServer({ required: true }).server);
    const plain = await codeFlow({ issuer: ISSUER, fetcher: required, resource: MCP }).catch(
      (e: unknown) => e,
    );
    expect(plain).toBeInstanceOf(oauth.ResponseBodyError);
    expect((plain as oauth.ResponseBodyError).error).toBe('invalid_dpop_proof');

    const { server } = dpopServer();
    const fetcher = app(server);
    const { body } = await registerClient(fetcher, { dpop_bound_access_tokens: true });
    expect(body.dpop_bound_access_tokens).toBe(true);
    const bound = await codeFlow({
      issuer: ISSUER,
      fetcher,
      resource: MCP,
      metadata: { dpop_bound_access_tokens: true },
    }).catch((e: unknown) => e);
    expect((bound as oauth.ResponseBodyError).error).toBe('invalid_dpop_proof');
    // Without the extension, the member is not registered (RFC 7591 §3.2.1: the server replaces it).
    const { body: ignored } = await registerClient(makeServer().server.fetch, {
      dpop_bound_access_tokens: true,
    });
    expect(ignored).not.toHaveProperty('dpop_bound_access_tokens');
    // A malformed proof at the token endpoint is refused with invalid_dpop_proof.
    const { body: client } = await registerClient(fetcher);
    const response = await tokenRequest(
      fetcher,
      { grant_type: 'refresh_token', refresh_token: 'x', client_id: client.client_id! },
      { dpop: 'not-a-jwt' },
    );
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: 'invalid_dpop_proof' });
  });

  it('lets a resource server verify DPoP-bound Portcullis JWTs (cnf.jkt) with dpopResourceProof', async () => {
    const { server } = makeServer({ now: Date.now, extensions: [dpop(), jwtAccessTokens()] });
    const fetcher = app(server);
    const keyPair = await oauth.generateKeyPair('ES256');
    const flow = await codeFlow({ issuer: ISSUER, fetcher, resource: MCP, dpop: oauth.DPoP({}, keyPair) });
    const token = flow.tokens.access_token;
    const set = await (await fetcher(new Request(`${ISSUER}/.well-known/jwks.json`))).json();
    const { payload } = await jwtVerify(token, createLocalJWKSet(set));
    expect(payload.cnf).toEqual({ jkt: await oauth.DPoP(flow.client, keyPair).calculateThumbprint() });

    const storage = new MemoryStorage();
    const rsOptions = {
      resource: MCP,
      authorizationServers: [ISSUER],
      verify: jwtVerifier({ jwks: set, issuer: ISSUER }),
    };
    const rs = createResourceServer({
      ...rsOptions,
      dpop: dpopResourceProof({ storage, secret: 'rs-nonce-secret-rs-nonce-secret-0123' }),
    });
    expect(rs.metadata.dpop_signing_alg_values_supported).toContain('ES256');
    const rsFetch = async (request: Request) => {
      const auth = await rs.authenticate(request);
      return auth.ok ? Response.json({ user: auth.info.userId }) : auth.response;
    };
    expect((await use(rsFetch, token, oauth.DPoP(flow.client, keyPair))).status).toBe(200);
    expect((await refusal(await get(rsFetch, { authorization: `Bearer ${token}` }))).error).toBe(
      'invalid_token',
    );
    // A resource server without DPoP support refuses a bound token rather than taking it as a bearer token.
    const plain = createResourceServer(rsOptions);
    const refused = await plain.authenticate(
      new Request(MCP, { headers: { authorization: `Bearer ${token}` } }),
    );
    expect(refused.ok).toBe(false);
  });

  it('introspects a bound token of a confidential client as DPoP with its cnf; its refresh token stays unbound', async () => {
    const { server } = dpopServer();
    const fetcher = app(server);
    const keyPair = await oauth.generateKeyPair('EdDSA');
    const flow = await codeFlow({
      issuer: ISSUER,
      fetcher,
      resource: MCP,
      dpop: oauth.DPoP({}, keyPair),
      metadata: { token_endpoint_auth_method: 'client_secret_post' },
    });
    const jkt = await oauth.DPoP(flow.client, keyPair).calculateThumbprint();
    const introspect = async (token: string) =>
      (
        await fetcher(
          new Request(`${ISSUER}/introspect`, {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: new URLSearchParams({
              token,
              client_id: flow.client.client_id,
              client_secret: flow.secret!,
            }),
          }),
        )
      ).json();
    expect(await introspect(flow.tokens.access_token)).toMatchObject({
      active: true,
      token_type: 'DPoP',
      cnf: { jkt },
    });
    expect(await introspect(flow.tokens.refresh_token!)).not.toHaveProperty('cnf');
    // §5: its authentication binds the refresh token, so a refresh without a proof works (and is unbound).
    const refreshed = await oauth.processRefreshTokenResponse(
      flow.as,
      flow.client,
      await oauth.refreshTokenGrantRequest(
        flow.as,
        flow.client,
        flow.clientAuth,
        flow.tokens.refresh_token!,
        flow.options,
      ),
    );
    expect(refreshed.token_type).toBe('bearer');
  });

  it('answers 503, not 401 or 500, when the replay store cannot be reached', async () => {
    class FlakyStorage extends MemoryStorage {
      down = false;
      override increment(...args: Parameters<MemoryStorage['increment']>) {
        return this.down ? Promise.reject(new Error('connection refused')) : super.increment(...args);
      }
    }
    const storage = new FlakyStorage();
    const fetcher = app(dpopServer({}, storage).server);
    const keyPair = await oauth.generateKeyPair('ES256');
    const flow = await codeFlow({ issuer: ISSUER, fetcher, resource: MCP, dpop: oauth.DPoP({}, keyPair) });
    storage.down = true;
    const response = await use(fetcher, flow.tokens.access_token, oauth.DPoP(flow.client, keyPair));
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBeTruthy();
    expect(await response.json()).toMatchObject({ error: 'temporarily_unavailable' });
  });
});
