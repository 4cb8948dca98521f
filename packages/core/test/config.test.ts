import { ConfigurationError, createAuthorizationServer, MemoryStorage, type Storage } from '@portcullis/core';
import { pinUpstream, refreshableUpstreamTokens } from '@portcullis/core/upstreams';
import { describe, expect, it } from 'vitest';
import { SECRET } from './helpers.js';

const base = () => ({
  issuer: 'https://as.example.com',
  storage: new MemoryStorage(),
  upstream: pinUpstream({ pin: '123456' }),
  secret: SECRET,
});

describe('options validation', () => {
  it.each([
    [{ issuer: 'not a url' }, 'issuer: must be an absolute URL'],
    [{ issuer: 'http://as.example.com' }, 'issuer: must use https'],
    [{ issuer: 'https://as.example.com?x=1' }, 'issuer: must not have a query'],
    [{ secret: 'short' }, 'secret: every secret must be at least 32 characters'],
    [{ secret: undefined }, 'secret: required: a string of at least 32 characters'],
    [{ storage: {} }, 'storage: must implement the Storage interface'],
    [{ upstream: null }, 'upstream: must implement the IdentityUpstream interface'],
    [{ lifetimes: { authorizationCode: 3600 } }, 'lifetimes.authorizationCode: must be at most 600'],
    [{ tokenCache: { ttlSeconds: 6 } }, 'tokenCache.ttlSeconds: must be at most 5'],
    [{ tokenCache: { maxEntries: 0 } }, 'tokenCache.maxEntries: must be greater than 0'],
    [{ storageTimeoutMs: 1.5 }, 'storageTimeoutMs: must be an integer'],
    [{ rememberConsent: 'yes' }, 'rememberConsent: must be true or false'],
    [{ allowNonAtomicStorage: 'yes' }, 'allowNonAtomicStorage: must be "single-instance"'],
    [{ onEvent: 'log' }, 'onEvent: must be a function'],
    [
      { resources: [{ path: '/mcp', resource: 'not a url' }] },
      'resources.0.resource: must be an absolute URL',
    ],
    [{ resources: [] }, 'resources: must have at least 1 items'],
    [{ resources: [{ path: 'mcp' }] }, 'resources.0.path'],
    [{ scopes: { supported: ['a b'] } }, 'scopes.supported.0'],
    [{ scopes: { supported: ['mcp'], default: ['admin'] } }, 'scopes.default: not supported: admin'],
    [
      { resources: [{ path: '/mcp', scopes: ['read'], advertisedScopes: ['read', 'write'] }] },
      'resources.0.advertisedScopes: not in its scopes: write',
    ],
    [
      { lifetimes: { refreshToken: 86_400 * 60 }, registration: { unusedClientLifetime: 86_400 * 30 } },
      'registration.unusedClientLifetime: must be 0 or at least lifetimes.refreshToken',
    ],
  ])('refuses %j with a clear message', (override, message) => {
    expect(() => createAuthorizationServer({ ...base(), ...(override as object) })).toThrow(
      ConfigurationError,
    );
    expect(() => createAuthorizationServer({ ...base(), ...(override as object) })).toThrow(message);
  });

  it('lists every problem at once', () => {
    try {
      createAuthorizationServer({ ...base(), issuer: 'ftp://x', secret: 'short' });
      expect.unreachable();
    } catch (error) {
      expect(String(error)).toContain('issuer');
      expect(String(error)).toContain('secret');
    }
  });

  it('accepts http on loopback and strips a trailing slash from the issuer', () => {
    expect(createAuthorizationServer({ ...base(), issuer: 'http://127.0.0.1:8787/' }).issuer).toBe(
      'http://127.0.0.1:8787',
    );
    expect(createAuthorizationServer({ ...base(), issuer: 'http://localhost:3000' }).issuer).toBe(
      'http://localhost:3000',
    );
  });

  it('refuses a non-atomic storage unless single-instance is named explicitly', () => {
    const memory = new MemoryStorage();
    const eventual: Storage = {
      capabilities: { atomic: false },
      get: (k, key) => memory.get(k, key),
      put: (k, key, v, e) => memory.put(k, key, v, e),
      delete: (k, key) => memory.delete(k, key),
      consume: (k, key, n) => memory.consume(k, key, n),
      increment: (k, key, e) => memory.increment(k, key, e),
    };
    expect(() => createAuthorizationServer({ ...base(), storage: eventual })).toThrow(
      /cannot consume codes and refresh tokens atomically/,
    );
    expect(() =>
      createAuthorizationServer({ ...base(), storage: eventual, allowNonAtomicStorage: 'single-instance' }),
    ).not.toThrow();
  });

  it('refuses an upstream still relying on the removed refresh and revoke methods', () => {
    const revoke = async () => {};
    const legacy = { ...pinUpstream({ pin: '123456' }), revokeUpstreamToken: revoke };
    expect(() => createAuthorizationServer({ ...base(), upstream: legacy })).toThrow(
      /revokeUpstreamToken are no longer read; set upstreamTokens: refreshableUpstreamTokens/,
    );
    const moved = { ...legacy, upstreamTokens: refreshableUpstreamTokens({ revoke }) };
    expect(() => createAuthorizationServer({ ...base(), upstream: moved })).not.toThrow();
  });
});
