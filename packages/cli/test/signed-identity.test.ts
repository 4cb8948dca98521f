/** The `portcullis` gateway's IDENTITY_ASSERTION option set: a signed JWT of the caller for the upstream. */
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { codeFlow } from '../../core/test/extensions/flow.js';
import { serveFetch } from '../../core/test/mcp/node-bridge.js';
import { ConfigError, parseConfig, startGateway } from '../src/index.js';

describe('gateway CLI: IDENTITY_ASSERTION', () => {
  it('with jwks, sends an ES256 assertion the upstream verifies from the gateway JWKS', async () => {
    const seen: Headers[] = [];
    const upstream = await serveFetch(async (request) => {
      seen.push(new Headers(request.headers));
      return Response.json({ jsonrpc: '2.0', id: 1, result: {} });
    });
    const gateway = await startGateway(
      parseConfig({
        port: 0,
        storageUrl: 'memory:',
        pin: '55667788',
        upstreamMcpUrl: `${upstream.url}/mcp`,
        identityAssertion: 'jwks',
        identityAssertionHeader: 'X-Caller-Assertion',
        userHeader: '',
        logEvents: false,
      }),
    );
    try {
      const metadata = await (await fetch(`${gateway.issuer}/.well-known/oauth-authorization-server`)).json();
      expect(metadata.jwks_uri).toBe(`${gateway.issuer}/.well-known/jwks.json`);
      const { tokens } = await codeFlow({
        issuer: gateway.issuer,
        pin: '55667788',
        resource: gateway.mcpUrl,
      });
      const response = await fetch(gateway.mcpUrl, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${tokens.access_token}`,
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'x-caller-assertion': 'forged-by-the-client',
        },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
      });
      expect(response.status).toBe(200);
      const assertion = seen.at(-1)?.get('x-caller-assertion');
      expect(assertion).toBeTruthy();
      expect(assertion).not.toBe('forged-by-the-client');
      const { payload, protectedHeader } = await jwtVerify(
        assertion!,
        createRemoteJWKSet(new URL(metadata.jwks_uri)),
        { issuer: gateway.issuer, audience: `${upstream.url}/mcp`, maxTokenAge: 60 },
      );
      expect(protectedHeader.alg).toBe('ES256');
      expect(payload.sub).toBe('owner');
      expect(payload.exp! - payload.iat!).toBeLessThan(60);
    } finally {
      await gateway.close();
      await upstream.close();
    }
  });

  it('refuses hs256 without a strong secret, and an assertion without an upstream', () => {
    let message = '';
    try {
      parseConfig({ identityAssertion: 'hs256', identityAssertionSecret: 'short-secret' });
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      message = (error as Error).message;
    }
    expect(message).toContain(
      'IDENTITY_ASSERTION_SECRET (identityAssertionSecret) must be at least 32 characters',
    );
    expect(message).toContain('IDENTITY_ASSERTION (identityAssertion) needs UPSTREAM_MCP_URL');
    expect(message).not.toContain('short-secret');
  });
});
