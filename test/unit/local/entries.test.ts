/** The local tier's store and its placeholders for reads in flight (Redis's client-side caching race). */
import { describe, expect, it } from 'vitest';
import type { LocalCounters } from '../../../src/counters.js';
import { LocalEntries, type LocalEntry } from '../../../src/local/entries.js';

function counts(): LocalCounters {
  return { hits: 0, misses: 0, staleHits: 0, invalidations: 0, evictions: 0, entries: 0, bytes: 0, untrackedNodes: [] };
}
const entry = (value: unknown, node = 'n1', freshUntil = 100, staleUntil = 100): LocalEntry<string> => ({ value, node, freshUntil, staleUntil });

describe('reads in flight (placeholders)', () => {
  it('a read whose key is invalidated while it is out is not kept; one that starts after is', () => {
    const entries = new LocalEntries<string>({ maxEntries: 10, maxBytes: 1000 }, counts());
    const early = entries.begin('k', false);
    entries.invalidate('k');
    const late = entries.begin('k', false);
    expect(entries.end('k', early, false)).toBe(false);
    expect(entries.end('k', late, false)).toBe(true);
  });

  it('an invalidation of another key, or of the key when no read is out, spoils nothing', () => {
    const entries = new LocalEntries<string>({ maxEntries: 10, maxBytes: 1000 }, counts());
    entries.invalidate('k');
    const since = entries.begin('k', false);
    entries.invalidate('other');
    expect(entries.end('k', since, false)).toBe(true);
  });

  it('a joinable read counts from the oldest joinable read of its key still out', () => {
    const entries = new LocalEntries<string>({ maxEntries: 10, maxBytes: 1000 }, counts());
    const first = entries.begin('k', true);
    entries.invalidate('k');
    // Started after the invalidation, but it may be answered by the first read's load.
    const joined = entries.begin('k', true);
    expect(entries.end('k', joined, true)).toBe(false);
    expect(entries.end('k', first, true)).toBe(false);
    const fresh = entries.begin('k', true);
    expect(entries.end('k', fresh, true)).toBe(true);
  });

  it('spoilReads, clear and dropFrom spoil every read out now', () => {
    const entries = new LocalEntries<string>({ maxEntries: 10, maxBytes: 1000 }, counts());
    for (const spoil of [() => entries.spoilReads(), () => entries.clear(), () => entries.dropFrom(() => true)]) {
      const since = entries.begin('k', false);
      spoil();
      expect(entries.end('k', since, false)).toBe(false);
    }
  });

  it('invalidateWhere drops matching entries and spoils matching reads only', () => {
    const entries = new LocalEntries<string>({ maxEntries: 10, maxBytes: 1000 }, counts());
    entries.store('user:1', entry('a'), 1);
    entries.store('item:1', entry('b'), 1);
    const user = entries.begin('user:2', false);
    const item = entries.begin('item:2', false);
    entries.invalidateWhere((key) => key.startsWith('user:'));
    expect(entries.lookup('user:1')).toBeUndefined();
    expect(entries.lookup('item:1')?.value).toBe('b');
    expect(entries.end('user:2', user, false)).toBe(false);
    expect(entries.end('item:2', item, false)).toBe(true);
  });
});

describe('bounds and demotion', () => {
  it('counts bytes as value size plus key length, evicts past maxBytes and counts evictions', () => {
    const c = counts();
    const entries = new LocalEntries<string>({ maxEntries: 100, maxBytes: 100 }, c);
    for (let i = 0; i < 10; i++) entries.store(`k${i}`, entry(i), 18);
    expect(c.bytes).toBeLessThanOrEqual(100);
    expect(c.entries).toBe(5);
    expect(c.evictions).toBe(5);
    expect(entries.lookup('k0')).toBeUndefined();
    expect(entries.lookup('k9')?.value).toBe(9);
  });

  it('evicts past maxEntries', () => {
    const c = counts();
    const entries = new LocalEntries<string>({ maxEntries: 3, maxBytes: 1_000_000 }, c);
    for (let i = 0; i < 5; i++) entries.store(`k${i}`, entry(i), 1);
    expect(c.entries).toBe(3);
    expect(c.evictions).toBe(2);
  });

  it("demote without grace drops the node's entries; with grace it makes them stale for at most graceMs", () => {
    const entries = new LocalEntries<string>({ maxEntries: 10, maxBytes: 1000 }, counts());
    entries.store('a', entry('a', 'n1', 500, 900), 1);
    entries.store('b', entry('b', 'n2', 500, 900), 1);
    entries.demote((node) => node === 'n1', 100, 0);
    expect(entries.lookup('a')).toBeUndefined();
    expect(entries.lookup('b')?.freshUntil).toBe(500);
    entries.demote((node) => node === 'n2', 100, 50);
    expect(entries.lookup('b')).toMatchObject({ freshUntil: 100, staleUntil: 150 });
  });
});
