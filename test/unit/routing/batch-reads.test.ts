/**
 * `mget` reads through the values-only path (Store.getValues: no result
 * object per key), `mgetDetailed` through getMany: both must give the same
 * values in the caller's order, repeated keys included, with one request
 * per node, and a node that fails answers misses in both.
 */
import { describe, expect, it } from 'vitest';
import { createCache } from '../../../src/index.js';
import { pauseMemoryNode } from '../../../src/testing.js';

describe('mget and mgetDetailed over three nodes', () => {
  it('agree key by key, repeats included, one request per node', async () => {
    const cache = await createCache({ backend: 'memory', nodes: ['a:1', 'b:1', 'c:1'] }, { env: {} });
    try {
      const written = Array.from({ length: 60 }, (_, i) => `k${i}`);
      await cache.mset(written.map((key) => [key, `v:${key}`]));
      // Repeats near and far, and keys never written.
      const keys = ['k3', 'k3', 'absent', ...written, 'k59', 'k0', 'absent', 'k17'];
      const expected = keys.map((key) => (key === 'absent' ? undefined : `v:${key}`));
      const before = cache.stats().requests.total;
      expect(await cache.mget(keys)).toEqual(expected);
      const after = cache.stats().requests.total;
      expect(after - before).toBe(3);
      const detailed = await cache.mgetDetailed(keys);
      expect(detailed.map((result) => result.value)).toEqual(expected);
      expect(detailed.map((result) => result.key)).toEqual(keys);
      expect(detailed.map((result) => result.status)).toEqual(expected.map((value) => (value === undefined ? 'miss' : 'hit')));
    } finally {
      await cache.close();
    }
  });

  it('answer a failed node’s keys as misses, the others as values', async () => {
    const cache = await createCache({ backend: 'memory', nodes: ['a:1', 'b:1', 'c:1'], timeouts: { batchMs: 20, getRetries: 0 } }, { env: {} });
    try {
      const keys = Array.from({ length: 30 }, (_, i) => `k${i}`);
      await cache.mset(keys.map((key) => [key, key]));
      const owners = keys.map((key) => cache.nodeFor(key));
      pauseMemoryNode(cache, 'b:1');
      const values = await cache.mget(keys);
      expect(values).toEqual(keys.map((key, i) => (owners[i] === 'b:1' ? undefined : key)));
      expect(owners.filter((owner) => owner === 'b:1').length).toBeGreaterThan(0);
    } finally {
      await cache.close();
    }
  });
});
