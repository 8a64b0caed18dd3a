/**
 * Warm-up on in-process nodes, where pausing a node orders events exactly:
 * a miss on a node that joined is read from the previous owner and added;
 * a delete during warm-up also deletes the previous owner's copy; and a
 * fill racing a delete never brings the deleted value back.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createCache, type ShardedCache } from '../../../src/index.js';
import { pauseMemoryNode, resumeMemoryNode } from '../../../src/testing.js';

const NODES = ['10.0.0.1:11211', '10.0.0.2:11211', '10.0.0.3:11211'];
const JOINING = '10.0.0.4:11211';
const KEYS = Array.from({ length: 400 }, (_, i) => `w:${i}`);
let cache: ShardedCache;
afterEach(() => cache.close());

/** A cache over the pool, warm-up on; deadlines long enough for paused nodes to be resumed first. */
async function joined(): Promise<{ moved: string[]; previousOwner: (key: string) => string }> {
  cache = await createCache({ backend: 'memory', nodes: NODES, timeouts: { getMs: 5000, setMs: 5000, batchMs: 5000 }, warmup: { durationMs: 60_000, ttlSeconds: 60 } }, { env: {} });
  await cache.mset(KEYS.map((key) => [key, `old ${key}`]));
  const before = new Map(KEYS.map((key) => [key, cache.nodeFor(key)]));
  await cache.setNodes([...NODES, JOINING]);
  const moved = KEYS.filter((key) => cache.nodeFor(key) === JOINING);
  expect(moved.length).toBeGreaterThan(20);
  return { moved, previousOwner: (key) => before.get(key)! };
}

describe('warm-up after a join (in-process nodes)', () => {
  it('answers a miss on the new node from the previous owner, and adds it there', async () => {
    const { moved } = await joined();
    expect(await cache.get(moved[0]!)).toBe(`old ${moved[0]}`);
    expect(await cache.mget(moved.slice(1))).toEqual(moved.slice(1).map((key) => `old ${key}`));
    const detail = await cache.mgetDetailed(moved);
    expect(detail.every((result) => result.node === JOINING && result.status === 'hit')).toBe(true);
  });

  it('a delete during warm-up deletes the previous owner copy too, so nothing reads it back', async () => {
    const { moved } = await joined();
    await cache.del(moved[0]!);
    await cache.mdel(moved.slice(1, 10));
    expect(await cache.get(moved[0]!)).toBeUndefined();
    expect(await cache.mget(moved.slice(1, 10))).toEqual(moved.slice(1, 10).map(() => undefined));
  });

  it('a fill racing a delete does not add the deleted value', async () => {
    const { moved, previousOwner } = await joined();
    const key = moved[0]!;
    const source = previousOwner(key);
    pauseMemoryNode(cache, source);
    const read = cache.get(key); // misses on the new node, then waits on the paused previous owner
    await new Promise((resolve) => setImmediate(resolve));
    const deletion = cache.del(key); // done on the new node; its retirement queues behind the read on the previous owner
    await new Promise((resolve) => setImmediate(resolve));
    resumeMemoryNode(cache, source);
    expect(await read).toBe(`old ${key}`); // read before the delete reached the previous owner
    await deletion;
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await cache.get(key)).toBeUndefined();
  });
});
