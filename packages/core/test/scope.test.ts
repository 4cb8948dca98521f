/**
 * Scopes as real clients send them (RFC 6749 §3.3, §6; OIDC Core §11 offline_access; MCP 2026-07-28
 * refresh-token guidance, SEP-2207): at /authorize, at a refresh, and at registration.
 */
import { describe, expect, it } from 'vitest';
import type { AuthorizationServerOptions } from '../src/index.js';
import { grantScopes, parseScope, refreshScopes } from '../src/rules/scope.js';
import { authorizeUrl, Browser, issueTokens, makeServer, registerClient, tokenRequest } from './helpers.js';

type Scopes = AuthorizationServerOptions['scopes'];
const THREE: Scopes = { supported: ['mcp', 'read', 'write'], default: ['mcp'] };

/** Registers a client and runs a flow with `scope` as the client sends it (`undefined`: absent). */
async function grantedFor(
  scope: string | undefined,
  scopes: Scopes = THREE,
  client: Record<string, unknown> = {},
) {
  const { server } = makeServer({ scopes });
  const { body } = await registerClient(server.fetch, client);
  const tokens = await issueTokens(server.fetch, body.client_id!, { scope });
  return tokens.scope;
}

describe('authorization request scopes (tolerant by default)', () => {
  it.each([
    ['absent', 'mcp', undefined],
    ['empty (ChatGPT: scope=)', 'mcp', ''],
    ['only spaces', 'mcp', '   '],
    ['offline_access with a leading space (Claude.ai: scope=+offline_access)', 'mcp', ' offline_access'],
    ['offline_access beside a scope', 'read', 'read offline_access'],
    ['an unknown scope beside known ones', 'read write', 'read admin write'],
    ['only unknown scopes (mcp-remote fallback)', 'mcp', 'openid email profile'],
    ['duplicates and extra spaces', 'read write', ' read  read write '],
  ])('%s → %s', async (_name, granted, scope) => {
    expect(await grantedFor(scope)).toBe(granted);
  });

  it('grants only what the client registered, and what the resource accepts', async () => {
    expect(await grantedFor('read write', THREE, { scope: 'mcp read' })).toBe('read');
    expect(await grantedFor('write', THREE, { scope: 'mcp read' })).toBe('mcp');
    const resourceScopes: Scopes = { supported: ['mcp', 'read', 'write'], default: ['read'] };
    const { server } = makeServer({
      scopes: resourceScopes,
      resources: [{ path: '/mcp', scopes: ['read'] }],
    });
    const { body } = await registerClient(server.fetch);
    expect((await issueTokens(server.fetch, body.client_id!, { scope: 'read write' })).scope).toBe('read');
  });

  it('refuses when not even a default scope can be granted', async () => {
    const { server } = makeServer({ scopes: THREE });
    const { body } = await registerClient(server.fetch, { scope: 'write' });
    const response = await new Browser(server.fetch).fetch(
      await authorizeUrl(body.client_id!, { scope: 'admin' }),
    );
    expect(response.status).toBe(302);
    expect(new URL(response.headers.get('location')!).searchParams.get('error')).toBe('invalid_scope');
  });
});

describe('authorization request scopes in strict mode', () => {
  const STRICT: Scopes = { ...THREE, strict: true };

  it.each([
    ['absent', 'mcp', undefined],
    ['empty', 'mcp', ''],
    ['offline_access with a leading space', 'mcp', ' offline_access'],
    ['offline_access beside a scope', 'write', 'write offline_access'],
  ])('%s is still accepted → %s', async (_name, granted, scope) => {
    expect(await grantedFor(scope, STRICT)).toBe(granted);
  });

  it.each([
    ['an unknown scope', 'read admin'],
    ['only unknown scopes', 'openid email profile'],
  ])('%s is refused with invalid_scope', async (_name, scope) => {
    const { server } = makeServer({ scopes: STRICT });
    const { body } = await registerClient(server.fetch);
    const response = await new Browser(server.fetch).fetch(await authorizeUrl(body.client_id!, { scope }));
    expect(response.status).toBe(302);
    const query = new URL(response.headers.get('location')!).searchParams;
    expect(query.get('error')).toBe('invalid_scope');
    expect(query.get('error_description')).toContain(scope.split(' ').at(-1));
  });
});

describe('offline_access and refresh tokens', () => {
  it('issues a refresh token to a client that registered the grant, asked or not', async () => {
    const { server } = makeServer();
    const { body } = await registerClient(server.fetch);
    expect((await issueTokens(server.fetch, body.client_id!)).refresh_token).toMatch(/^pcrt_/);
    expect(
      (await issueTokens(server.fetch, body.client_id!, { scope: 'offline_access' })).refresh_token,
    ).toMatch(/^pcrt_/);
  });

  it('issues none to a client that did not register the refresh_token grant, even when it asks', async () => {
    const { server } = makeServer();
    const { body } = await registerClient(server.fetch, { grant_types: ['authorization_code'] });
    const tokens = await issueTokens(server.fetch, body.client_id!, { scope: 'mcp offline_access' });
    expect(tokens.refresh_token).toBeUndefined();
    expect(tokens.scope).toBe('mcp');
  });

  it('never stores offline_access as a granted scope, even when configured as one', async () => {
    const { server } = makeServer({ scopes: { supported: ['mcp', 'offline_access'], default: ['mcp'] } });
    const { body } = await registerClient(server.fetch);
    const tokens = await issueTokens(server.fetch, body.client_id!, { scope: 'mcp offline_access' });
    expect(tokens.scope).toBe('mcp');
  });
});

describe('refresh request scopes (RFC 6749 §6)', () => {
  async function refreshWith(scope: string, strict = false) {
    const { server } = makeServer({ scopes: { ...THREE, strict } });
    const { body: client } = await registerClient(server.fetch);
    const first = await issueTokens(server.fetch, client.client_id!, { scope: 'mcp read' });
    return tokenRequest(server.fetch, {
      grant_type: 'refresh_token',
      refresh_token: first.refresh_token,
      client_id: client.client_id!,
      scope,
    });
  }

  it.each([
    ['empty', 'mcp read', ''],
    [
      'offline_access only (MCP 2026-07-28: clients may add it to token requests)',
      'mcp read',
      'offline_access',
    ],
    ['narrower, with offline_access', 'read', 'read offline_access'],
    ['narrower, with an unknown scope', 'read', 'read openid'],
  ])('%s → %s', async (_name, granted, scope) => {
    const response = await refreshWith(scope);
    expect(response.status).toBe(200);
    expect((await response.json()).scope).toBe(granted);
  });

  it.each([
    ['a supported scope the grant lacks (widening)', 'read write', false],
    ['a supported scope the grant lacks, strict', 'read write', true],
    ['an unknown scope, strict', 'read openid', true],
  ])('refuses %s with invalid_scope', async (_name, scope, strict) => {
    const response = await refreshWith(scope, strict);
    expect(response.status).toBe(400);
    expect((await response.json()).error).toBe('invalid_scope');
  });
});

describe('registered scopes (RFC 7591 §2, replaced by the known subset §3.2.1)', () => {
  it.each([
    ['mcp read admin', 'mcp read'],
    ['read:data', undefined],
    ['offline_access read', 'read'],
    ['', undefined],
  ])('%j registers %j', async (scope, registered) => {
    const { server } = makeServer({ scopes: THREE });
    const { response, body } = await registerClient(server.fetch, { scope });
    expect(response.status).toBe(201);
    expect(body.scope).toBe(registered);
  });
});

describe('scope rules', () => {
  it('parses an empty or blank scope as absent', () => {
    expect(parseScope(undefined)).toBeUndefined();
    expect(parseScope('')).toBeUndefined();
    expect(parseScope('  ')).toBeUndefined();
    expect(parseScope(' a  b a')).toEqual(['a', 'b']);
  });

  it('grants defaults, subsets or refuses', () => {
    const policy = { grantable: (s: string) => ['a', 'b'].includes(s), defaults: ['a'], strict: false };
    expect(grantScopes(undefined, policy)).toEqual({ ok: true, scopes: ['a'] });
    expect(grantScopes(['offline_access'], policy)).toEqual({ ok: true, scopes: ['a'] });
    expect(grantScopes(['b', 'x'], policy)).toEqual({ ok: true, scopes: ['b'] });
    expect(grantScopes(['x'], policy)).toEqual({ ok: true, scopes: ['a'] });
    expect(grantScopes(['b', 'x'], { ...policy, strict: true })).toEqual({ ok: false, refused: ['x'] });
    expect(grantScopes(['x'], { ...policy, defaults: [] })).toEqual({ ok: false, refused: ['x'] });
  });

  it('narrows refreshes, never widens', () => {
    const grant = { granted: ['a', 'b'], current: ['b'] };
    const support = { supported: ['a', 'b', 'c'], strict: false };
    expect(refreshScopes(undefined, grant, support)).toEqual({ ok: true, scopes: ['b'] });
    expect(refreshScopes(['a', 'zz'], grant, support)).toEqual({ ok: true, scopes: ['a'] });
    expect(refreshScopes(['a', 'c'], grant, support)).toEqual({ ok: false, refused: ['c'] });
    expect(refreshScopes(['zz'], grant, { ...support, strict: true })).toEqual({
      ok: false,
      refused: ['zz'],
    });
  });
});
