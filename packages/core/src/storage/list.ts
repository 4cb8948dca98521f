import type { ListedRecord, ListOptions, ListPage } from './types.js';

/** The page size a {@link ListOptions} asks for: 1–1000, default 100. */
export function listLimit(options: ListOptions | undefined): number {
  const limit = options?.limit ?? 100;
  return Math.min(1000, Math.max(1, Math.floor(limit)));
}

/**
 * One page of records held in memory: the keys after `cursor` that start with `prefix`, in code-unit
 * order, so a walk sees each record once. `entries` need not be sorted; expired ones are left out by
 * the caller (`live`). For in-memory storages; others page in their own query language.
 */
export function pageSorted(
  entries: Iterable<ListedRecord>,
  options: ListOptions | undefined,
  live: (record: ListedRecord) => boolean = () => true,
): ListPage {
  const prefix = options?.prefix ?? '';
  const after = options?.cursor;
  const limit = listLimit(options);
  const matching: ListedRecord[] = [];
  for (const record of entries) {
    if (!record.key.startsWith(prefix)) continue;
    if (after !== undefined && record.key <= after) continue;
    if (live(record)) matching.push(record);
  }
  matching.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const records = matching.slice(0, limit);
  const last = records[records.length - 1];
  return { records, cursor: matching.length > limit && last ? last.key : null };
}
