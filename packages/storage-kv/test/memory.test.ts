import { storageContract } from '@portcullis/core/testkit';
import { describe, expect, it } from 'vitest';
import { KVStorage, memoryKV, memoryKVStorage, RoutedStorage, SINGLE_USE_KINDS } from '../src/index.js';

storageContract('kv: in-memory', { create: (clock) => memoryKVStorage({ now: clock.now }) });

describe('KVStorage key layout', () => {
  it('keeps prefixes apart on one backend', async () => {
    const backend = memoryKV();
    const a = new KVStorage({ backend, prefix: 'a:' });
    const b = new KVStorage({ backend, prefix: 'b:' });
    await a.put('client', 'x', 'from-a', null);
    expect(await b.get('client', 'x')).toBeNull();
    expect(await backend.get('a:client:x')).toEqual({ value: 'from-a', expiresAt: null, consumedAt: null });
  });

  it('sweeps only its own prefix', async () => {
    const backend = memoryKV();
    const a = new KVStorage({ backend, prefix: 'a:', now: () => 0 });
    const b = new KVStorage({ backend, prefix: 'b:', now: () => 0 });
    await a.put('access', 'x', 'v', 10);
    await b.put('access', 'x', 'v', 10);
    expect(await a.deleteExpired?.(20)).toBe(1);
    expect(await backend.get('b:access:x')).not.toBeNull();
  });

  it('is not atomic when the backend has no atomic primitive, yet serializes within the isolate', async () => {
    const inner = memoryKV();
    const plain = new KVStorage({
      backend: { atomic: false, get: inner.get, set: inner.set, delete: inner.delete },
    });
    expect(plain.capabilities.atomic).toBe(false);
    expect(plain.deleteExpired).toBeUndefined();
    await plain.put('code', 'c', 'v', Date.now() + 60_000);
    const results = await Promise.all(
      Array.from({ length: 20 }, () => plain.consume('code', 'c', Date.now())),
    );
    expect(results.filter((r) => r.status === 'consumed')).toHaveLength(1);
  });
});

describe('RoutedStorage', () => {
  it('routes kinds and is atomic only when every single-use kind goes to an atomic storage', async () => {
    const atomic = memoryKVStorage();
    const inner = memoryKV();
    const plain = new KVStorage({
      backend: { atomic: false, get: inner.get, set: inner.set, delete: inner.delete },
    });
    const routes = Object.fromEntries(SINGLE_USE_KINDS.map((k) => [k, atomic]));
    const safe = new RoutedStorage({ fallback: plain, routes });
    expect(safe.capabilities.atomic).toBe(true);
    await safe.put('client', 'c', 'in-plain', null);
    await safe.put('code', 'k', 'in-atomic', null);
    expect((await plain.get('client', 'c'))?.value).toBe('in-plain');
    expect(await atomic.get('client', 'c')).toBeNull();
    expect((await atomic.get('code', 'k'))?.value).toBe('in-atomic');
    const { refresh: _dropped, ...withoutRefresh } = routes;
    expect(new RoutedStorage({ fallback: plain, routes: withoutRefresh }).capabilities.atomic).toBe(false);
  });
});
