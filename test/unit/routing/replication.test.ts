/**
 * Replication on in-process nodes (a paused node hangs like a SIGSTOPped
 * server): a write that one copy misses succeeds and that copy is not read
 * for the key until repaired; a write no copy takes is a WriteFailedError;
 * 'spread' reads use every copy; 'primary' reads use the owner only.
 */
import diagnostics from 'node:diagnostics_channel';
import { afterEach, describe, expect, it } from 'vitest';
import type { OperationMessage } from '../../../src/diagnostics.js';
import { createCache, WriteFailedError, type ShardcacheOptions, type ShardedCache } from '../../../src/index.js';
import { pauseMemoryNode, resumeMemoryNode } from '../../../src/testing.js';

const NODES = ['10.0.0.1:11211', '10.0.0.2:11211', '10.0.0.3:11211'];
const OPTIONS: ShardcacheOptions = {
  backend: 'memory',
  nodes: NODES,
  replication: { copies: 2 },
  timeouts: { getMs: 30, setMs: 30, batchMs: 60 },
  // Nothing is ejected here: the marks alone keep the stale copy out of reads.
  health: { failureLimit: 1000, retryTimeoutMs: 50 },
  breaker: { volumeThreshold: 100_000 },
};
let cache: ShardedCache;
afterEach(() => cache.close());

async function readsBy(work: () => Promise<unknown>): Promise<string[]> {
  const nodes: string[] = [];
  const listener = (message: unknown) => {
    const { operation, node } = message as OperationMessage;
    if (operation === 'get' || operation === 'getMany') nodes.push(node);
  };
  diagnostics.subscribe('shardcache:operation', listener);
  try {
    await work();
  } finally {
    diagnostics.unsubscribe('shardcache:operation', listener);
  }
  return nodes;
}

describe('replication (in-process nodes)', () => {
  it('a copy that missed a write is not read for that key until its repair, then is again', async () => {
    cache = await createCache(OPTIONS, { env: {} });
    const key = 'k:1';
    const [owner, second] = cache.nodesFor(key) as [string, string];
    await cache.set(key, 'old');
    pauseMemoryNode(cache, owner);
    await cache.set(key, 'new'); // the owner misses its deadline; the second copy took it
    // Resumed, the owner applies the queued write late, but until it is repaired reads go to the second copy.
    resumeMemoryNode(cache, owner);
    const early = await readsBy(async () => expect(await cache.get(key)).toBe('new'));
    expect(early).toEqual([second]);
    let later: string[] = [];
    for (let attempt = 0; attempt < 100 && !later.includes(owner); attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      later = await readsBy(() => cache.get(key));
    }
    expect(later).toEqual([owner]);
    // The repair deleted the owner's copy: a miss there, not an old value.
    expect(await cache.get(key)).toBeUndefined();
  });

  it('a write that reaches no copy rejects with WriteFailedError carrying each copy error', async () => {
    cache = await createCache(OPTIONS, { env: {} });
    const key = 'k:2';
    for (const node of cache.nodesFor(key)) pauseMemoryNode(cache, node);
    const error = await cache.set(key, 'v').then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(WriteFailedError);
    expect(((error as Error).cause as AggregateError).errors).toHaveLength(2);
    await expect(cache.mset([[key, 'v']])).rejects.toBeInstanceOf(WriteFailedError);
    for (const node of cache.nodesFor(key)) resumeMemoryNode(cache, node);
    // Neither copy is trusted for the key now (each may hold 'v' or not): a miss, until a repair deletes it.
    expect(await cache.get(key)).toBeUndefined();
  });

  it("'spread' reads take every copy in turn; 'primary' reads only the owner", async () => {
    cache = await createCache({ ...OPTIONS, replication: { copies: 3, reads: 'spread' } }, { env: {} });
    await cache.set('hot', 1);
    const spread = await readsBy(async () => {
      for (let i = 0; i < 9; i++) await cache.get('hot');
    });
    expect(new Set(spread)).toEqual(new Set(NODES));
    await cache.close();
    cache = await createCache({ ...OPTIONS, replication: { copies: 3, reads: 'primary' } }, { env: {} });
    await cache.set('hot', 1);
    const primary = await readsBy(async () => {
      for (let i = 0; i < 9; i++) await cache.get('hot');
    });
    expect(new Set(primary)).toEqual(new Set([cache.nodeFor('hot')]));
  });

  it('a read fails over to the next copy when the owner hangs, for get and mget', async () => {
    cache = await createCache(OPTIONS, { env: {} });
    const keys = Array.from({ length: 30 }, (_, i) => `f:${i}`);
    await cache.mset(keys.map((key) => [key, key]));
    pauseMemoryNode(cache, NODES[0]!);
    try {
      expect(await Promise.all(keys.map((key) => cache.get(key)))).toEqual(keys);
      expect(await cache.mget(keys)).toEqual(keys);
    } finally {
      resumeMemoryNode(cache, NODES[0]!);
    }
  });

  it('past returnJournalLimit marks, a node is read for no key until a flush repairs it', async () => {
    cache = await createCache({ ...OPTIONS, health: { ...OPTIONS.health, returnJournalLimit: 2 } }, { env: {} });
    const owned = Array.from({ length: 400 }, (_, i) => `o:${i}`).filter((key) => cache.nodeFor(key) === NODES[0]);
    const [untouched, ...written] = owned;
    await cache.mset(owned.map((key) => [key, 'before']));
    pauseMemoryNode(cache, NODES[0]!);
    await Promise.all(written.slice(0, 5).map((key) => cache.set(key, 'after')));
    resumeMemoryNode(cache, NODES[0]!);
    // Even a key it missed no write of is read elsewhere now: the node's marks overflowed.
    expect(await readsBy(() => cache.get(untouched!))).not.toContain(NODES[0]);
    expect(await cache.mget(written.slice(0, 5))).toEqual(written.slice(0, 5).map(() => 'after'));
    let detail = await cache.mgetDetailed([untouched!]);
    for (let attempt = 0; attempt < 100 && detail[0]!.node !== NODES[0]; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      detail = await cache.mgetDetailed([untouched!]);
    }
    // Flushed, then trusted again: it answers, and holds nothing from before.
    expect(detail[0]).toMatchObject({ node: NODES[0], status: 'miss' });
  });

  it('a refresh-ahead entry goes to every copy, and each copy answers it bare to get, stamped to the loader', async () => {
    cache = await createCache(OPTIONS, { env: {} });
    let loads = 0;
    const load = () =>
      cache.getOrLoad(
        'ra',
        async () => {
          loads++;
          return { n: 1 };
        },
        { ttl: 60, refreshAhead: true },
      );
    expect(await load()).toEqual({ n: 1 });
    // The write-back is best effort and not awaited: wait (bounded) for it.
    for (let attempt = 0; attempt < 100 && (await cache.get('ra')) === undefined; attempt++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(await cache.get('ra')).toEqual({ n: 1 });
    const [owner] = cache.nodesFor('ra') as [string, string];
    pauseMemoryNode(cache, owner);
    try {
      expect(await cache.get('ra')).toEqual({ n: 1 }); // from the second copy
    } finally {
      resumeMemoryNode(cache, owner);
    }
    expect(await load()).toEqual({ n: 1 });
    expect(loads).toBe(1);
  });
});
