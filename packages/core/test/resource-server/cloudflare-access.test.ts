import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cloudflareAccessVerifier, createResourceServer } from '../../src/resource-server/index.js';
import { type LocalIssuer, startIssuer } from './helpers.js';

const RESOURCE = 'https://mcp.example.test/mcp';
const AUD = 'managed-oauth-app-aud';

// ADR 011: Cloudflare Access Managed OAuth is the authorization server and validates the bearer token at
// the edge; the origin verifies the Access assertion Cloudflare adds and reads the user from it.
describe('resource server behind Cloudflare Access Managed OAuth', () => {
  let keys: LocalIssuer;
  beforeAll(async () => {
    keys = await startIssuer('/cdn-cgi/access/certs', 'RS256');
  });
  afterAll(() => keys.close());

  const rs = () =>
    createResourceServer({
      resource: RESOURCE,
      authorizationServers: ['https://mcp.example.test'],
      verify: cloudflareAccessVerifier({
        teamDomain: 'team',
        audience: AUD,
        jwksUrl: keys.jwksUrl,
        scopes: ['mcp'],
      }),
    });
  const sign = (claims: Record<string, unknown> = {}) =>
    keys.sign(
      {
        iss: 'https://team.cloudflareaccess.com',
        aud: [AUD],
        sub: 'u-1',
        email: 'alice@corp.test',
        ...claims,
      },
      { typ: 'JWT' },
    );

  it('reads the user from the verified assertion, not from the email header', async () => {
    const result = await rs().authenticate(
      new Request(RESOURCE, {
        headers: {
          'cf-access-jwt-assertion': await sign(),
          'cf-access-authenticated-user-email': 'ceo@corp.test',
        },
      }),
    );
    expect(result.ok).toBe(true);
    if (result.ok)
      expect(result.info).toMatchObject({ userId: 'u-1', email: 'alice@corp.test', scopes: ['mcp'] });
  });

  it('refuses the bare email header, another application and another team', async () => {
    const server = rs();
    const bare = await server.authenticate(
      new Request(RESOURCE, { headers: { 'cf-access-authenticated-user-email': 'ceo@corp.test' } }),
    );
    expect(bare.ok).toBe(false);
    if (!bare.ok) expect(bare.response.status).toBe(401);
    for (const claims of [{ aud: ['other-app'] }, { iss: 'https://evil.cloudflareaccess.com' }]) {
      const result = await server.authenticate(
        new Request(RESOURCE, { headers: { 'cf-access-jwt-assertion': await sign(claims) } }),
      );
      expect(result.ok).toBe(false);
      if (!result.ok)
        expect(result.response.headers.get('www-authenticate')).toContain('error="invalid_token"');
    }
  });
});
