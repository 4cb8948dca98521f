/**
 * A small LRU map with per-entry expiry, for caches that must stay bounded. Recency is kept at the
 * granularity of half the capacity: a hit moves its entry to the newest end only when half the capacity
 * or more was inserted since it was last moved (before that it cannot be next to go), which saves a
 * delete and a re-insert on most hits of a busy cache.
 */
export class ExpiringLru<K, V> {
  readonly #entries = new Map<K, { value: V; expiresAt: number; moved: number }>();
  /** Insertions so far: an entry's `moved` is the count when it last went to the newest end. */
  #inserted = 0;

  constructor(
    readonly maxEntries: number,
    readonly now: () => number,
  ) {}

  get(key: K): V | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.#entries.delete(key);
      return undefined;
    }
    if (this.#inserted - entry.moved >= this.maxEntries / 2) {
      this.#entries.delete(key);
      entry.moved = ++this.#inserted;
      this.#entries.set(key, entry);
    }
    return entry.value;
  }

  set(key: K, value: V, expiresAt: number): void {
    this.#entries.delete(key);
    this.#entries.set(key, { value, expiresAt, moved: ++this.#inserted });
    while (this.#entries.size > this.maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done) break;
      this.#entries.delete(oldest.value);
    }
  }

  delete(key: K): void {
    this.#entries.delete(key);
  }

  /** Deletes every entry whose value matches. */
  deleteWhere(match: (value: V) => boolean): void {
    for (const [key, entry] of this.#entries) if (match(entry.value)) this.#entries.delete(key);
  }

  get size(): number {
    return this.#entries.size;
  }
}
