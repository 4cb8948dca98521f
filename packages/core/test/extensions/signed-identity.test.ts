/**
 * Signed identity to the upstream: a Portcullis gateway proxies to a real MCP SDK upstream that trusts
 * no header, only a signed assertion of the caller it verifies itself, with the gateway's published JWKS
 * (ES256) or with a shared HMAC secret (HS256), and refuses forged ones.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import { type AuthorizationServer, MemoryStorage } from '@portcullis/core';
import { jwks, signingKeys } from '@portcullis/core/extensions';
import { mcpProxy, signedIdentity } from '@portcullis/core/mcp';
import {
  createRemoteJWKSet,
  generateKeyPair,
  type JWTPayload,
  type JWTVerifyGetKey,
  jwtVerify,
  SignJWT,
} from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIVE_PIN, LIVE_SECRET, type LiveServer, startLiveServer } from '../../../../test/support/live.js';
import { serveFetch } from '../mcp/node-bridge.js';
import type { LocalServer } from '../resource-server/helpers.js';
import { codeFlow } from './flow.js';

const HEADER = 'Portcullis-Jwt-Assertion';
const HMAC_SECRET = 'upstream-shared-hmac-secret-0123456789abcdef';

/** An upstream MCP server that serves only requests with a valid assertion, and tells who called. */
async function startUpstream(verifyWith: () => { key: JWTVerifyGetKey | Uint8Array; issuer: string }) {
  const verified: JWTPayload[] = [];
  const refused: string[] = [];
  let url = '';
  const local: LocalServer = await serveFetch(async (request) => {
    const assertion = request.headers.get(HEADER);
    const { key, issuer } = verifyWith();
    try {
      if (!assertion) throw new Error('no assertion');
      const { payload } = await jwtVerify(assertion, key as JWTVerifyGetKey, {
        issuer,
        audience: `${url}/mcp`,
        maxTokenAge: 60,
        requiredClaims: ['exp', 'iat', 'jti', 'sub'],
      });
      verified.push(payload);
    } catch (error) {
      refused.push(error instanceof Error ? error.message : String(error));
      return new Response('{"error":"unauthorized"}', { status: 401 });
    }
    const server = new McpServer({ name: 'upstream', version: '1.0.0' });
    server.registerTool('whoami', { description: 'Who called' }, async () => ({
      content: [{ type: 'text', text: String(verified.at(-1)?.sub) }],
    }));
    const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    await server.connect(transport);
    return transport.handleRequest(request);
  });
  url = local.url;
  return { ...local, verified, refused };
}

type Upstream = Awaited<ReturnType<typeof startUpstream>>;

/** A gateway: the live authorization server, its JWKS, and a proxy at /mcp with the assertion strategy. */
async function startGateway(upstream: () => Upstream, mode: 'jwks' | 'hs256'): Promise<LiveServer> {
  const storage = new MemoryStorage();
  const keys = signingKeys({ storage, secret: LIVE_SECRET, maxTokenLifetimeSeconds: 60 });
  let proxy: ((request: Request) => Promise<Response>) | undefined;
  const make = (as: AuthorizationServer) =>
    mcpProxy({
      upstream: `${upstream().url}/mcp`,
      authenticator: as,
      credentials: signedIdentity({
        issuer: as.issuer,
        audience: `${upstream().url}/mcp`,
        signing: mode === 'jwks' ? { keys } : { hmacSecret: HMAC_SECRET },
        claims: (info) => ({ resource: info.resource }),
      }),
    });
  return startLiveServer({
    mcp: (as) => (request) => {
      proxy ??= make(as());
      return proxy(request);
    },
    overrides: { storage, extensions: mode === 'jwks' ? [jwks(keys)] : [] },
  });
}

async function callWhoami(gateway: LiveServer, extraHeaders: Record<string, string> = {}) {
  const { tokens } = await codeFlow({
    issuer: gateway.issuer,
    pin: LIVE_PIN,
    resource: `${gateway.issuer}/mcp`,
  });
  const client = new Client({ name: 'c', version: '1' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${gateway.issuer}/mcp`), {
      requestInit: { headers: { authorization: `Bearer ${tokens.access_token}`, ...extraHeaders } },
    }),
  );
  const result = await client.callTool({ name: 'whoami', arguments: {} });
  await client.close();
  return (result.content as [{ text: string }])[0].text;
}

describe('signedIdentity: the upstream verifies who calls', () => {
  const stops: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const stop of stops) await stop();
  });

  describe('ES256, verified with the gateway JWKS', () => {
    let gateway: LiveServer;
    let upstream: Upstream;
    beforeAll(async () => {
      let remote: JWTVerifyGetKey | undefined;
      upstream = await startUpstream(() => {
        remote ??= createRemoteJWKSet(new URL(`${gateway.issuer}/.well-known/jwks.json`));
        return { key: remote, issuer: gateway.issuer };
      });
      gateway = await startGateway(() => upstream, 'jwks');
      stops.push(
        () => gateway.close(),
        () => upstream.close(),
      );
    });

    it('gets an assertion of the verified caller, and ignores the copy the client sent', async () => {
      const forged = await new SignJWT({ sub: 'mallory' })
        .setProtectedHeader({ alg: 'HS256' })
        .sign(new TextEncoder().encode(HMAC_SECRET));
      expect(await callWhoami(gateway, { [HEADER]: forged })).toBe('pin-holder');
      const payload = upstream.verified.at(-1)!;
      expect(payload).toMatchObject({
        iss: gateway.issuer,
        aud: `${upstream.url}/mcp`,
        sub: 'pin-holder',
        email: 'owner@example.com',
        scope: 'mcp',
        resource: `${gateway.issuer}/mcp`,
      });
      expect(payload.exp! - payload.iat!).toBeLessThan(60);
      expect(typeof payload.client_id).toBe('string');
    });

    it('refuses forged assertions sent to it directly', async () => {
      const other = await generateKeyPair('ES256');
      const claims = { sub: 'mallory', iss: gateway.issuer, aud: `${upstream.url}/mcp` };
      const now = Math.floor(Date.now() / 1000);
      const forgeries = [
        // Signed with a key the gateway never published.
        await new SignJWT(claims)
          .setProtectedHeader({ alg: 'ES256', kid: 'made-up' })
          .setIssuedAt()
          .setExpirationTime('30s')
          .setJti('x')
          .sign(other.privateKey),
        // An HMAC over the public JWKS (algorithm confusion).
        await new SignJWT(claims)
          .setProtectedHeader({ alg: 'HS256' })
          .setIssuedAt()
          .setExpirationTime('30s')
          .setJti('y')
          .sign(new TextEncoder().encode('not-the-key-not-the-key-not-the-key-00')),
        // Unsigned.
        `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({ ...claims, iat: now, exp: now + 30, jti: 'z' })).toString('base64url')}.`,
      ];
      for (const forged of forgeries) {
        const response = await fetch(`${upstream.url}/mcp`, {
          method: 'POST',
          headers: {
            [HEADER]: forged,
            'content-type': 'application/json',
            accept: 'application/json, text/event-stream',
          },
          body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
        });
        expect(response.status).toBe(401);
      }
      expect(upstream.verified.every((p) => p.sub !== 'mallory')).toBe(true);
    });
  });

  describe('HS256, verified with a shared secret', () => {
    let gateway: LiveServer;
    let upstream: Upstream;
    beforeAll(async () => {
      upstream = await startUpstream(() => ({
        key: new TextEncoder().encode(HMAC_SECRET),
        issuer: gateway.issuer,
      }));
      gateway = await startGateway(() => upstream, 'hs256');
      stops.push(
        () => gateway.close(),
        () => upstream.close(),
      );
    });

    it('verifies the gateway assertion and refuses one made with another secret or for another audience', async () => {
      expect(await callWhoami(gateway)).toBe('pin-holder');
      expect(upstream.verified.at(-1)).toMatchObject({ sub: 'pin-holder', aud: `${upstream.url}/mcp` });
      const sign = (secret: string, aud: string) =>
        new SignJWT({ sub: 'mallory' })
          .setProtectedHeader({ alg: 'HS256' })
          .setIssuer(gateway.issuer)
          .setAudience(aud)
          .setIssuedAt()
          .setExpirationTime('30s')
          .setJti('j')
          .sign(new TextEncoder().encode(secret));
      for (const forged of [
        await sign('another-secret-another-secret-another-1', `${upstream.url}/mcp`),
        await sign(HMAC_SECRET, 'https://some-other-upstream.example/mcp'),
      ]) {
        const response = await fetch(`${upstream.url}/mcp`, {
          method: 'POST',
          headers: { [HEADER]: forged, 'content-type': 'application/json' },
          body: '{}',
        });
        expect(response.status).toBe(401);
      }
      // No JWKS is published in HMAC mode (nothing is signed with the gateway's keys).
      expect((await fetch(`${gateway.issuer}/.well-known/jwks.json`)).status).not.toBe(200);
    });

    it('refuses a weak shared secret at configuration time', () => {
      expect(() =>
        signedIdentity({
          issuer: 'https://gw.example',
          audience: 'https://up.example',
          signing: { hmacSecret: 'short' },
        }),
      ).toThrow(/at least 32 bytes/);
    });
  });
});
