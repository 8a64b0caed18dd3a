/** The local tier in stats(), health() and the prom-client metrics: the same numbers everywhere. */
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createCache } from '../../../src/index.js';
import { parseExposition, sampleValue } from '../../harness/prometheus.js';

describe('local tier metrics', () => {
  it('hits, misses, evictions, entries and bytes scrape as stats() reports them; none without a tier', async () => {
    const registry = new Registry();
    const cache = await createCache({ backend: 'memory', nodes: ['a:1', 'b:1'], metrics: { registry }, local: { maxEntries: 2 } }, { env: {} });
    try {
      await cache.mset([['a', 'A'], ['b', 'B'], ['c', 'C']]);
      for (const key of ['a', 'a', 'b', 'c', 'c', 'nope']) await cache.get(key);
      const local = cache.stats().local!;
      expect(local).toMatchObject({ hits: 2, misses: 4, staleHits: 0, invalidations: 0, evictions: 1, entries: 2, hitRate: 0.3333, untrackedNodes: [] });
      expect(local.bytes).toBe(2 * 2);
      expect(cache.health().local).toEqual(local);
      const samples = parseExposition(await registry.metrics());
      expect(sampleValue(samples, 'shardcache_local_hits_total')).toBe(local.hits);
      expect(sampleValue(samples, 'shardcache_local_misses_total')).toBe(local.misses);
      expect(sampleValue(samples, 'shardcache_local_stale_hits_total')).toBe(0);
      expect(sampleValue(samples, 'shardcache_local_invalidations_total')).toBe(0);
      expect(sampleValue(samples, 'shardcache_local_evictions_total')).toBe(local.evictions);
      expect(sampleValue(samples, 'shardcache_local_entries')).toBe(local.entries);
      expect(sampleValue(samples, 'shardcache_local_bytes')).toBe(local.bytes);
    } finally {
      await cache.close();
    }
    const plain = new Registry();
    const without = await createCache({ backend: 'memory', nodes: ['a:1'], metrics: { registry: plain } }, { env: {} });
    expect(await plain.metrics()).not.toContain('shardcache_local_');
    await without.close();
  });
});
