import { fileURLToPath } from 'node:url';
import type {
  ConsumeResult,
  ListOptions,
  ListPage,
  RecordKind,
  Storage,
  StoredRecord,
} from '@portcullis/core';
import { storageContract, type TestClock } from '@portcullis/core/testkit';
import { Miniflare } from 'miniflare';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cloudflareKVStorage, type KVNamespaceLike } from '../src/index.js';
import type { StorageCall } from './fixtures/storage-worker.js';
import { bundleWorker } from './workerd.js';

const run = `t${process.pid}-${Date.now().toString(36)}`;
let mf: Miniflare;
let kv: KVNamespaceLike;

beforeAll(async () => {
  const script = await bundleWorker(fileURLToPath(new URL('./fixtures/storage-worker.ts', import.meta.url)));
  mf = new Miniflare({
    modules: true,
    script,
    compatibilityDate: '2025-07-01',
    kvNamespaces: ['KV'],
    durableObjects: {
      PORTCULLIS: { className: 'PortcullisCoordinator', useSQLite: true },
      FAST: { className: 'FastSweepingCoordinator', useSQLite: true },
    },
  });
  kv = await mf.getKVNamespace('KV');
});
afterAll(async () => {
  await mf?.dispose();
});

/** A Storage whose every operation runs in the worker inside workerd (real KV and Durable Object). */
class WorkerdStorage implements Storage {
  readonly capabilities = { atomic: true };
  readonly deleteExpired = (now: number) => this.#call<number>({ op: 'deleteExpired', at: now });
  constructor(
    private readonly mode: StorageCall['mode'],
    private readonly prefix: string,
    private readonly clock: TestClock,
  ) {}
  async #call<T>(call: Partial<StorageCall>): Promise<T> {
    const body: Partial<StorageCall> = {
      mode: this.mode,
      prefix: this.prefix,
      now: this.clock.now(),
      ...call,
    };
    const response = await mf.dispatchFetch('http://storage.test/', {
      method: 'POST',
      body: JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`worker answered ${response.status}: ${await response.text()}`);
    return ((await response.json()) as { result: T }).result;
  }
  capabilitiesInWorker() {
    return this.#call<{ atomic: boolean; sweeps: boolean }>({ op: 'capabilities' });
  }
  get(kind: RecordKind, key: string) {
    return this.#call<StoredRecord | null>({ op: 'get', kind, key });
  }
  async put(kind: RecordKind, key: string, value: string, expiresAt: number | null) {
    await this.#call<null>({ op: 'put', kind, key, value, expiresAt });
  }
  async delete(kind: RecordKind, key: string) {
    await this.#call<null>({ op: 'delete', kind, key });
  }
  consume(kind: RecordKind, key: string, now: number) {
    return this.#call<ConsumeResult>({ op: 'consume', kind, key, at: now });
  }
  increment(kind: RecordKind, key: string, expiresAt: number) {
    return this.#call<number>({ op: 'increment', kind, key, expiresAt });
  }
  list(kind: RecordKind, list?: ListOptions) {
    return this.#call<ListPage>({ op: 'list', kind, ...(list ? { list } : {}) });
  }
}

let n = 0;
storageContract('cloudflare KV (plain, from Node through the binding proxy)', {
  create: (clock) => cloudflareKVStorage({ namespace: kv, prefix: `${run}:kv${n++}:`, now: clock.now }),
});
storageContract('cloudflare KV + PortcullisCoordinator Durable Object, sweepKV (inside workerd)', {
  create: (clock) => new WorkerdStorage('hybrid-sweep', `${run}:hy${n++}:`, clock),
});
storageContract('PortcullisCoordinator Durable Object only (inside workerd)', {
  create: (clock) => new WorkerdStorage('coordinator', `${run}:do${n++}:`, clock),
});

describe('cloudflare consistency', () => {
  it('plain KV storage says it is not atomic', () => {
    expect(cloudflareKVStorage({ namespace: kv }).capabilities.atomic).toBe(false);
  });

  it('KV + Durable Object storage says it is atomic', async () => {
    const clock = { now: () => Date.now(), advance: () => {} };
    for (const mode of ['hybrid', 'coordinator'] as const) {
      expect(await new WorkerdStorage(mode, `${run}:caps:`, clock).capabilitiesInWorker()).toEqual({
        atomic: true,
        sweeps: true,
      });
    }
  });

  it('keeps single-use records and grants in the Durable Object, clients and access tokens in KV', async () => {
    const prefix = `${run}:route:`;
    const storage = new WorkerdStorage('hybrid', prefix, { now: () => Date.now(), advance: () => {} });
    const expiresAt = Date.now() + 600_000;
    await storage.put('client', 'c1', 'client-record', null);
    await storage.put('code', 'k1', 'code-record', expiresAt);
    await storage.put('refresh', 'r1', 'refresh-record', expiresAt);
    await storage.put('grant', 'g1', 'grant-record', expiresAt);
    await storage.put('access', 'a1', 'access-record', expiresAt);
    expect((await kv.getWithMetadata(`${prefix}access:a1`, 'text')).value).toBe('access-record');
    expect((await kv.getWithMetadata(`${prefix}grant:g1`, 'text')).value).toBeNull();
    expect((await storage.get('grant', 'g1'))?.value).toBe('grant-record');
    expect((await kv.getWithMetadata(`${prefix}client:c1`, 'text')).value).toBe('client-record');
    expect((await kv.getWithMetadata(`${prefix}code:k1`, 'text')).value).toBeNull();
    expect((await kv.getWithMetadata(`${prefix}refresh:r1`, 'text')).value).toBeNull();
    expect((await storage.get('code', 'k1'))?.value).toBe('code-record');
  });

  it('sweeps only the Durable Object by default (KV expires keys itself)', async () => {
    let time = Date.UTC(2030, 0, 1);
    const storage = new WorkerdStorage('hybrid', `${run}:sweep:`, { now: () => time, advance: () => {} });
    await storage.put('code', 'c', 'v', time + 10);
    await storage.put('access', 'a', 'v', time + 10);
    time += 20;
    expect(await storage.deleteExpired(time)).toBe(1);
    expect(await storage.get('access', 'a')).toBeNull();
    expect((await kv.getWithMetadata(`${run}:sweep:access:a`, 'text')).value).toBe('v');
  });

  it('drops entries past their time to live from the Durable Object with its alarm', async () => {
    const prefix = `${run}:alarm:`;
    const past = { now: () => Date.now() - 3_600_000, advance: () => {} };
    const writer = new WorkerdStorage('fast', prefix, { now: () => Date.now(), advance: () => {} });
    await writer.put('code', 'short', 'v', Date.now() + 50);
    await writer.put('code', 'long', 'v', Date.now() + 600_000);
    // A reader whose clock is an hour behind would still see both, unless the alarm removed them.
    const reader = new WorkerdStorage('fast', prefix, past);
    expect((await reader.get('code', 'short'))?.value).toBe('v');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(await reader.get('code', 'short')).toBeNull();
    expect((await reader.get('code', 'long'))?.value).toBe('v');
  });

  it('gives KV a TTL of at least 60 seconds and keeps the logical expiry in metadata', async () => {
    const prefix = `${run}:kvttl:`;
    const storage = cloudflareKVStorage({ namespace: kv, prefix });
    const expiresAt = Date.now() + 5_000;
    await storage.put('access', 'a', 'v', expiresAt);
    const listed = await kv.list({ prefix });
    const key = listed.keys[0];
    expect(key?.metadata).toEqual({ e: expiresAt, c: null });
    expect(key?.expiration).toBeGreaterThanOrEqual(Math.floor(Date.now() / 1000) + 55);
  });
});
