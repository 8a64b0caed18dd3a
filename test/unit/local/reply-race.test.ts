/**
 * The read-reply vs invalidation race, driven by hand: the layer below the
 * tier answers only when the test says so, and the invalidation arrives
 * while the read is out (on a real pool this ordering is rare on loopback,
 * so it is forced here). The old answer goes to the caller but is not kept.
 */
import { describe, expect, it } from 'vitest';
import type { LocalCounters } from '../../../src/counters.js';
import { LocalTier } from '../../../src/local/local-tier.js';
import { systemClock } from '../../../src/node/clock.js';
import type { CacheNode } from '../../../src/node/node.js';
import { Ring } from '../../../src/ring/ring.js';
import type { KeyResult, LoadingStore } from '../../../src/store.js';

function handDriven() {
  const pending: ((value: unknown) => void)[] = [];
  const answer = () => new Promise<unknown>((resolve) => pending.push(resolve));
  const inner: LoadingStore = {
    get: () => answer(),
    getMany: async (keys) => Promise.all(keys.map(async (key): Promise<KeyResult> => ({ key, status: 'hit', value: await answer(), node: 'n:1' }))),
    getValues: async (keys) => Promise.all(keys.map(() => answer())),
    set: async () => {},
    setMany: async () => {},
    del: async () => true,
    delMany: async () => {},
    getOrLoad: async () => (await answer()) as never,
    mgetOrLoad: async (keys) => Promise.all(keys.map(() => answer())) as never,
  };
  const node = { address: 'n:1', host: 'n', port: 1, weight: 1 } as unknown as CacheNode;
  const ring = Ring.build([node], { algorithm: 'ketama', compat: 'libmemcached', keyHash: 'md5', hashTag: undefined, pointsPerServer: 160 });
  const counts: LocalCounters = { hits: 0, misses: 0, staleHits: 0, invalidations: 0, evictions: 0, entries: 0, bytes: 0, untrackedNodes: [] };
  const tier = new LocalTier({ maxEntries: 10, maxBytes: 10_000, ttlMs: 60_000, graceMs: 0 }, { inner, membership: { ring }, clock: systemClock, counts, sizeOf: () => 1 });
  tier.requireTracking([node]);
  const stream = tier.trackingListener(node);
  stream.tracked();
  const reply = (value: unknown) => pending.shift()!(value);
  return { tier, stream, reply, counts };
}

describe('a reply that arrives after the invalidation of its key', () => {
  for (const call of ['get', 'getMany', 'getOrLoad', 'mgetOrLoad'] as const) {
    it(`${call}: answered, not kept`, async () => {
      const { tier, stream, reply, counts } = handDriven();
      const read =
        call === 'get' ? tier.get('k') : call === 'getMany' ? tier.getMany(['k']) : call === 'getOrLoad' ? tier.getOrLoad('k', () => 'loaded', 60) : tier.mgetOrLoad(['k'], () => ['loaded'], 60);
      await Promise.resolve();
      stream.invalidated(['k']);
      reply('old');
      await read;
      expect(counts.entries).toBe(0);
      // The next read goes below and is kept.
      const again = tier.get('k');
      reply('new');
      expect(await again).toBe('new');
      expect(counts.entries).toBe(1);
      expect(await tier.get('k')).toBe('new');
      expect(counts.hits).toBe(1);
    });
  }

  it('a reply out while tracking comes on, or goes and comes back, is not kept', async () => {
    const { tier, stream, reply, counts } = handDriven();
    const read = tier.get('k');
    stream.untracked();
    stream.tracked();
    reply('sent before tracking');
    await read;
    expect(counts.entries).toBe(0);
  });

  it('a flush drops what the node supplied', async () => {
    const { tier, stream, reply, counts } = handDriven();
    const read = tier.get('k');
    reply('v');
    await read;
    expect(counts.entries).toBe(1);
    stream.flushed();
    expect(counts.entries).toBe(0);
    expect(counts.invalidations).toBe(1);
  });
});
