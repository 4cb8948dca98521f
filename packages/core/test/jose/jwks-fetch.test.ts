import { afterEach, describe, expect, it } from 'vitest';
import { createJwksFetcher } from '../../src/jose/jwks-fetch.js';
import { httpServer, keyPair, manualClock, refused, routedFetch } from './helpers.js';

const JWKS_URI = 'https://keys.client.example/jwks.json';
const servers: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** A key host: a real local HTTP server answering per path, counting hits. */
async function keyHost(routes: Record<string, (res: import('node:http').ServerResponse) => void>) {
  const hits: Record<string, number> = {};
  const server = await httpServer((req, res) => {
    const path = req.url ?? '/';
    hits[path] = (hits[path] ?? 0) + 1;
    const route = routes[path];
    if (route) route(res);
    else res.writeHead(404).end();
  });
  servers.push(server);
  return { hits, ...routedFetch(server.origin) };
}

const json = (body: unknown) => (res: import('node:http').ServerResponse) => {
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
};

describe('createJwksFetcher', () => {
  it('fetches a public key set once and serves it from the cache, with no redirects followed', async () => {
    const { publicJwk } = await keyPair('ES256');
    const host = await keyHost({ '/jwks.json': json({ keys: [publicJwk] }) });
    const fetchJwks = createJwksFetcher({ fetch: host.fetch });
    const [a, b] = await Promise.all([fetchJwks(JWKS_URI), fetchJwks(JWKS_URI)]);
    expect(a.keys[0]!.kid).toBe(publicJwk.kid);
    expect(b).toBe(a);
    expect(await fetchJwks(JWKS_URI)).toBe(a);
    expect(host.hits['/jwks.json']).toBe(1);
  });

  it('refetches on request after the cooldown only, and expires the cache', async () => {
    const clock = manualClock();
    const first = await keyPair('ES256', 'k1');
    const second = await keyPair('ES256', 'k2');
    let current = [first.publicJwk];
    const host = await keyHost({ '/jwks.json': (res) => json({ keys: current })(res) });
    const fetchJwks = createJwksFetcher({
      fetch: host.fetch,
      now: clock.now,
      cooldownSeconds: 30,
      cacheSeconds: 300,
    });
    await fetchJwks(JWKS_URI);
    current = [first.publicJwk, second.publicJwk];
    // Within the cooldown a refresh is answered from the cache (rate limit).
    expect((await fetchJwks(JWKS_URI, { refresh: true })).keys).toHaveLength(1);
    expect(host.hits['/jwks.json']).toBe(1);
    clock.advance(31_000);
    expect((await fetchJwks(JWKS_URI, { refresh: true })).keys).toHaveLength(2);
    expect(host.hits['/jwks.json']).toBe(2);
    // Without refresh, the set is used until cacheSeconds.
    current = [second.publicJwk];
    clock.advance(200_000);
    expect((await fetchJwks(JWKS_URI)).keys).toHaveLength(2);
    clock.advance(100_000);
    expect((await fetchJwks(JWKS_URI)).keys).toHaveLength(1);
    expect(host.hits['/jwks.json']).toBe(3);
  });

  it.each([
    ['loopback IPv4', 'https://127.0.0.1/jwks.json'],
    ['a private range', 'https://10.1.2.3/jwks.json'],
    ['link-local metadata', 'https://169.254.169.254/latest/meta-data'],
    ['localhost', 'https://localhost/jwks.json'],
    ['an IPv6 literal', 'https://[::1]/jwks.json'],
    ['an internal name', 'https://keys.internal/jwks.json'],
    ['plain http', 'http://keys.client.example/jwks.json'],
    ['user information', 'https://user@keys.client.example/jwks.json'],
    ['a decimal IPv4 host', 'https://2130706433/jwks.json'],
  ])('refuses a jwks_uri at %s without fetching it', async (_name, url) => {
    const host = await keyHost({});
    const fetchJwks = createJwksFetcher({ fetch: host.fetch });
    await refused(fetchJwks(url), 'invalid_client', /jwks_uri/);
    expect(host.calls).toHaveLength(0);
  });

  it('does not follow a redirect', async () => {
    const { publicJwk } = await keyPair('ES256');
    const host = await keyHost({
      '/jwks.json': (res) => res.writeHead(302, { location: '/elsewhere.json' }).end(),
      '/elsewhere.json': json({ keys: [publicJwk] }),
    });
    await refused(createJwksFetcher({ fetch: host.fetch })(JWKS_URI), 'invalid_client', /HTTP 302/);
    expect(host.hits['/elsewhere.json']).toBeUndefined();
  });

  it('refuses a set larger than the cap, declared or streamed', async () => {
    const { publicJwk } = await keyPair('RS256');
    const big = JSON.stringify({
      keys: Array.from({ length: 30 }, (_, i) => ({ ...publicJwk, kid: `k${i}` })),
    });
    const host = await keyHost({
      '/declared.json': (res) => res.writeHead(200, { 'content-length': String(big.length) }).end(big),
      '/streamed.json': (res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        for (let i = 0; i < big.length; i += 1000) res.write(big.slice(i, i + 1000));
        res.end();
      },
    });
    const fetchJwks = createJwksFetcher({ fetch: host.fetch, maxBytes: 8 * 1024 });
    await refused(
      fetchJwks('https://keys.client.example/declared.json'),
      'invalid_client',
      /larger than 8192/,
    );
    await refused(
      fetchJwks('https://keys.client.example/streamed.json'),
      'invalid_client',
      /larger than 8192/,
    );
  });

  it('times out a host that is slow to answer or slow to send the body', async () => {
    const host = await keyHost({
      '/silent.json': () => {},
      '/trickle.json': (res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"keys":[');
      },
    });
    const fetchJwks = createJwksFetcher({ fetch: host.fetch, timeoutMs: 300 });
    const started = Date.now();
    await refused(
      fetchJwks('https://keys.client.example/silent.json'),
      'invalid_client',
      /could not be fetched/,
    );
    await refused(
      fetchJwks('https://keys.client.example/trickle.json'),
      'invalid_client',
      /could not be read/,
    );
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('remembers a failure for the cooldown, so a broken host costs one fetch', async () => {
    const clock = manualClock();
    const host = await keyHost({ '/jwks.json': (res) => res.writeHead(500).end() });
    const fetchJwks = createJwksFetcher({ fetch: host.fetch, now: clock.now, cooldownSeconds: 30 });
    await refused(fetchJwks(JWKS_URI), 'invalid_client', /HTTP 500/);
    await refused(fetchJwks(JWKS_URI), 'invalid_client', /HTTP 500/);
    expect(host.hits['/jwks.json']).toBe(1);
    clock.advance(31_000);
    await refused(fetchJwks(JWKS_URI), 'invalid_client', /HTTP 500/);
    expect(host.hits['/jwks.json']).toBe(2);
  });

  it('keeps the known set when a refresh fails', async () => {
    const clock = manualClock();
    const { publicJwk } = await keyPair('ES256');
    let broken = false;
    const host = await keyHost({
      '/jwks.json': (res) => (broken ? res.writeHead(503).end() : json({ keys: [publicJwk] })(res)),
    });
    const fetchJwks = createJwksFetcher({ fetch: host.fetch, now: clock.now });
    await fetchJwks(JWKS_URI);
    broken = true;
    clock.advance(60_000);
    expect((await fetchJwks(JWKS_URI, { refresh: true })).keys[0]!.kid).toBe(publicJwk.kid);
  });

  it.each([
    ['not JSON', 'not json', /not valid JSON/],
    ['no keys array', '{"keys":{}}', /no 'keys' array/],
    ['an empty set', '{"keys":[]}', /no keys/],
    ['a symmetric key', '{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}', /symmetric/],
  ])('refuses a body that is %s', async (_name, body, message) => {
    const host = await keyHost({ '/jwks.json': (res) => res.writeHead(200).end(body) });
    await refused(createJwksFetcher({ fetch: host.fetch })(JWKS_URI), 'invalid_client', message);
  });

  it('refuses a set that publishes private key material', async () => {
    const { privateKey } = await keyPair('ES256');
    const { exportJWK } = await import('jose');
    const host = await keyHost({ '/jwks.json': json({ keys: [await exportJWK(privateKey)] }) });
    const error = await refused(
      createJwksFetcher({ fetch: host.fetch })(JWKS_URI),
      'invalid_client',
      /private/,
    );
    expect(error.description).not.toContain('"d"');
  });
});
