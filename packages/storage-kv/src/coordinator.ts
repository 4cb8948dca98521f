import type { ConsumeResult } from '@portcullis/core';
import type { KVEntry } from './backend.js';
import type { DurableObjectStateLike, DurableObjectStorageLike } from './cloudflare-types.js';

/** One call to the coordinator, sent as a JSON POST body. Times are epoch ms on the caller's clock. */
export type CoordinatorCall =
  | { readonly op: 'get'; readonly key: string }
  | { readonly op: 'set'; readonly key: string; readonly entry: KVEntry; readonly ttlMs: number | null }
  | { readonly op: 'delete'; readonly key: string }
  | { readonly op: 'consume'; readonly key: string; readonly now: number; readonly at: number }
  | { readonly op: 'increment'; readonly key: string; readonly now: number; readonly expiresAt: number }
  | { readonly op: 'sweep'; readonly prefix: string; readonly now: number }
  | { readonly op: 'list'; readonly prefix: string; readonly limit: number; readonly cursor?: string };

/** An entry as the coordinator stores it: `g` is when its own garbage collection may drop it (its clock). */
interface Stored {
  readonly v: string;
  readonly e: number | null;
  readonly c: number | null;
  readonly g: number | null;
}

const LIST_PAGE = 500;

const isString = (v: unknown): v is string => typeof v === 'string';
const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isTimeOrNull = (v: unknown): v is number | null => v === null || isTime(v);

function isEntry(v: unknown): v is KVEntry {
  if (typeof v !== 'object' || v === null) return false;
  const e = v as Record<string, unknown>;
  return isString(e.value) && isTimeOrNull(e.expiresAt) && isTimeOrNull(e.consumedAt);
}

/** Validates a call; the coordinator is reachable only through its binding, but it never trusts input. */
export function parseCoordinatorCall(body: unknown): CoordinatorCall | null {
  if (typeof body !== 'object' || body === null) return null;
  const b = body as Record<string, unknown>;
  switch (b.op) {
    case 'get':
    case 'delete':
      return isString(b.key) ? { op: b.op, key: b.key } : null;
    case 'set':
      return isString(b.key) && isEntry(b.entry) && isTimeOrNull(b.ttlMs)
        ? { op: 'set', key: b.key, entry: b.entry, ttlMs: b.ttlMs }
        : null;
    case 'consume':
      return isString(b.key) && isTime(b.now) && isTime(b.at)
        ? { op: 'consume', key: b.key, now: b.now, at: b.at }
        : null;
    case 'increment':
      return isString(b.key) && isTime(b.now) && isTime(b.expiresAt)
        ? { op: 'increment', key: b.key, now: b.now, expiresAt: b.expiresAt }
        : null;
    case 'list':
      return isString(b.prefix) && isTime(b.limit) && (b.cursor === undefined || isString(b.cursor))
        ? {
            op: 'list',
            prefix: b.prefix,
            limit: Math.min(1000, Math.max(1, Math.floor(b.limit))),
            ...(b.cursor === undefined ? {} : { cursor: b.cursor }),
          }
        : null;
    case 'sweep':
      return isString(b.prefix) && isTime(b.now) ? { op: 'sweep', prefix: b.prefix, now: b.now } : null;
    default:
      return null;
  }
}

const json = (body: unknown, status = 200): Response =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

/**
 * A Durable Object that keeps Portcullis's single-use records (authorization codes, refresh tokens,
 * attempt counters, pending authorizations) and consumes or increments them atomically.
 *
 * A Durable Object runs one instance worldwide and its storage calls hold the input gate, so a
 * read-then-write on its storage cannot interleave with another request: exactly one of any number
 * of parallel `consume` calls wins. An hourly alarm removes entries past their time to live.
 *
 * Export it from your Worker and bind it (see the package README):
 *
 * @example
 * ```ts
 * export { PortcullisCoordinator } from '@portcullis/storage-kv';
 * // wrangler.toml:
 * // [[durable_objects.bindings]]  name = "PORTCULLIS"  class_name = "PortcullisCoordinator"
 * // [[migrations]]  tag = "v1"  new_sqlite_classes = ["PortcullisCoordinator"]
 * ```
 */
export class PortcullisCoordinator {
  /** How long after a write the alarm sweeps entries past their time to live (ms); default one hour. */
  protected readonly sweepIntervalMs: number = 60 * 60 * 1000;
  readonly #storage: DurableObjectStorageLike;
  #alarmScheduled = false;

  constructor(state: DurableObjectStateLike, _env?: unknown) {
    this.#storage = state.storage;
  }

  /** Serves one {@link CoordinatorCall}. */
  async fetch(request: Request): Promise<Response> {
    if (request.method !== 'POST') return json({ error: 'method_not_allowed' }, 405);
    let call: CoordinatorCall | null = null;
    try {
      call = parseCoordinatorCall(await request.json());
    } catch {
      call = null;
    }
    if (!call) return json({ error: 'invalid_request' }, 400);
    return json(await this.#run(call));
  }

  /** Drops entries whose time to live has passed, then reschedules itself while entries remain. */
  async alarm(): Promise<void> {
    this.#alarmScheduled = false;
    const now = Date.now();
    let remaining = false;
    await this.#scan('', async (key, stored) => {
      if (stored.g !== null && stored.g <= now) await this.#storage.delete(key);
      else if (stored.g !== null) remaining = true;
    });
    if (remaining) await this.#scheduleSweep();
  }

  async #run(call: CoordinatorCall): Promise<unknown> {
    const storage = this.#storage;
    switch (call.op) {
      case 'get': {
        const s = await storage.get<Stored>(call.key);
        return s ? { value: s.v, expiresAt: s.e, consumedAt: s.c } : null;
      }
      case 'set':
        if (call.ttlMs !== null && call.ttlMs <= 0) {
          await storage.delete(call.key);
          return null;
        }
        await this.#write(
          call.key,
          call.entry.value,
          call.entry.expiresAt,
          call.entry.consumedAt,
          call.ttlMs,
        );
        return null;
      case 'delete':
        await storage.delete(call.key);
        return null;
      case 'consume':
        return this.#consume(call.key, call.now, call.at);
      case 'increment': {
        // Only storage calls between the read and the write: the input gate keeps this atomic.
        const s = await storage.get<Stored>(call.key);
        if (s && (s.e === null || s.e > call.now)) {
          const next = Number.parseInt(s.v, 10) + 1;
          await storage.put<Stored>(call.key, { ...s, v: String(next) });
          return next;
        }
        await this.#write(call.key, '1', call.expiresAt, null, call.expiresAt - call.now);
        return 1;
      }
      case 'list': {
        const page = await storage.list<Stored>(
          call.cursor === undefined
            ? { prefix: call.prefix, limit: call.limit }
            : { prefix: call.prefix, startAfter: call.cursor, limit: call.limit },
        );
        const entries = [...page].map(([key, s]) => ({
          key,
          entry: { value: s.v, expiresAt: s.e, consumedAt: s.c },
        }));
        const last = entries[entries.length - 1];
        return { entries, cursor: page.size >= call.limit && last ? last.key : null };
      }
      case 'sweep': {
        let removed = 0;
        await this.#scan(call.prefix, async (key, stored) => {
          if (stored.e !== null && stored.e <= call.now) {
            await storage.delete(key);
            removed++;
          }
        });
        return removed;
      }
    }
  }

  async #consume(key: string, now: number, at: number): Promise<ConsumeResult> {
    const s = await this.#storage.get<Stored>(key);
    if (!s || (s.e !== null && s.e <= now)) return { status: 'missing' };
    if (s.c !== null) return { status: 'already_consumed', value: s.v, consumedAt: s.c };
    await this.#storage.put<Stored>(key, { ...s, c: at });
    return { status: 'consumed', value: s.v };
  }

  async #write(
    key: string,
    v: string,
    e: number | null,
    c: number | null,
    ttlMs: number | null,
  ): Promise<void> {
    const g = ttlMs === null ? null : Date.now() + Math.max(0, ttlMs);
    await this.#storage.put<Stored>(key, { v, e, c, g });
    if (g !== null) await this.#scheduleSweep();
  }

  async #scheduleSweep(): Promise<void> {
    if (this.#alarmScheduled) return;
    if ((await this.#storage.getAlarm()) === null)
      await this.#storage.setAlarm(Date.now() + this.sweepIntervalMs);
    this.#alarmScheduled = true;
  }

  async #scan(prefix: string, visit: (key: string, stored: Stored) => Promise<void>): Promise<void> {
    let startAfter: string | undefined;
    for (;;) {
      const page = await this.#storage.list<Stored>(
        startAfter === undefined ? { prefix, limit: LIST_PAGE } : { prefix, startAfter, limit: LIST_PAGE },
      );
      for (const [key, stored] of page) {
        await visit(key, stored);
        startAfter = key;
      }
      if (page.size < LIST_PAGE) return;
    }
  }
}
