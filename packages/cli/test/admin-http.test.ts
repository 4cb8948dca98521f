/**
 * The management API over HTTP (ADMIN_PORT): off by default, on its own listener, every request
 * authenticated with ADMIN_TOKEN; revocations through it take effect at once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { obtainTokens, send } from '../../../test/support/gateway-client.js';
import { type Gateway, parseConfig, startGateway } from '../src/index.js';

const PIN = '8080808080';
const TOKEN = 'admin-api-token-0123456789-abcdefghijklmnop';
let gateway: Gateway;
let admin: string;

beforeAll(async () => {
  gateway = await startGateway(
    parseConfig({
      port: 0,
      storageUrl: 'memory:',
      secret: 'admin-http-suite-secret-0123456789-abcdefgh',
      pin: PIN,
      adminPort: 0,
      adminToken: TOKEN,
      cleanupInterval: 0,
    }),
  );
  admin = `http://127.0.0.1:${gateway.adminPort}`;
});
afterAll(() => gateway?.close());

const call = (path: string, init: { method?: string; body?: unknown; token?: string } = {}) =>
  send(`${admin}${path}`, {
    method: init.method ?? 'GET',
    headers: {
      ...(init.token === undefined ? {} : { authorization: `Bearer ${init.token}` }),
      'content-type': 'application/json',
    },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });

describe('the admin HTTP listener', () => {
  it('is off unless ADMIN_PORT is set, and needs ADMIN_TOKEN with it', () => {
    expect(parseConfig({}).adminPort).toBeUndefined();
    expect(() => parseConfig({ adminPort: 9000 })).toThrow(
      /ADMIN_TOKEN \(adminToken\) is required with ADMIN_PORT/,
    );
  });

  it('refuses requests without the admin token (RFC 6750 §3.1)', async () => {
    const missing = await call('/grants');
    expect(missing.status).toBe(401);
    expect(missing.headers['www-authenticate']).toBe('Bearer');
    const wrong = await call('/grants', { token: `${TOKEN}x` });
    expect(wrong.status).toBe(401);
    expect(wrong.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
  });

  it('lists, revokes a user at once, and answers bad requests with 400 and unknown paths with 404', async () => {
    const tokens = await obtainTokens(gateway.issuer, PIN);
    const mcp = () =>
      send(`${gateway.issuer}/mcp`, { headers: { authorization: `Bearer ${tokens.accessToken}` } });
    expect((await mcp()).status).not.toBe(401);
    const clients = JSON.parse((await call('/clients', { token: TOKEN })).body) as { clientId: string }[];
    expect(clients.map((c) => c.clientId)).toContain(tokens.clientId);
    const grants = JSON.parse((await call(`/grants?client=${tokens.clientId}`, { token: TOKEN })).body);
    expect(grants).toHaveLength(1);
    const revoked = await call('/revoke-user', { method: 'POST', token: TOKEN, body: { userId: 'owner' } });
    expect(JSON.parse(revoked.body)).toEqual({ revoked: 1 });
    expect((await mcp()).status).toBe(401);
    expect((await call('/revoke-user', { method: 'POST', token: TOKEN, body: {} })).status).toBe(400);
    expect((await call('/nothing', { token: TOKEN })).status).toBe(404);
    const config = await call('/config', { token: TOKEN });
    expect(config.status).toBe(200);
    expect(config.body).not.toContain(TOKEN);
    expect(config.body).not.toContain(PIN);
  });
});
