/**
 * `maxEjectedFraction: 1` with every node failing: one node stays on the
 * ring behind its breaker, so a key always has an owner, reads miss and
 * writes reject typed (before, the empty ring made a write a TypeError).
 */
import { describe, expect, it } from 'vitest';
import { createCache, ShardcacheError } from '../../../src/index.js';
import { pauseMemoryNode } from '../../../src/testing.js';
import { nextEvent } from '../../harness/events.js';

describe('every node down with maxEjectedFraction 1', () => {
  it('ejects all but one node; reads miss and writes reject with a typed error', async () => {
    const nodes = ['a:1', 'b:1', 'c:1'];
    const cache = await createCache(
      { backend: 'memory', nodes, timeouts: { getMs: 20, setMs: 20, getRetries: 0 }, health: { failureLimit: 1, maxEjectedFraction: 1, retryTimeoutMs: 60_000 } },
      { env: {} },
    );
    try {
      const refused = nextEvent(cache, 'node:ejection-refused');
      for (const node of nodes) pauseMemoryNode(cache, node);
      // Enough keys to reach every node, a few rounds so each failure is counted.
      const keys = Array.from({ length: 30 }, (_, i) => `k${i}`);
      for (let round = 0; round < 3; round++) expect(await cache.mget(keys)).toEqual(keys.map(() => undefined));
      await refused;
      expect(cache.health().nodes.filter((n) => n.state === 'ejected')).toHaveLength(2);
      for (const key of keys.slice(0, 5)) {
        const error = await cache.set(key, 'v').then(() => undefined, (e: unknown) => e);
        expect(error).toBeInstanceOf(ShardcacheError);
        expect(await cache.get(key)).toBeUndefined();
      }
    } finally {
      await cache.close();
    }
  });
});
