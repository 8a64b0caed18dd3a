/**
 * `cache.setNodes` on in-process nodes: which keys change owner (only those
 * the change moves, none between nodes that keep their place), bad input
 * changing nothing, and the pool the reports read following the change.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, createCache, type ShardedCache } from '../../../src/index.js';

const KEYS = Array.from({ length: 4000 }, (_, i) => `item:${i}`);
const NODES = ['10.0.0.1:11211', '10.0.0.2:11211', '10.0.0.3:11211', '10.0.0.4:11211'];
let cache: ShardedCache;
afterEach(() => cache.close());

const owners = () => KEYS.map((key) => cache.nodeFor(key));

describe('setNodes (in-process nodes)', () => {
  it('a node that joins takes keys only onto itself, about its share', async () => {
    cache = await createCache({ backend: 'memory', nodes: NODES.slice(0, 3) }, { env: {} });
    const before = owners();
    const announced = new Promise((resolve) => cache.events.once('nodes:changed', resolve));
    const changes = await cache.setNodes(NODES);
    expect(changes).toEqual({ added: [NODES[3]], removed: [], reweighted: [] });
    expect(await announced).toEqual({ ...changes, nodes: 4 });
    const after = owners();
    const moved = KEYS.filter((_, i) => before[i] !== after[i]);
    expect(moved.every((key) => cache.nodeFor(key) === NODES[3])).toBe(true);
    expect(moved.length / KEYS.length).toBeGreaterThan(0.15);
    expect(moved.length / KEYS.length).toBeLessThan(0.35);
    expect(cache.stats().nodes.map((node) => node.address).sort()).toEqual([...NODES].sort());
  });

  it('a node that leaves gives away only its keys; the others keep theirs', async () => {
    cache = await createCache({ backend: 'memory', nodes: NODES }, { env: {} });
    const before = owners();
    expect(await cache.setNodes(NODES.filter((node) => node !== NODES[1]))).toEqual({ added: [], removed: [NODES[1]], reweighted: [] });
    const after = owners();
    KEYS.forEach((_, i) => {
      if (before[i] !== NODES[1]) expect(after[i]).toBe(before[i]);
      else expect(after[i]).not.toBe(NODES[1]);
    });
    expect(cache.stats().nodes.map((node) => node.address)).not.toContain(NODES[1]);
  });

  it('a re-weighted node gains (or loses) keys; none move between the others', async () => {
    cache = await createCache({ backend: 'memory', nodes: NODES }, { env: {} });
    const before = owners();
    const heavier = NODES.map((node) => (node === NODES[2] ? `${node}:3` : node));
    expect(await cache.setNodes(heavier)).toEqual({ added: [], removed: [], reweighted: [NODES[2]] });
    const after = owners();
    const moved = KEYS.filter((_, i) => before[i] !== after[i]);
    expect(moved.length).toBeGreaterThan(KEYS.length / 10);
    expect(moved.every((key) => cache.nodeFor(key) === NODES[2])).toBe(true);
    await cache.setNodes(NODES);
    expect(owners()).toEqual(before);
    expect(await cache.setNodes(NODES)).toEqual({ added: [], removed: [], reweighted: [] });
  });

  it('with copies, a key keeps its other copies in order when a node leaves', async () => {
    cache = await createCache({ backend: 'memory', nodes: NODES, replication: { copies: 2 } }, { env: {} });
    await cache.mset(KEYS.map((key) => [key, key]));
    const before = KEYS.map((key) => cache.nodesFor(key));
    await cache.setNodes(NODES.slice(1));
    KEYS.forEach((key, i) => {
      const kept = before[i]!.filter((node) => node !== NODES[0]);
      expect(cache.nodesFor(key).slice(0, kept.length)).toEqual(kept);
    });
    // Every key had another copy: nothing is lost.
    expect(await cache.mget(KEYS)).toEqual(KEYS);
  });

  it('refuses a bad list, naming the node, and changes nothing', async () => {
    cache = await createCache({ backend: 'memory', nodes: NODES.slice(0, 3), replication: { copies: 2 } }, { env: {} });
    const before = owners();
    for (const bad of [[], ['nope'], [NODES[0], NODES[0]], [NODES[0]]]) {
      await expect(cache.setNodes(bad as string[])).rejects.toBeInstanceOf(ConfigError);
    }
    await expect(cache.setNodes(['10.0.0.1:0'])).rejects.toMatchObject({ option: 'nodes[0]' });
    expect(owners()).toEqual(before);
  });
});
