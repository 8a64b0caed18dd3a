/**
 * `cache.setNodes` on a `maglev` ring (in-process nodes): the table is
 * derived from the previous one, so only the keys the change moves change
 * owner, and the pool stays balanced; copies are distinct nodes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createCache, type ShardedCache } from '../../../src/index.js';

const KEYS = Array.from({ length: 6000 }, (_, i) => `item:${i}`);
const NODES = ['10.0.0.1:11211', '10.0.0.2:11211', '10.0.0.3:11211', '10.0.0.4:11211', '10.0.0.5:11211'];
const ring = { algorithm: 'maglev', tableSize: 65_537 } as const;
let cache: ShardedCache;
afterEach(() => cache.close());

const owners = () => KEYS.map((key) => cache.nodeFor(key));

describe('setNodes on a maglev ring', () => {
  it('a node that joins takes keys only onto itself, its share; one that leaves gives away only its own', async () => {
    cache = await createCache({ backend: 'memory', nodes: NODES.slice(0, 4), ring }, { env: {} });
    const start = owners();
    await cache.setNodes(NODES);
    const grown = owners();
    const moved = KEYS.filter((_, i) => start[i] !== grown[i]);
    expect(moved.every((key) => cache.nodeFor(key) === NODES[4])).toBe(true);
    // Ideal share 1/5 = 0.2; sampled over 6,000 keys.
    expect(Math.abs(moved.length / KEYS.length - 0.2)).toBeLessThan(0.03);

    await cache.setNodes(NODES.filter((node) => node !== NODES[1]));
    const shrunk = owners();
    KEYS.forEach((_, i) => {
      if (grown[i] !== NODES[1]) expect(shrunk[i]).toBe(grown[i]);
      else expect(shrunk[i]).not.toBe(NODES[1]);
    });
    const counts = new Map<string, number>();
    for (const owner of shrunk) counts.set(owner, (counts.get(owner) ?? 0) + 1);
    for (const count of counts.values()) expect(Math.abs(count / KEYS.length - 0.25)).toBeLessThan(0.03);
  });

  it('lists distinct copies, the owner first, and serves values written to them', async () => {
    cache = await createCache({ backend: 'memory', nodes: NODES, ring, replication: { copies: 2 } }, { env: {} });
    for (const key of KEYS.slice(0, 300)) {
      const copies = cache.nodesFor(key);
      expect(copies).toHaveLength(2);
      expect(copies[0]).toBe(cache.nodeFor(key));
      expect(copies[1]).not.toBe(copies[0]);
    }
    await cache.mset(KEYS.slice(0, 100).map((key, i) => [key, i]));
    expect(await cache.mget(KEYS.slice(0, 100))).toEqual(KEYS.slice(0, 100).map((_, i) => i));
  });
});
