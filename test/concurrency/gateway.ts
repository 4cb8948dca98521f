/**
 * One gateway process of the concurrency tests: the authorization server on a real shared store, served
 * by the Node adapter, with `/mcp` answering 200 for a valid token or the authorization server's 401.
 * The test runs it bundled by esbuild (or run it with tsx and the workspace tsconfig paths), from the
 * repository root. Prints `listening <url>`; stops on SIGTERM or when its stdin closes (the test that
 * started it is gone).
 *
 * Environment: STORE (postgres | mysql | redis | sqlite), STORE_URL (a postgres://, mysql:// or redis://
 * URL, or the SQLite file), STORE_PREFIX (table or key prefix of this run), ISSUER, REUSE_INTERVAL_SECONDS.
 */
import { serve } from '@portcullis/adapter-node';
import { createAuthorizationServer, type IdentityUpstream, type Storage } from '@portcullis/core';
import { redisStorage } from '@portcullis/storage-kv';
import { mysqlStorage, postgresStorage, sqliteStorage } from '@portcullis/storage-sql';

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

function openStorage(): Storage {
  const store = env('STORE');
  const url = env('STORE_URL');
  const prefix = env('STORE_PREFIX');
  if (store === 'postgres') return postgresStorage(url, { tablePrefix: prefix });
  if (store === 'mysql') return mysqlStorage(url, { tablePrefix: prefix });
  if (store === 'sqlite') return sqliteStorage(url, { tablePrefix: prefix });
  if (store === 'redis') return redisStorage({ url, prefix });
  throw new Error(`unknown STORE ${store}`);
}

/** Signs everyone in as one user at once, consent included: the login is not what these tests are about. */
const instantLogin: IdentityUpstream = {
  name: 'instant',
  routes: [],
  begin: async (pending) => ({
    type: 'identity',
    pendingId: pending.id,
    identity: { userId: 'concurrent-user', consented: true },
  }),
  handle: async () => ({ type: 'response', response: new Response('not found', { status: 404 }) }),
};

const storage = openStorage();
const as = createAuthorizationServer({
  issuer: env('ISSUER'),
  storage,
  upstream: instantLogin,
  secret: 'concurrency-test-secret-0123456789abcdef',
  reuseIntervalSeconds: Number(env('REUSE_INTERVAL_SECONDS')),
});

const running = await serve(
  async (request) => {
    if (as.handles(request)) return as.fetch(request);
    if (new URL(request.url).pathname !== '/mcp') return new Response('not found', { status: 404 });
    const auth = await as.authenticate(request);
    if (!auth.ok) return auth.response;
    return Response.json({ userId: auth.info.userId, clientId: auth.info.clientId });
  },
  { port: 0, host: '127.0.0.1' },
);
process.stdout.write(`listening ${running.url}\n`);

async function stop(): Promise<never> {
  await running.close({ timeoutMs: 1000 }).catch(() => undefined);
  await storage.close?.().catch(() => undefined);
  process.exit(0);
}
process.once('SIGTERM', stop);
// The test holds stdin open: when it goes away (even killed), so does this gateway.
process.stdin.on('end', stop).resume();
