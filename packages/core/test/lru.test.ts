import { describe, expect, it } from 'vitest';
import { ExpiringLru } from '../src/crypto/lru.js';

describe('ExpiringLru', () => {
  it('stays within its capacity and drops the least recently inserted first', () => {
    const lru = new ExpiringLru<number, number>(10, () => 0);
    for (let i = 0; i < 25; i++) lru.set(i, i, 1);
    expect(lru.size).toBe(10);
    expect(lru.get(14)).toBeUndefined();
    for (let i = 15; i < 25; i++) expect(lru.get(i)).toBe(i);
  });

  it('keeps an entry that is used at least once per half its capacity of insertions', () => {
    const lru = new ExpiringLru<string, string>(8, () => 0);
    lru.set('hot', 'kept', 1);
    for (let i = 0; i < 1000; i++) {
      lru.set(`cold-${i}`, 'x', 1);
      // Used every 4th insertion (half the capacity): never the one to go.
      if (i % 4 === 3) expect(lru.get('hot')).toBe('kept');
    }
    expect(lru.size).toBe(8);
  });

  it('lets an entry go once it stops being used, even if it was used often before', () => {
    const lru = new ExpiringLru<string, string>(8, () => 0);
    lru.set('was-hot', 'v', 1);
    for (let i = 0; i < 20; i++) expect(lru.get('was-hot')).toBe('v');
    for (let i = 0; i < 8; i++) lru.set(`new-${i}`, 'x', 1);
    expect(lru.get('was-hot')).toBeUndefined();
  });

  it('never returns an expired entry, and forgets it', () => {
    let now = 0;
    const lru = new ExpiringLru<string, string>(4, () => now);
    lru.set('a', 'v', 10);
    expect(lru.get('a')).toBe('v');
    now = 10;
    expect(lru.get('a')).toBeUndefined();
    expect(lru.size).toBe(0);
  });
});
