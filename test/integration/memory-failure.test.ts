/**
 * In-process nodes paused through shardcache/testing: the same failure path
 * as a SIGSTOPped server (deadlines, ejection, fallback, probe, return).
 */
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { createCache, InvalidArgumentError } from '../../src/index.js';
import { pauseMemoryNode, resumeMemoryNode } from '../../src/testing.js';

describe('pausing an in-process node', () => {
  it('is a hung node: reads fall back, it is ejected, and returns after resume', async () => {
    const cache = await createCache({ backend: 'memory', nodes: ['a:1', 'b:2', 'c:3'], health: { retryTimeoutMs: 50 } }, { env: {} });
    try {
      const key = 'k:1';
      const owner = cache.nodeFor(key);
      await cache.set(key, 'cached');
      const ejected = once(cache.events, 'node:ejected');
      pauseMemoryNode(cache, owner);
      expect(await cache.getOrLoad(key, () => 'from database')).toBe('from database');
      expect((await ejected)[0]).toMatchObject({ node: owner });
      expect(cache.nodeFor(key)).not.toBe(owner);

      const readmitted = once(cache.events, 'node:readmitted');
      resumeMemoryNode(cache, owner);
      expect((await readmitted)[0]).toMatchObject({ node: owner });
      expect(cache.nodeFor(key)).toBe(owner);
    } finally {
      await cache.close();
    }
  });

  it('rejects addresses that are not in-process nodes of the cache', async () => {
    const cache = await createCache({ backend: 'memory', nodes: ['a:1'] }, { env: {} });
    expect(() => pauseMemoryNode(cache, 'z:9')).toThrow(InvalidArgumentError);
    await cache.close();
  });
});
