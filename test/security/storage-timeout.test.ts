/**
 * Storages that are slow or never answer (a stuck connection pool, a partitioned Redis). Slow storage
 * must still work; a storage that never answers must not hold requests forever: the server should give
 * up and answer 503 `temporarily_unavailable` like it does for a failing storage (see
 * packages/core/test/fault.test.ts).
 */
import { MemoryStorage, type RecordKind, type Storage } from '@portcullis/core';
import { describe, expect } from 'vitest';
import {
  authorizeUrl,
  Browser,
  bearer,
  ISSUER,
  makeServer,
  registerClient,
  runCases,
  type SecurityCase,
  tokenRequest,
  tokensFor,
} from '../support/security.js';

type Op = 'get' | 'put' | 'delete' | 'consume' | 'increment';

/** A storage whose operations are delayed, or never settle while `hang` names them. */
class StalledStorage implements Storage {
  readonly capabilities = { atomic: true };
  readonly hang = new Set<Op>();
  delayMs = 0;
  constructor(readonly inner: MemoryStorage) {}
  async #wait(op: Op): Promise<void> {
    if (this.hang.has(op)) await new Promise<never>(() => {});
    if (this.delayMs) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
  }
  async get(kind: RecordKind, key: string) {
    await this.#wait('get');
    return this.inner.get(kind, key);
  }
  async put(kind: RecordKind, key: string, value: string, expiresAt: number | null) {
    await this.#wait('put');
    return this.inner.put(kind, key, value, expiresAt);
  }
  async delete(kind: RecordKind, key: string) {
    await this.#wait('delete');
    return this.inner.delete(kind, key);
  }
  async consume(kind: RecordKind, key: string, now: number) {
    await this.#wait('consume');
    return this.inner.consume(kind, key, now);
  }
  async increment(kind: RecordKind, key: string, expiresAt: number) {
    await this.#wait('increment');
    return this.inner.increment(kind, key, expiresAt);
  }
}

/** The storage timeout configured here (the default is longer), and how long a request may take. */
const STORAGE_TIMEOUT_MS = 1_000;
const BOUND_MS = 4_000;

/** Resolves to the value, or to `'hung'` when the promise has not settled within `ms`. */
const within = <T>(promise: Promise<T>, ms: number) =>
  Promise.race([promise, new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), ms).unref())]);

function setupStalled() {
  const storage = new StalledStorage(new MemoryStorage());
  return { ...makeServer({ storage, storageTimeoutMs: STORAGE_TIMEOUT_MS }), storage };
}

const cases: SecurityCase[] = [
  {
    source: 'RFC 6749 §5.2',
    name: 'a slow storage (150 ms per operation) still completes the whole flow',
    run: async () => {
      const { storage, server } = setupStalled();
      const { body } = await registerClient(server.fetch);
      storage.delayMs = 150;
      const { access_token } = await tokensFor({ server, clientId: body.client_id! });
      expect((await bearer(server, `Bearer ${access_token}`)).ok).toBe(true);
    },
  },
  {
    source: 'RFC 6749 §4.1.2.1',
    name: 'a storage that rejects after a delay gives 503 temporarily_unavailable',
    run: async () => {
      const { storage, server } = setupStalled();
      const { body } = await registerClient(server.fetch);
      storage.get = async () => {
        await new Promise((resolve) => setTimeout(resolve, 200));
        throw new Error('ETIMEDOUT');
      };
      const response = await tokenRequest(server.fetch, {
        grant_type: 'refresh_token',
        refresh_token: 'pcrt_x',
        client_id: body.client_id!,
      });
      expect(response.status).toBe(503);
      expect((await response.json()).error).toBe('temporarily_unavailable');
    },
  },
  {
    source: 'RFC 6749 §5.2 (temporarily_unavailable)',
    name: `a storage that never answers: /token, /authorize, /register and authenticate answer 503 within ${BOUND_MS / 1000} s`,
    run: async () => {
      const { storage, server } = setupStalled();
      const { body } = await registerClient(server.fetch);
      storage.hang.add('get').add('put');
      const [token, page, register, auth] = await Promise.all([
        within(
          tokenRequest(server.fetch, {
            grant_type: 'refresh_token',
            refresh_token: 'x',
            client_id: body.client_id!,
          }),
          BOUND_MS,
        ),
        within(
          (async () => new Browser(server.fetch).fetch(await authorizeUrl(body.client_id!)))(),
          BOUND_MS,
        ),
        within(
          registerClient(server.fetch).then((r) => r.response),
          BOUND_MS,
        ),
        within(
          server
            .authenticate(new Request(`${ISSUER}/mcp`, { headers: { authorization: 'Bearer pcat_x' } }))
            .then((r) => (r.ok ? new Response(null, { status: 200 }) : r.response)),
          BOUND_MS,
        ),
      ]);
      const statuses = [token, page, register, auth].map((r) => (r === 'hung' ? 'hung' : r.status));
      expect(statuses, 'token, authorize, register, authenticate').toEqual([503, 503, 503, 503]);
    },
  },
];

describe('security: slow and unresponsive storage', { timeout: BOUND_MS + 5_000 }, () => runCases(cases));
