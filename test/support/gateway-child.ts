/**
 * The child side of {@link startGatewayProcess} (test/support/gateway-process.ts): a real gateway built
 * from the library API — `createAuthorizationServer` with the PIN upstream, a protected `/mcp` route
 * answered after `authenticate`, served by `@portcullis/adapter-node` `serve` — on the storage the
 * parent names. It never catches uncaught errors: a storage fault that would kill a production process
 * kills this one too, and the parent sees the exit.
 *
 * IPC: sends `{ type: 'listening', url }` once it serves; answers `{ type: 'heap', id, snapshot? }`
 * with `{ type: 'heap', id, heapUsed, data, rss, external }` measured after a heap snapshot's full
 * collection (written to `snapshot` when given); `{ type: 'stop' }` shuts it down gracefully. It exits
 * when the parent goes.
 */
import { getHeapSnapshot, getHeapSpaceStatistics, writeHeapSnapshot } from 'node:v8';
import { clientIp, serve } from '@portcullis/adapter-node';
import { createAuthorizationServer, type Storage } from '@portcullis/core';
import { pinUpstream } from '@portcullis/core/upstreams';
import { type RedisStorageOptions, redisStorage } from '@portcullis/storage-kv';
import { type PostgresStorageOptions, postgresStorage } from '@portcullis/storage-sql';
import type { GatewayChildMessage, GatewayParentMessage, GatewaySpec } from './gateway-process.js';

const spec = JSON.parse(process.env.PORTCULLIS_GATEWAY_SPEC ?? '{}') as GatewaySpec;
const send = (message: GatewayChildMessage) => process.send?.(message);

/** Connection errors go to stderr, which the parent keeps (see `GatewayProcess.output`). */
const onConnectionError = (error: Error) => console.error(`store connection error: ${error.message}`);

function openStorage(): Storage {
  const { storage } = spec;
  if (storage.kind === 'postgres') {
    return postgresStorage(storage.url, {
      tablePrefix: storage.prefix,
      onConnectionError,
      ...storage.options,
    } as PostgresStorageOptions);
  }
  return redisStorage({
    url: storage.url,
    prefix: storage.prefix,
    onConnectionError,
    ...storage.options,
  } as RedisStorageOptions);
}

const storage = openStorage();
const running = await serve(
  async (request) => {
    if (as.handles(request)) return as.fetch(request);
    const auth = await as.authenticate(request);
    if (!auth.ok) return auth.response;
    return Response.json({ user: auth.info.userId, scopes: auth.info.scopes });
  },
  { port: 0, host: '127.0.0.1' },
);
const as = createAuthorizationServer({
  issuer: running.url,
  storage,
  upstream: pinUpstream({ pin: spec.pin, userId: 'fault-user' }),
  secret: spec.secret,
  resources: [{ path: '/mcp' }],
  storageTimeoutMs: spec.storageTimeoutMs,
  // Registration counts per IP (an atomic increment per request); the limit itself is not under test.
  clientIp,
  registration: { maxPerHour: 1_000_000 },
});

// Migrations / connection happen before the first request is served.
await storage.get('client', 'warm-up');

const gc = (globalThis as { gc?: () => void }).gc;

/**
 * Heap after the most thorough collection V8 has: taking a heap snapshot collects all available garbage
 * and drops V8's internal caches (compilation, number-string…), which a plain `gc()` keeps and which
 * fill up for a while under new traffic. The snapshot is discarded unless a path is given.
 */
async function measureHeap(id: number, path: string | undefined): Promise<void> {
  if (!gc) throw new Error('run the gateway child with --expose-gc');
  if (path) writeHeapSnapshot(path);
  else for await (const _chunk of getHeapSnapshot()) void _chunk;
  // FinalizationRegistry callbacks (undici's Request registers one per request signal) run in a task
  // after the collection that found their targets: let them run, then collect what they released.
  for (let round = 0; round < 3; round++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  gc();
  const { heapUsed, rss, external } = process.memoryUsage();
  // Compiled code grows while V8 optimises hot paths; what a leak grows is the rest.
  const data = getHeapSpaceStatistics()
    .filter((space) => !space.space_name.startsWith('code_'))
    .reduce((sum, space) => sum + space.space_used_size, 0);
  send({ type: 'heap', id, heapUsed, data, rss, external });
}
process.on('message', (message: GatewayParentMessage) => {
  if (message.type === 'heap') void measureHeap(message.id, message.snapshot);
  else if (message.type === 'stop') {
    void running.close({ timeoutMs: 500 }).then(async () => {
      await storage.close?.();
      process.exit(0);
    });
  }
});
// A parent that dies (a killed test worker) closes the IPC channel: never outlive it.
process.on('disconnect', () => process.exit(0));
send({ type: 'listening', url: running.url });
