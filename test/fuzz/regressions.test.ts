/**
 * Plain regression tests for the counterexamples the fuzz properties found
 * (operations.test.ts, options.test.ts), each as fast-check shrank it. Each
 * bug was fixed in src/ with a typed error or a lossless encoding; these keep
 * it fixed without depending on the generators or the seed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCache, type ShardedCache } from '../../src/index.js';

const GENEROUS = { getMs: 2000, setMs: 2000, batchMs: 2000, connectMs: 2000 };

describe('memory backend', () => {
  let cache: ShardedCache;
  beforeAll(async () => {
    cache = await createCache({ backend: 'memory', nodes: ['mem-a:1', 'mem-b:2', 'mem-c:3'], timeouts: GENEROUS }, { env: {} });
  });
  afterAll(async () => {
    await cache?.close();
  });

  it('reads back a string value holding a lone surrogate as that string (was U+FFFD)', async () => {
    // Counterexample: set("!", "\ud800") read back "\ufffd".
    await cache.set('!', '\ud800');
    expect(await cache.get('!')).toBe('\ud800');
    await cache.mset([['a', 'x\udbff'], ['b', '\udc00y']]);
    expect(await cache.mget(['a', 'b'])).toEqual(['x\udbff', '\udc00y']);
    // A well-formed string is still stored as its plain UTF-8 bytes.
    expect(await cache.getOrLoad('c', () => '\ud83d\ude00')).toBe('\ud83d\ude00');
    expect(await cache.get('c')).toBe('\ud83d\ude00');
  });
});
