/**
 * Per-call options through every layer, on real Redis and Memcached: an
 * AbortSignal stops the caller's wait at once (rejecting with the signal's
 * reason, as fetch does) without blaming the node or cancelling work others
 * share; a per-call deadlineMs overrides the configured deadline.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createCache, DeadlineError, InvalidArgumentError, type ShardcacheOptions, type ShardedCache } from '../../src/index.js';
import { startMemcached, startRedis, stopAll, type ServerProcess } from '../harness/servers.js';

// Deadlines far longer than any test step: what ends a wait here is the signal or the per-call deadline.
const OPTIONS: Omit<ShardcacheOptions, 'backend' | 'nodes'> = {
  timeouts: { getMs: 5000, setMs: 5000, batchMs: 5000, connectMs: 1000, getRetries: 0 },
  health: { failureLimit: 100, maxEjectedFraction: 0 },
};

describe.each([
  ['redis', startRedis],
  ['memcached', startMemcached],
] as const)('per-call options on %s', (backend, start) => {
  let server: ServerProcess;
  let cache: ShardedCache;

  beforeAll(async () => {
    server = await start();
  });
  afterAll(stopAll);
  afterEach(async () => {
    if (server.paused) server.resume();
    await cache?.close();
  });

  const open = async () => (cache = await createCache({ backend, nodes: [server.address], ...OPTIONS }, { env: {} }));
  const node = () => cache.stats().nodes[0]!;

  it('an already aborted signal rejects with its reason and sends nothing', async () => {
    await open();
    const reason = new Error('the request was cancelled');
    const signal = AbortSignal.abort(reason);
    await expect(cache.get('k', { signal })).rejects.toBe(reason);
    await expect(cache.mget(['a', 'b'], { signal })).rejects.toBe(reason);
    await expect(cache.set('k', 1, { signal })).rejects.toBe(reason);
    await expect(cache.getOrLoad('k', () => 1, { signal })).rejects.toBe(reason);
    expect(node().requests.total).toBe(0);
  });

  it('an abort while the node hangs rejects the caller at once; the node is not blamed for it', async () => {
    await open();
    await cache.set('k', 'v');
    server.pause();
    const controller = new AbortController();
    const read = cache.get('k', { signal: controller.signal });
    const batch = cache.mget(['k', 'other'], { signal: controller.signal });
    controller.abort();
    // The abort's own reason, not a DeadlineError: the 5 s deadline has not passed.
    await expect(read).rejects.toMatchObject({ name: 'AbortError' });
    await expect(batch).rejects.toMatchObject({ name: 'AbortError' });
    expect(node()).toMatchObject({ consecutiveFailures: 0, requests: { errors: 0, timeouts: 0 } });
  });

  it('an abort on a healthy node leaves the request to finish and count as the success it is', async () => {
    await open();
    await cache.set('k', 'v');
    const controller = new AbortController();
    const read = cache.get('k', { signal: controller.signal });
    controller.abort();
    await expect(read).rejects.toMatchObject({ name: 'AbortError' });
    expect(await cache.get('k')).toBe('v');
    expect(node()).toMatchObject({ consecutiveFailures: 0, requests: { errors: 0, timeouts: 0 } });
  });

  it('deadlineMs overrides the configured deadline for that call only', async () => {
    await open();
    await cache.set('k', 'v');
    server.pause();
    expect(await cache.get('k', { deadlineMs: 50 })).toBeUndefined();
    expect(await cache.mget(['k'], { deadlineMs: 50 })).toEqual([undefined]);
    const error = await cache.set('k', 'w', { deadlineMs: 50 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeadlineError);
    expect((error as DeadlineError).deadlineMs).toBe(50);
    expect(node().requests.timeouts).toBe(3);
    await expect(cache.get('k', { deadlineMs: 0 })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(cache.get('k', { signal: 'stop' as never })).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it('a shared load goes on while one caller aborts, and its signal aborts once no caller waits', async () => {
    await open();
    let release!: () => void;
    let gate = new Promise<void>((resolve) => (release = resolve));
    const seen: { key: string; signal: AbortSignal }[] = [];
    const loader = async (key: string, { signal }: { signal: AbortSignal }) => {
      seen.push({ key, signal });
      await gate;
      return `loaded ${key}`;
    };
    const leaving = new AbortController();
    const first = cache.getOrLoad('shared', loader, { signal: leaving.signal });
    const second = cache.getOrLoad('shared', loader);
    for (let i = 0; i < 100 && seen.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    leaving.abort();
    await expect(first).rejects.toMatchObject({ name: 'AbortError' });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ key: 'shared' });
    expect(seen[0]!.signal.aborted).toBe(false);
    release();
    expect(await second).toBe('loaded shared');

    // Every caller leaves: the load's own signal aborts.
    gate = new Promise<void>((resolve) => (release = resolve));
    const one = new AbortController();
    const two = new AbortController();
    const both = [cache.getOrLoad('abandoned', loader, { signal: one.signal }), cache.getOrLoad('abandoned', loader, { signal: two.signal })];
    for (let i = 0; i < 100 && seen.length === 1; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    one.abort();
    expect(seen[1]!.signal.aborted).toBe(false);
    two.abort();
    await Promise.allSettled(both);
    expect(seen[1]!.signal.aborted).toBe(true);
    release();
    expect(cache.stats().loads).toMatchObject({ calls: 2, coalesced: 2 });
  });
});
