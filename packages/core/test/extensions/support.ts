import type { AuthorizationServer, AuthorizationServerOptions } from '@portcullis/core';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import * as oauth from 'oauth4webapi';
import { expect } from 'vitest';
import { ISSUER, makeServer, registerClient } from '../helpers.js';

export { ISSUER };

type Fetcher = (request: Request) => Promise<Response>;

/** oauth4webapi options that send its requests to an in-process server. */
export const inProcess = (fetcher: Fetcher) => ({
  [oauth.customFetch]: (url: URL | string, init?: RequestInit) => fetcher(new Request(url, init)),
});

/** A server with extensions, and oauth4webapi's view of it (from its RFC 8414 metadata). */
export async function serverWith(overrides: Partial<AuthorizationServerOptions>) {
  const ctx = makeServer(overrides);
  const as = await discover(ctx.server);
  return { ...ctx, as, options: inProcess(ctx.server.fetch) };
}

/** oauth4webapi discovery of an in-process server. */
export async function discover(server: AuthorizationServer): Promise<oauth.AuthorizationServer> {
  const issuer = new URL(ISSUER);
  return oauth.processDiscoveryResponse(
    issuer,
    await oauth.discoveryRequest(issuer, { ...inProcess(server.fetch), algorithm: 'oauth2' }),
  );
}

/** A real key pair and its public JWK (with `kid`). */
export async function keyPair(alg: 'RS256' | 'PS256' | 'ES256' | 'EdDSA', kid = `${alg}-key`) {
  const pair = await generateKeyPair(alg, { extractable: true });
  const publicJwk: JWK = { ...(await exportJWK(pair.publicKey)), kid, alg, use: 'sig' };
  return { ...pair, publicJwk, kid, alg };
}

/** Registers a client over DCR with the given metadata; expects 201. */
export async function register(fetcher: Fetcher, metadata: Record<string, unknown>) {
  const { response, body } = await registerClient(fetcher, metadata);
  expect(response.status, JSON.stringify(body)).toBe(201);
  return body as Record<string, string> & { client_id: string };
}

/** The OAuth error of a refused oauth4webapi call: its `error`, status, description and headers. */
export async function oauthError(promise: Promise<unknown>) {
  const error = await promise.then(
    () => {
      throw new Error('expected an OAuth error response, got success');
    },
    (e: unknown) => e,
  );
  if (error instanceof oauth.WWWAuthenticateChallengeError) {
    // oauth4webapi reports a 401 with a challenge before reading the body.
    const body = await error.response.json();
    return {
      error: body.error as string,
      status: error.status,
      description: (body.error_description as string) ?? '',
      headers: error.response.headers,
    };
  }
  if (!(error instanceof oauth.ResponseBodyError)) throw error;
  return {
    error: error.error,
    status: error.status,
    description: error.error_description ?? '',
    headers: error.response.headers,
  };
}

/** A JSON response, as a metadata document or JWK Set host answers. */
export const json = (body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), {
    status: 200,
    headers: { 'content-type': 'application/json', ...headers },
  });
