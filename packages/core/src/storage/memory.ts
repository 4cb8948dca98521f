import { pageSorted } from './list.js';
import type {
  ConsumeResult,
  ListOptions,
  ListPage,
  RecordKind,
  Storage,
  StorageCapabilities,
  StoredRecord,
} from './types.js';

interface Entry {
  value: string;
  expiresAt: number | null;
  consumedAt: number | null;
}

/** Options shared by the storages in this repository. */
export interface ClockOption {
  /** Clock in epoch milliseconds; defaults to `Date.now`. Inject one in tests. */
  readonly now?: () => number;
}

/**
 * In-memory {@link Storage}: atomic within one process, lost on restart. For tests, single-process
 * servers and development.
 */
export class MemoryStorage implements Storage {
  /** Atomic within this process: JavaScript runs one operation at a time on its maps, none can stall. */
  readonly capabilities: StorageCapabilities = { atomic: true, inProcess: true };
  readonly #entries = new Map<string, Entry>();
  readonly #now: () => number;

  constructor(options: ClockOption = {}) {
    this.#now = options.now ?? Date.now;
  }

  #live(kind: RecordKind, key: string): Entry | undefined {
    const id = `${kind}:${key}`;
    const entry = this.#entries.get(id);
    if (entry && entry.expiresAt !== null && entry.expiresAt <= this.#now()) {
      this.#entries.delete(id);
      return undefined;
    }
    return entry;
  }

  async get(kind: RecordKind, key: string): Promise<StoredRecord | null> {
    const entry = this.#live(kind, key);
    return entry ? { ...entry } : null;
  }

  async put(kind: RecordKind, key: string, value: string, expiresAt: number | null): Promise<void> {
    this.#entries.set(`${kind}:${key}`, { value, expiresAt, consumedAt: null });
  }

  async delete(kind: RecordKind, key: string): Promise<void> {
    this.#entries.delete(`${kind}:${key}`);
  }

  async consume(kind: RecordKind, key: string, now: number): Promise<ConsumeResult> {
    const entry = this.#live(kind, key);
    if (!entry) return { status: 'missing' };
    if (entry.consumedAt !== null) {
      return { status: 'already_consumed', value: entry.value, consumedAt: entry.consumedAt };
    }
    entry.consumedAt = now;
    return { status: 'consumed', value: entry.value };
  }

  async increment(kind: RecordKind, key: string, expiresAt: number): Promise<number> {
    const entry = this.#live(kind, key);
    if (!entry) {
      this.#entries.set(`${kind}:${key}`, { value: '1', expiresAt, consumedAt: null });
      return 1;
    }
    const next = Number.parseInt(entry.value, 10) + 1;
    entry.value = String(next);
    return next;
  }

  async list(kind: RecordKind, options?: ListOptions): Promise<ListPage> {
    const head = `${kind}:`;
    const now = this.#now();
    const records = [...this.#entries]
      .filter(([id]) => id.startsWith(head))
      .map(([id, entry]) => ({ key: id.slice(head.length), ...entry }));
    return pageSorted(records, options, (r) => r.expiresAt === null || r.expiresAt > now);
  }

  async deleteExpired(now: number): Promise<number> {
    let removed = 0;
    for (const [id, entry] of this.#entries) {
      if (entry.expiresAt !== null && entry.expiresAt <= now) {
        this.#entries.delete(id);
        removed++;
      }
    }
    return removed;
  }
}
