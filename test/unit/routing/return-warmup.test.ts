/**
 * The end of a returning node's warm-up window, on in-process nodes (a
 * paused node hangs like a SIGSTOPped server): the stand-in copies kept for
 * the window are deleted then, and a stand-in that cannot be reached at that
 * moment is marked stale for them, so no read takes its old copy, until a
 * repair deletes it. (Reads passing over a mark: test/faults/replication-metrics.test.ts.) Real servers: test/faults/return-warmup.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createCache, type ShardedCache } from '../../../src/index.js';
import { pauseMemoryNode, resumeMemoryNode } from '../../../src/testing.js';
import { nextEvent } from '../../harness/events.js';

const NODES = ['10.0.0.1:11211', '10.0.0.2:11211', '10.0.0.3:11211'];
const VICTIM = NODES[0]!;
/** Bounded polls, 10 ms apart. */
const POLLS = 500;
let cache: ShardedCache;
afterEach(async () => {
  for (const node of NODES) resumeMemoryNode(cache, node);
  await cache.close();
});

async function until(done: () => boolean): Promise<void> {
  for (let poll = 0; poll < POLLS && !done(); poll++) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(done()).toBe(true);
}

/** Pauses the victim and reads `key` until the victim is ejected. */
async function eject(key: string): Promise<void> {
  const ejected = nextEvent(cache, 'node:ejected', (e) => e.node === VICTIM);
  pauseMemoryNode(cache, VICTIM);
  await cache.get(key);
  await ejected;
}

describe('a returning node: stand-in copies when its warm-up window ends (in-process nodes)', () => {
  it('a stand-in hung when the window ends is marked stale for its copy, which a repair deletes: it never answers the old value', async () => {
    cache = await createCache(
      {
        backend: 'memory',
        nodes: NODES,
        timeouts: { getMs: 50, setMs: 50, batchMs: 50 },
        health: { failureLimit: 1, retryTimeoutMs: 20, maxRetryTimeoutMs: 40, probeTimeoutMs: 50, maxEjectedFraction: 0.67 },
        warmup: { durationMs: 200, ttlSeconds: 60 },
      },
      { env: {} },
    );
    const key = Array.from({ length: 100 }, (_, i) => `k:${i}`).find((candidate) => cache.nodeFor(candidate) === VICTIM)!;
    await cache.set(key, 'v0');
    await eject(key);
    await cache.set(key, 'v1'); // on the stand-in, journaled
    const standIn = cache.nodeFor(key);
    expect(standIn).not.toBe(VICTIM);
    const readmitted = nextEvent(cache, 'node:readmitted', (e) => e.node === VICTIM);
    resumeMemoryNode(cache, VICTIM);
    await readmitted;

    // Not read in the window; the stand-in hangs when it ends (and is ejected for it): its copy is marked.
    pauseMemoryNode(cache, standIn);
    await until(() => cache.stats().replication!.staleMarks.set === 1);
    // Back: once it serves again, the repair deletes the old copy.
    resumeMemoryNode(cache, standIn);
    await until(() => cache.stats().replication!.staleMarks.repaired === 1);
    // The victim leaves again: the key's owner is the stand-in, which must not answer its old copy.
    await eject(key);
    expect(cache.nodeFor(key)).toBe(standIn);
    expect(await cache.get(key)).toBeUndefined();
    await cache.set(key, 'v2');
    expect(await cache.get(key)).toBe('v2');
  });

  it('a namespace version counter re-created on a stand-in is deleted at the return: a second ejection in the window cannot bring an older version back', async () => {
    cache = await createCache(
      {
        backend: 'memory',
        nodes: NODES,
        namespaceVersionCacheMs: 0,
        timeouts: { getMs: 50, setMs: 50, batchMs: 50 },
        health: { failureLimit: 1, retryTimeoutMs: 20, maxRetryTimeoutMs: 40, probeTimeoutMs: 50, maxEjectedFraction: 0.67 },
        warmup: { durationMs: 60_000, ttlSeconds: 60 },
      },
      { env: {} },
    );
    const users = cache.namespace('users');
    const counterNode = cache.nodeFor('users:__version');
    const ejectCounterNode = async () => {
      const ejected = nextEvent(cache, 'node:ejected', (e) => e.node === counterNode);
      pauseMemoryNode(cache, counterNode);
      await cache.get('users:__version');
      await ejected;
    };
    await users.set('1', 'A');
    await ejectCounterNode();
    await users.set('1', 'B'); // under a version re-created on the stand-in
    expect(await users.get('1')).toBe('B');
    const readmitted = nextEvent(cache, 'node:readmitted', (e) => e.node === counterNode);
    resumeMemoryNode(cache, counterNode);
    await readmitted;
    await cache.invalidateNamespace('users');
    await users.set('1', 'C');
    expect(await users.get('1')).toBe('C');
    // Out again inside the window: the stand-in must not answer the version it made the first time.
    await ejectCounterNode();
    expect(['B', 'A']).not.toContain(await users.get('1'));
  });
});
