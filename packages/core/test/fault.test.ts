import { MemoryStorage, type Storage } from '@portcullis/core';
import { describe, expect, it } from 'vitest';
import {
  approveWithPin,
  authorizeUrl,
  Browser,
  ISSUER,
  makeServer,
  registerClient,
  tokenRequest,
  VERIFIER,
} from './helpers.js';

/**
 * A storage that fails the chosen operations on demand (fault injection), run both as a networked
 * storage (calls under the timeout) and as an in-process one (`inProcess`: calls without a timer).
 */
class FlakyStorage implements Storage {
  readonly capabilities: Storage['capabilities'];
  failing = new Set<string>();
  constructor(
    readonly inner: MemoryStorage,
    inProcess: boolean,
  ) {
    this.capabilities = { atomic: true, inProcess };
  }
  #guard(op: string, kind: string) {
    if (this.failing.has(op) || this.failing.has(`${op}:${kind}`))
      throw new Error('connection reset by peer (secret=hunter2)');
  }
  async get(kind: Parameters<Storage['get']>[0], key: string) {
    this.#guard('get', kind);
    return this.inner.get(kind, key);
  }
  async put(kind: Parameters<Storage['put']>[0], key: string, value: string, expiresAt: number | null) {
    this.#guard('put', kind);
    return this.inner.put(kind, key, value, expiresAt);
  }
  async delete(kind: Parameters<Storage['delete']>[0], key: string) {
    this.#guard('delete', kind);
    return this.inner.delete(kind, key);
  }
  async consume(kind: Parameters<Storage['consume']>[0], key: string, now: number) {
    this.#guard('consume', kind);
    return this.inner.consume(kind, key, now);
  }
  async increment(kind: Parameters<Storage['increment']>[0], key: string, expiresAt: number) {
    this.#guard('increment', kind);
    return this.inner.increment(kind, key, expiresAt);
  }
}

describe.each([
  ['a networked storage', false],
  ['an in-process storage', true],
])('storage faults of %s', (_, inProcess) => {
  it('registration, token and authenticate answer 503 temporarily_unavailable without leaking the cause', async () => {
    const storage = new FlakyStorage(new MemoryStorage(), inProcess);
    const { server } = makeServer({ storage });
    storage.failing.add('put');
    const reg = await registerClient(server.fetch);
    expect(reg.response.status).toBe(503);
    expect(reg.body.error).toBe('temporarily_unavailable');
    expect(JSON.stringify(reg.body)).not.toContain('hunter2');
    storage.failing.clear();
    const { body: client } = await registerClient(server.fetch);
    storage.failing.add('get');
    const token = await tokenRequest(server.fetch, {
      grant_type: 'refresh_token',
      refresh_token: 'x',
      client_id: client.client_id!,
    });
    expect(token.status).toBe(503);
    expect(token.headers.get('retry-after')).toBe('5');
    const auth = await server.authenticate(
      new Request(`${ISSUER}/mcp`, { headers: { authorization: 'Bearer pcat_x' } }),
    );
    expect(!auth.ok && auth.response.status).toBe(503);
    const page = await new Browser(server.fetch).fetch(await authorizeUrl(client.client_id!));
    expect(page.status).toBe(503);
    expect(page.headers.get('content-type')).toContain('text/html');
  });

  it('a failure while writing the code leaves no usable grant or code behind', async () => {
    const storage = new FlakyStorage(new MemoryStorage(), inProcess);
    const { server, events } = makeServer({ storage });
    const { body: client } = await registerClient(server.fetch);
    storage.failing.add('put:code');
    const response = await approveWithPin(new Browser(server.fetch), await authorizeUrl(client.client_id!));
    expect(response.status).toBe(503);
    expect(events.some((e) => e.type === 'authorization_granted')).toBe(false);
    storage.failing.clear();
    const { code } = await (await import('./helpers.js')).obtainCode(server.fetch, client.client_id!);
    storage.failing.add('put:refresh');
    const failed = await tokenRequest(server.fetch, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: 'https://client.example.com/callback',
      code_verifier: VERIFIER,
      client_id: client.client_id!,
    });
    expect(failed.status).toBe(503);
    expect(events.some((e) => e.type === 'token_issued')).toBe(false);
  });
});

describe('storage timeouts', () => {
  it('a storage that never answers gives 503 after storageTimeoutMs', async () => {
    const inner = new MemoryStorage();
    const hanging: Storage = {
      capabilities: { atomic: true },
      get: () => new Promise(() => {}),
      put: (k, key, v, e) => inner.put(k, key, v, e),
      delete: (k, key) => inner.delete(k, key),
      consume: (k, key, n) => inner.consume(k, key, n),
      increment: (k, key, e) => inner.increment(k, key, e),
    };
    const { server } = makeServer({ storage: hanging, storageTimeoutMs: 50 });
    const token = await tokenRequest(server.fetch, {
      grant_type: 'refresh_token',
      refresh_token: 'x',
      client_id: 'c',
    });
    expect(token.status).toBe(503);
    expect((await token.json()).error).toBe('temporarily_unavailable');
    const auth = await server.authenticate(
      new Request(`${ISSUER}/mcp`, { headers: { authorization: 'Bearer pcat_x' } }),
    );
    expect(!auth.ok && auth.response.status).toBe(503);
  });

  it('an in-process storage gets no timer and no signal, and one that throws at once still gives 503', async () => {
    const inner = new MemoryStorage();
    const seen: unknown[] = [];
    const throwing: Storage = {
      capabilities: { atomic: true, inProcess: true },
      get: (_kind, _key, options) => {
        seen.push(options?.signal);
        throw new Error('disk I/O error (secret=hunter2)');
      },
      put: (k, key, v, e) => inner.put(k, key, v, e),
      delete: (k, key) => inner.delete(k, key),
      consume: (k, key, n) => inner.consume(k, key, n),
      increment: (k, key, e) => inner.increment(k, key, e),
    };
    const { server } = makeServer({ storage: throwing });
    const auth = await server.authenticate(
      new Request(`${ISSUER}/mcp`, { headers: { authorization: 'Bearer pcat_x' } }),
    );
    expect(!auth.ok && auth.response.status).toBe(503);
    expect(!auth.ok && (await auth.response.text())).not.toContain('hunter2');
    expect(seen).toEqual([undefined]);
  });
});
