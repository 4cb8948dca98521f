import { redirectUriAllowList } from '@portcullis/core';
import { describe, expect, it } from 'vitest';
import { ISSUER, issueTokens, makeServer } from './helpers.js';

const TOKEN = 'initial-access-token-0123456789-abcdef';

function register(
  fetcher: (r: Request) => Promise<Response>,
  redirectUris: string[],
  headers: Record<string, string> = {},
) {
  return fetcher(
    new Request(`${ISSUER}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ redirect_uris: redirectUris, token_endpoint_auth_method: 'none' }),
    }),
  );
}

describe('registration policy', () => {
  it('RFC 7591 §3: requires an initial access token when configured (401 invalid_token otherwise)', async () => {
    const { server, events } = makeServer({ registration: { initialAccessTokens: [TOKEN] } });
    const uris = ['https://client.example.com/callback'];
    const missing = await register(server.fetch, uris);
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer');
    expect((await missing.json()).error).toBe('invalid_token');
    const wrong = await register(server.fetch, uris, { authorization: `Bearer ${TOKEN}x` });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
    const ok = await register(server.fetch, uris, { authorization: `Bearer ${TOKEN}` });
    expect(ok.status).toBe(201);
    const client = await ok.json();
    await issueTokens(server.fetch, client.client_id);
    expect(events.filter((e) => e.type === 'registration_refused')).toHaveLength(2);
    expect(JSON.stringify(events)).not.toContain(TOKEN);
  });

  it('refuses initial access tokens shorter than 32 characters at configuration', () => {
    expect(() => makeServer({ registration: { initialAccessTokens: ['short'] } })).toThrow(/32 characters/);
  });

  it('admits only redirect URIs on the allow-list (RFC 7591 §3.2.2 invalid_redirect_uri)', async () => {
    const policy = redirectUriAllowList({
      schemes: ['https', 'http', 'vscode'],
      hosts: ['claude.ai', '.example.com', '127.0.0.1'],
    });
    const { server } = makeServer({ registration: { policy } });
    for (const ok of [
      ['https://claude.ai/api/mcp/auth_callback'],
      ['https://client.example.com/callback', 'http://127.0.0.1:3334/cb'],
      ['vscode://vscode.mcp/callback'],
    ]) {
      expect((await register(server.fetch, ok)).status).toBe(201);
    }
    for (const refused of [
      ['https://evil.test/cb'],
      ['https://client.example.com/callback', 'https://example.com.evil.test/cb'],
      ['cursor://anysphere.cursor-mcp/oauth/callback'],
      ['http://localhost:3334/cb'],
    ]) {
      const response = await register(server.fetch, refused);
      expect(response.status).toBe(400);
      expect((await response.json()).error).toBe('invalid_redirect_uri');
    }
  });

  it('a custom policy can refuse with invalid_client_metadata', async () => {
    const { server } = makeServer({
      registration: {
        policy: ({ clientName }) =>
          clientName === 'Trusted'
            ? true
            : { error: 'invalid_client_metadata', description: 'Only trusted clients may register' },
      },
    });
    const response = await register(server.fetch, ['https://client.example.com/callback']);
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      error: 'invalid_client_metadata',
      error_description: 'Only trusted clients may register',
    });
  });
});

describe('storage observer', () => {
  it('sees every storage call with its operation, kind and duration', async () => {
    const calls: { operation: string; kind: string; durationMs: number; ok: boolean }[] = [];
    const { server } = makeServer({ onStorageCall: (call) => void calls.push(call) });
    const response = await register(server.fetch, ['https://client.example.com/callback']);
    expect(response.status).toBe(201);
    expect(calls.some((c) => c.operation === 'put' && c.kind === 'client' && c.ok)).toBe(true);
    expect(calls.every((c) => c.durationMs >= 0)).toBe(true);
  });
});
