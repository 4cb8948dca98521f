import type { StoreContext } from './context.js';
import { type PendingRecord, pendingRecord } from './schemas.js';

/** Pending authorization requests: validated, waiting for the user's login and consent. */
export class PendingStore {
  readonly #ctx: StoreContext;

  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
  }

  /** Stores a new pending request and returns its unguessable id. */
  async create(record: Omit<PendingRecord, 'expiresAt'>): Promise<{ id: string; record: PendingRecord }> {
    const ctx = this.#ctx;
    const id = ctx.token();
    const full: PendingRecord = { ...record, expiresAt: ctx.now() + ctx.config.lifetimes.pending * 1000 };
    await this.save(id, full);
    return { id, record: full };
  }

  /** A live pending request, or `null` (unknown, malformed id, expired or completed). */
  async load(id: string): Promise<PendingRecord | null> {
    if (!/^[A-Za-z0-9_-]{20,64}$/.test(id)) return null;
    const record = await this.#ctx.records.get('pending', id, pendingRecord);
    return record && record.expiresAt > this.#ctx.now() ? record : null;
  }

  /** Replaces a pending request, keeping its expiry. */
  save(id: string, record: PendingRecord): Promise<void> {
    return this.#ctx.records.put('pending', id, record, record.expiresAt);
  }

  /** Claims a pending request once: of two concurrent submits of one form, only one proceeds. */
  async claim(id: string): Promise<boolean> {
    const claim = await this.#ctx.records.consume('pending', id, this.#ctx.now(), pendingRecord);
    if (claim?.status !== 'consumed') return false;
    await this.#ctx.records.delete('pending', id);
    return true;
  }

  /** Ends a pending request. */
  delete(id: string): Promise<void> {
    return this.#ctx.records.delete('pending', id);
  }

  /** Seals a value into the pending request's record (AES-GCM, bound to the request and purpose). */
  seal(id: string, purpose: 'identity' | 'upstream', value: unknown): Promise<string> {
    return this.#ctx.keys.seal(JSON.stringify(value), `${purpose}:${id}`);
  }

  /** Opens what {@link seal} sealed; `null` when it cannot be opened. */
  async open<T>(id: string, purpose: 'identity' | 'upstream', sealed: string | undefined): Promise<T | null> {
    if (!sealed) return null;
    const opened = await this.#ctx.keys.open(sealed, `${purpose}:${id}`);
    return opened === null ? null : (JSON.parse(opened) as T);
  }
}
