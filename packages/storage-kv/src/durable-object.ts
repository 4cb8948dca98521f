import type { ConsumeResult } from '@portcullis/core';
import type { KVBackend, KVEntry, KVPage } from './backend.js';
import type { DurableObjectNamespaceLike } from './cloudflare-types.js';
import type { CoordinatorCall } from './coordinator.js';

/** Options of {@link durableObjectKV}. */
export interface DurableObjectKVOptions {
  /** The binding of the {@link PortcullisCoordinator} class, e.g. `env.PORTCULLIS`. */
  readonly namespace: DurableObjectNamespaceLike;
  /** Name of the coordinator instance (one instance holds every record). Default `portcullis`. */
  readonly name?: string;
}

/**
 * A {@link KVBackend} whose every operation runs inside the {@link PortcullisCoordinator} Durable
 * Object, so `consume` and `increment` are atomic worldwide.
 *
 * A stub is made per call: Workers does not let a stub created for one request serve another, and
 * storages are usually cached per isolate.
 *
 * @example
 * ```ts
 * const storage = new KVStorage({ backend: durableObjectKV({ namespace: env.PORTCULLIS }) });
 * ```
 */
export function durableObjectKV(options: DurableObjectKVOptions): KVBackend {
  const ns = options.namespace;
  const name = options.name ?? 'portcullis';
  const call = async <T>(body: CoordinatorCall): Promise<T> => {
    const stub = ns.get(ns.idFromName(name));
    const response = await stub.fetch('https://portcullis-coordinator/', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!response.ok)
      throw new Error(`Portcullis coordinator refused '${body.op}' (HTTP ${response.status})`);
    return (await response.json()) as T;
  };
  return {
    atomic: true,
    get: (key) => call<KVEntry | null>({ op: 'get', key }),
    set: (key, entry, ttlMs) => call<null>({ op: 'set', key, entry, ttlMs }).then(() => undefined),
    delete: (key) => call<null>({ op: 'delete', key }).then(() => undefined),
    consume: (key, now, at) => call<ConsumeResult>({ op: 'consume', key, now, at }),
    increment: (key, now, expiresAt) => call<number>({ op: 'increment', key, now, expiresAt }),
    list: (prefix, page) =>
      call<KVPage>({
        op: 'list',
        prefix,
        limit: page.limit,
        ...(page.cursor ? { cursor: page.cursor } : {}),
      }),
    sweep: (prefix, now) => call<number>({ op: 'sweep', prefix, now }),
  };
}
