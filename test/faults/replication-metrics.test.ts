/**
 * Stale marks counted after real events, on Redis and Memcached: two copies
 * over three nodes, one node hung (SIGSTOP) but kept on the ring
 * (`maxEjectedFraction: 0`), so writes of its keys time out there and mark
 * it stale; reads pass over it; once resumed, the repairs clear every mark.
 * stats(), health() and the prom-client metrics report the same numbers.
 */
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCache } from '../../src/index.js';
import { parseExposition, sampleValue } from '../harness/prometheus.js';
import { startMemcached, startRedis, stopAll, type ServerProcess } from '../harness/servers.js';

const KEYS = Array.from({ length: 60 }, (_, i) => `mark:${i}`);
/** Bounded wait for the out-of-band repairs: 50 ms apart. */
const POLLS = 200;

describe.each([
  ['redis', startRedis],
  ['memcached', startMemcached],
] as const)('%s: stale marks in stats(), health() and metrics', (backend, start) => {
  let servers: ServerProcess[];
  beforeAll(async () => {
    servers = await Promise.all([start(), start(), start()]);
  });
  afterAll(stopAll);

  it('marks set while a copy hangs, reads that skip it, repairs once it is back', async () => {
    const registry = new Registry();
    const cache = await createCache(
      {
        backend,
        nodes: servers.map((s) => s.address),
        replication: { copies: 2 },
        timeouts: { getMs: 100, setMs: 100, batchMs: 200, connectMs: 500 },
        health: { maxEjectedFraction: 0, retryTimeoutMs: 200 },
        breaker: { volumeThreshold: 1000 },
        metrics: { registry },
      },
      { env: {} },
    );
    try {
      const hung = servers[0]!;
      const onHung = KEYS.filter((key) => cache.nodesFor(key).includes(hung.address));
      const ownedByHung = KEYS.filter((key) => cache.nodeFor(key) === hung.address);
      expect(ownedByHung.length).toBeGreaterThan(5);
      expect(cache.stats().replication).toEqual({ staleMarks: { set: 0, repaired: 0, skippedReads: 0 }, warmup: { tried: 0, fromPrevious: 0, filled: 0, raced: 0 } });

      hung.pause();
      await Promise.all(KEYS.map((key) => cache.set(key, `v1 of ${key}`)));
      expect(cache.stats().replication!.staleMarks.set).toBe(onHung.length);
      // The owner is marked for these: each read passes over it to the next copy.
      expect(await Promise.all(ownedByHung.map((key) => cache.get(key)))).toEqual(ownedByHung.map((key) => `v1 of ${key}`));
      expect(cache.stats().replication!.staleMarks.skippedReads).toBe(ownedByHung.length);

      hung.resume();
      let marks = cache.stats().replication!.staleMarks;
      for (let poll = 0; poll < POLLS && marks.repaired < marks.set; poll++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        marks = cache.stats().replication!.staleMarks;
      }
      expect(marks).toEqual({ set: onHung.length, repaired: onHung.length, skippedReads: ownedByHung.length });
      expect(cache.health().replication).toEqual(cache.stats().replication);
      const samples = parseExposition(await registry.metrics());
      expect(sampleValue(samples, 'shardcache_stale_marks_total')).toBe(marks.set);
      expect(sampleValue(samples, 'shardcache_stale_marks_repaired_total')).toBe(marks.repaired);
      expect(sampleValue(samples, 'shardcache_stale_reads_skipped_total')).toBe(marks.skippedReads);
      expect(sampleValue(samples, 'shardcache_warmup_fills_tried_total')).toBe(0);
      // Repaired: reads go to the hung node again. The repair deleted what it missed, so its own keys
      // miss there (or read the write it applied late, from a connection replaced meanwhile); no other value.
      const after = await cache.mget(KEYS);
      expect(KEYS.filter((key, i) => after[i] !== `v1 of ${key}` && !(after[i] === undefined && ownedByHung.includes(key)))).toEqual([]);
    } finally {
      if (servers[0]!.paused) servers[0]!.resume();
      await cache.close();
    }
    const plain = new Registry();
    const without = await createCache({ backend, nodes: servers.map((s) => s.address), metrics: { registry: plain } }, { env: {} });
    expect(without.stats().replication).toBeUndefined();
    expect(await plain.metrics()).not.toContain('shardcache_stale_');
    await without.close();
  });
});
