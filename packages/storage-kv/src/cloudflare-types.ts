/**
 * The parts of the Cloudflare Workers runtime types this package uses, declared structurally so the
 * package compiles without `@cloudflare/workers-types`. The real bindings (`env.MY_KV`,
 * `env.MY_DO`, a Durable Object's `state`) satisfy them.
 */

/** The subset of a Workers `KVNamespace` binding that {@link cloudflareKV} uses. */
export interface KVNamespaceLike {
  getWithMetadata<Metadata = unknown>(
    key: string,
    type: 'text',
  ): Promise<{ value: string | null; metadata: Metadata | null }>;
  put(key: string, value: string, options?: { expirationTtl?: number; metadata?: unknown }): Promise<void>;
  delete(key: string): Promise<void>;
  list(options?: { prefix?: string | null; cursor?: string | null; limit?: number }): Promise<{
    keys: { name: string; expiration?: number; metadata?: unknown }[];
    list_complete: boolean;
    cursor?: string;
  }>;
}

/** The subset of a Durable Object stub used to call the coordinator. */
export interface DurableObjectStubLike {
  fetch(
    input: string,
    init?: { method?: string; headers?: Record<string, string>; body?: string },
  ): Promise<Response>;
}

/** The subset of a Workers `DurableObjectNamespace` binding used to reach the coordinator. */
export interface DurableObjectNamespaceLike {
  idFromName(name: string): unknown;
  get(id: unknown): DurableObjectStubLike;
}

/** The subset of `DurableObjectStorage` (key-value API) the coordinator uses. */
export interface DurableObjectStorageLike {
  get<T = unknown>(key: string): Promise<T | undefined>;
  put<T>(key: string, value: T): Promise<void>;
  delete(key: string): Promise<boolean>;
  list<T = unknown>(options?: {
    start?: string;
    startAfter?: string;
    prefix?: string;
    limit?: number;
  }): Promise<Map<string, T>>;
  getAlarm(): Promise<number | null>;
  setAlarm(scheduledTime: number): Promise<void>;
}

/** The subset of `DurableObjectState` the coordinator uses. */
export interface DurableObjectStateLike {
  readonly storage: DurableObjectStorageLike;
}
