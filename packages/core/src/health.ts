import type { Storage } from './storage/types.js';

/** Options of {@link healthRoutes}. */
export interface HealthOptions {
  /** The storage readiness checks. */
  readonly storage: Storage;
  /** Liveness path: answers 200 while the process serves requests. Default `/healthz`. */
  readonly livenessPath?: string;
  /** Readiness path: 200 when the storage answers within `timeoutMs`, else 503. Default `/readyz`. */
  readonly readinessPath?: string;
  /** How long the readiness probe waits for the storage, ms; default 2000. */
  readonly timeoutMs?: number;
}

const PROBE_KEY = 'portcullis:readiness-probe';

const answer = (status: number, body: Record<string, unknown>) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
  });

/**
 * Reads one record from the storage within `timeoutMs` (aborting the call past it, so a storage with
 * connections recycles the stuck one): `true` when the storage answered.
 */
export async function storageReady(storage: Storage, timeoutMs: number): Promise<boolean> {
  const abandon = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => {
      abandon.abort(new Error(`readiness probe timed out after ${timeoutMs} ms`));
      resolve(false);
    }, timeoutMs);
  });
  try {
    const probe = storage.get('cache', PROBE_KEY, { signal: abandon.signal }).then(
      () => true,
      () => false,
    );
    return await Promise.race([probe, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Liveness and readiness routes for orchestrators (Kubernetes `livenessProbe` / `readinessProbe`):
 * a handler answering its two paths (GET or HEAD), `null` for anything else. Readiness checks the
 * storage every time, so it turns ready again by itself once the storage is back.
 *
 * @example
 * ```ts
 * const health = healthRoutes({ storage });
 * const handle = async (request: Request) => (await health(request)) ?? gateway.fetch(request);
 * ```
 */
export function healthRoutes(options: HealthOptions): (request: Request) => Promise<Response | null> {
  const live = options.livenessPath ?? '/healthz';
  const ready = options.readinessPath ?? '/readyz';
  const timeoutMs = options.timeoutMs ?? 2000;
  return async (request) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') return null;
    const { pathname } = new URL(request.url);
    if (pathname === live) return answer(200, { status: 'ok' });
    if (pathname !== ready) return null;
    return (await storageReady(options.storage, timeoutMs))
      ? answer(200, { status: 'ready' })
      : answer(503, { status: 'unready', reason: 'storage unavailable' });
  };
}
