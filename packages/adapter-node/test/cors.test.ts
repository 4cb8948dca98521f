import { portcullisHandler } from '@portcullis/adapter-node';
import { createAuthorizationServer, MemoryStorage } from '@portcullis/core';
import { pinUpstream } from '@portcullis/core/upstreams';
import { describe, expect, it } from 'vitest';

const issuer = 'http://127.0.0.1:8787';
const as = createAuthorizationServer({
  issuer,
  storage: new MemoryStorage(),
  upstream: pinUpstream({ pin: '123456' }),
  secret: 'cors-test-secret-cors-test-secret-0123',
});
const handler = portcullisHandler(as, {
  mcp: async (request) => {
    const auth = await as.authenticate(request);
    return auth.ok ? new Response('{}') : auth.response;
  },
});

describe('CORS on the protected MCP route', () => {
  it('answers preflights for browser-based MCP clients', async () => {
    const response = await handler(new Request(`${issuer}/mcp`, { method: 'OPTIONS' }));
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    expect(response.headers.get('access-control-allow-headers')).toContain('Mcp-Session-Id');
    expect(response.headers.get('access-control-allow-methods')).toContain('DELETE');
  });

  it('exposes WWW-Authenticate on the 401 so the client can find the metadata', async () => {
    const response = await handler(new Request(`${issuer}/mcp`, { method: 'POST' }));
    expect(response.status).toBe(401);
    expect(response.headers.get('access-control-expose-headers')).toContain('WWW-Authenticate');
    expect(response.headers.get('www-authenticate')).toContain('resource_metadata=');
  });

  it('leaves other paths alone', async () => {
    const response = await handler(new Request(`${issuer}/elsewhere`, { method: 'OPTIONS' }));
    expect(response.status).toBe(404);
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
  });
});
