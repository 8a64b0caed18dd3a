/** The local tier over in-process nodes: what it answers, keeps, drops and counts. */
import { describe, expect, it } from 'vitest';
import { createCache, type Clock, type ShardedCache } from '../../../src/index.js';
import { systemClock } from '../../../src/node/clock.js';
import { loadOptions } from '../../../src/config/load.js';
import { ConfigError } from '../../../src/errors.js';
import { pauseMemoryNode } from '../../../src/testing.js';
import { nextEvent } from '../../harness/events.js';

/** The system clock moved forward by `skip` ms: entries expire without waiting. */
function skippingClock(): Clock & { skip: number } {
  const clock = { ...systemClock, skip: 0, now: () => performance.now() + clock.skip };
  return clock;
}

async function withCache(local: Record<string, number>, run: (cache: ShardedCache, clock: ReturnType<typeof skippingClock>) => Promise<void>, extra: Record<string, unknown> = {}): Promise<void> {
  const clock = skippingClock();
  const cache = await createCache({ backend: 'memory', nodes: ['a:1', 'b:1', 'c:1'], local, ...extra }, { env: {}, clock });
  try {
    await run(cache, clock);
  } finally {
    await cache.close();
  }
}

describe('local tier answers', () => {
  it('a key read once is answered from the tier until ttlMs has passed', () =>
    withCache({ ttlMs: 1000 }, async (cache, clock) => {
      await cache.set('k', { n: 1 });
      expect(await cache.get('k')).toEqual({ n: 1 });
      expect(await cache.get('k')).toEqual({ n: 1 });
      expect(cache.stats().local).toMatchObject({ hits: 1, misses: 1, entries: 1 });
      expect(cache.stats().reads.hits).toBe(1);
      clock.skip += 1001;
      expect(await cache.get('k')).toEqual({ n: 1 });
      expect(cache.stats().local).toMatchObject({ hits: 1, misses: 2 });
      expect(cache.stats().reads.hits).toBe(2);
    }));

  it('an entry never outlives the TTL this process wrote the value with (less the second memcached may cut short)', () =>
    withCache({ ttlMs: 60_000 }, async (cache, clock) => {
      await cache.set('short', 'v', { ttl: 3 });
      await cache.mset([['long', 'v']], { ttl: 600 });
      await cache.set('one-second', 'v', { ttl: 1 });
      expect(await cache.mget(['short', 'long', 'one-second'])).toEqual(['v', 'v', 'v']);
      // A one-second TTL may already be over on memcached: not kept at all.
      expect(cache.stats().local).toMatchObject({ misses: 3, entries: 2 });
      expect(await cache.mget(['short', 'long'])).toEqual(['v', 'v']);
      expect(cache.stats().local!.hits).toBe(2);
      clock.skip += 2_500;
      expect(await cache.get('long')).toBe('v');
      expect(cache.stats().local!.hits).toBe(3);
      await cache.get('short');
      expect(cache.stats().local).toMatchObject({ hits: 3, misses: 4 });
      // A load's write-back is noted the same way.
      let loads = 0;
      const load = async () => ++loads;
      await cache.getOrLoad('loaded', load, { ttl: 2 });
      expect(await cache.getOrLoad('loaded', load, { ttl: 2 })).toBe(1);
      const kept = cache.stats().local!.misses;
      expect(await cache.getOrLoad('loaded', load, { ttl: 2 })).toBe(1);
      expect(cache.stats().local!.misses).toBe(kept);
      clock.skip += 1_100;
      expect(await cache.getOrLoad('loaded', load, { ttl: 2 })).toBe(1);
      expect(cache.stats().local!.misses).toBe(kept + 1);
      expect(loads).toBe(1);
    }));

  it('mget and mgetDetailed take what the tier holds and read the rest', () =>
    withCache({}, async (cache) => {
      await cache.mset([['a', 1], ['b', 2]]);
      expect(await cache.get('a')).toBe(1);
      expect(await cache.mgetDetailed(['a', 'b', 'nope', 'a'])).toMatchObject([
        { key: 'a', status: 'hit', value: 1 },
        { key: 'b', status: 'hit', value: 2 },
        { key: 'nope', status: 'miss', value: undefined },
        { key: 'a', status: 'hit', value: 1 },
      ]);
      expect(cache.stats().local).toMatchObject({ hits: 2, misses: 3 });
      expect(await cache.mget(['b'])).toEqual([2]);
      expect(cache.stats().local!.hits).toBe(3);
    }));

  it('a loaded value is not kept; the next read keeps what the servers hold', () =>
    withCache({}, async (cache) => {
      let loads = 0;
      expect(await cache.getOrLoad('p', async () => ++loads)).toBe(1);
      expect(cache.stats().local!.entries).toBe(0);
      expect(await cache.getOrLoad('p', async () => ++loads)).toBe(1);
      expect(cache.stats().local!.entries).toBe(1);
      expect(await cache.getOrLoad('p', async () => ++loads)).toBe(1);
      expect(loads).toBe(1);
      expect(cache.stats().local).toMatchObject({ hits: 1, misses: 2 });
      expect(await cache.mgetOrLoad(['p', 'q'], async (keys) => keys.map(() => 'loaded'))).toEqual([1, 'loaded']);
      expect(cache.stats().local!.hits).toBe(2);
    }));
});

describe("this process's changes take effect at once", () => {
  it('set, mset, del, mdel, invalidate, invalidateNamespace and clear', () =>
    withCache({ ttlMs: 600_000 }, async (cache) => {
      const readTwice = async (key: string) => {
        await cache.get(key);
        return cache.get(key);
      };
      await cache.set('k', 'one');
      expect(await readTwice('k')).toBe('one');
      await cache.set('k', 'two');
      expect(await readTwice('k')).toBe('two');
      await cache.mset([['k', 'three']]);
      expect(await readTwice('k')).toBe('three');
      await cache.del('k');
      expect(await readTwice('k')).toBeUndefined();
      await cache.set('k', 'four');
      expect(await readTwice('k')).toBe('four');
      await cache.mdel(['k']);
      expect(await readTwice('k')).toBeUndefined();
      await cache.set('user:1', 'u');
      expect(await readTwice('user:1')).toBe('u');
      await cache.invalidate('user:*');
      expect(await readTwice('user:1')).toBeUndefined();
      const ns = cache.namespace('users');
      await ns.set('1', 'ada');
      await ns.get('1');
      expect(await ns.get('1')).toBe('ada');
      await cache.invalidateNamespace('users');
      expect(await ns.get('1')).toBeUndefined();
      await cache.set('c', 'c');
      expect(await readTwice('c')).toBe('c');
      await cache.clear();
      expect(await readTwice('c')).toBeUndefined();
      expect(cache.stats().local!.entries).toBe(0);
    }));

  it('a write made while a read of the key is out: the read answers what it read, the tier keeps nothing stale', () =>
    withCache({ ttlMs: 600_000 }, async (cache) => {
      await cache.set('race', 'old');
      const reading = cache.get('race');
      const writing = cache.set('race', 'new');
      await Promise.all([reading, writing]);
      expect(await cache.get('race')).toBe('new');
      expect(await cache.get('race')).toBe('new');
    }));
});

describe('ring changes', () => {
  it("an ejected node's entries are not served from the tier", () =>
    withCache(
      { ttlMs: 600_000 },
      async (cache) => {
        const key = Array.from({ length: 100 }, (_, i) => `eject:${i}`).find((k) => cache.nodeFor(k) === 'a:1')!;
        const others = Array.from({ length: 200 }, (_, i) => `other:${i}`).filter((k) => cache.nodeFor(k) === 'a:1');
        await cache.set(key, 'held');
        await cache.get(key);
        expect(cache.stats().local!.entries).toBe(1);
        const ejected = nextEvent(cache, 'node:ejected');
        pauseMemoryNode(cache, 'a:1');
        for (let i = 0; i < others.length && cache.nodeFor(key) === 'a:1'; i++) await cache.get(others[i]!);
        await ejected;
        const hits = cache.stats().local!.hits;
        expect(await cache.get(key)).toBeUndefined();
        expect(cache.stats().local!.hits).toBe(hits);
        expect(cache.stats().local!.entries).toBe(0);
      },
      { timeouts: { getMs: 20, getRetries: 0 }, health: { failureLimit: 1, retryTimeoutMs: 600_000 } },
    ));
});

describe('local options', () => {
  it('absent means no tier; given, each field defaults; unknown names and bad values are refused', async () => {
    expect((await loadOptions({ backend: 'memory', nodes: ['a:1'] }, {})).local).toBeUndefined();
    expect((await loadOptions({ backend: 'memory', nodes: ['a:1'], local: {} }, {})).local).toEqual({ maxEntries: 10_000, maxBytes: 64 << 20, ttlMs: 1000, graceMs: 0, heartbeatMs: 250 });
    await expect(loadOptions({ backend: 'memory', nodes: ['a:1'], local: { ttl: 5 } as never }, {})).rejects.toThrow(/local\.ttl: unknown option/);
    await expect(loadOptions({ backend: 'memory', nodes: ['a:1'], local: { ttlMs: 0 } }, {})).rejects.toBeInstanceOf(ConfigError);
    await expect(loadOptions({ backend: 'memory', nodes: ['a:1'], local: { graceMs: -1 } }, {})).rejects.toThrow(/local\.graceMs/);
    await expect(loadOptions({ backend: 'memory', nodes: ['a:1'], local: 'yes' as never }, {})).rejects.toThrow(/local: expected an object/);
    const fromEnv = await loadOptions(undefined, {
      SHARDCACHE_BACKEND: 'memory',
      SHARDCACHE_NODES: 'a:1',
      SHARDCACHE_LOCAL_MAX_ENTRIES: '500',
      SHARDCACHE_LOCAL_MAX_BYTES: '1048576',
      SHARDCACHE_LOCAL_TTL_MS: '250',
      SHARDCACHE_LOCAL_GRACE_MS: '5000',
      SHARDCACHE_LOCAL_HEARTBEAT_MS: '100',
    });
    expect(fromEnv.local).toEqual({ maxEntries: 500, maxBytes: 1_048_576, ttlMs: 250, graceMs: 5000, heartbeatMs: 100 });
    const cache = await createCache({ backend: 'memory', nodes: ['a:1'] }, { env: {} });
    expect(cache.stats().local).toBeUndefined();
    expect(cache.health().local).toBeUndefined();
    await cache.close();
  });
});

describe('local options from a JSON file', () => {
  it('reads the local group like any other', async () => {
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'shardcache-local-'));
    try {
      const file = join(dir, 'cache.json');
      writeFileSync(file, JSON.stringify({ backend: 'memory', nodes: ['a:1'], local: { maxEntries: 7, ttlMs: 42 } }));
      expect((await loadOptions(file, {})).local).toEqual({ maxEntries: 7, maxBytes: 64 << 20, ttlMs: 42, graceMs: 0, heartbeatMs: 250 });
      writeFileSync(file, JSON.stringify({ backend: 'memory', nodes: ['a:1'], local: { maxBytes: 'big' } }));
      await expect(loadOptions(file, {})).rejects.toThrow(/local\.maxBytes/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
