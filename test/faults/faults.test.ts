/**
 * Real faults on real servers, for Redis and Memcached, three nodes each:
 * a hung node (SIGSTOP) under concurrent load, a killed and restarted node,
 * every node down, and a flapping node. What is asserted is behaviour (no read
 * rejects, who is ejected when, where requests go, what a read returns),
 * never how fast anything was.
 */
import diagnostics from 'node:diagnostics_channel';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { OperationMessage } from '../../src/diagnostics.js';
import { createCache, type ShardcacheEvents, type ShardcacheOptions, type ShardedCache } from '../../src/index.js';
import { expectNothingLeftOpen, openHandles, type HandleCounts } from '../harness/handles.js';
import { healAll, startMemcached, startRedis, stopAll, type ServerProcess } from '../harness/servers.js';
import { nextEvent } from '../harness/events.js';

// Deadlines roomy enough for a loaded CI machine; failure handling as in production.
const OPTIONS: Omit<ShardcacheOptions, 'backend' | 'nodes'> = {
  timeouts: { getMs: 100, setMs: 100, batchMs: 200, connectMs: 500, connectRetries: 0, connectBackoffMs: 100 },
  health: { failureLimit: 2, retryTimeoutMs: 200, maxRetryTimeoutMs: 800, probeTimeoutMs: 300, maxEjectedFraction: 0.5, failoverTtlSeconds: 60 },
  breaker: { volumeThreshold: 4, resetTimeoutMs: 60_000, rollingCountTimeoutMs: 10_000, errorThresholdPercentage: 50 },
};


/** Node operations published while `work` runs. */
async function operationsDuring(work: () => Promise<unknown>): Promise<OperationMessage[]> {
  const seen: OperationMessage[] = [];
  const listener = (message: unknown) => seen.push(message as OperationMessage);
  diagnostics.subscribe('shardcache:operation', listener);
  try {
    await work();
  } finally {
    diagnostics.unsubscribe('shardcache:operation', listener);
  }
  return seen;
}

function keysOwnedBy(cache: ShardedCache, address: string, count: number, prefix: string): string[] {
  const keys: string[] = [];
  for (let i = 0; keys.length < count && i < 100_000; i++) {
    if (cache.nodeFor(`${prefix}:${i}`) === address) keys.push(`${prefix}:${i}`);
  }
  return keys;
}

describe.each([
  ['redis', startRedis],
  ['memcached', startMemcached],
] as const)('%s under real faults', (backend, start) => {
  let servers: ServerProcess[];
  let cache: ShardedCache;
  let handlesBefore: HandleCounts;
  let unexpected: unknown[];
  const recordUnexpected = (error: unknown) => unexpected.push(error);

  beforeAll(async () => {
    servers = await Promise.all([start(), start(), start()]);
  });
  afterAll(stopAll);

  beforeEach(async () => {
    await healAll(servers);
    unexpected = [];
    process.on('unhandledRejection', recordUnexpected);
    handlesBefore = openHandles();
    cache = await createCache({ backend, nodes: servers.map((s) => s.address), ...OPTIONS }, { env: {} });
    cache.events.on('error' as keyof ShardcacheEvents, recordUnexpected as never);
  });

  afterEach(async () => {
    await cache.close();
    for (const server of servers) if (server.paused) server.resume();
    await expectNothingLeftOpen(handlesBefore);
    process.off('unhandledRejection', recordUnexpected);
    expect(unexpected).toEqual([]);
  });

  it('a hung node (SIGSTOP) under concurrent load: no read rejects, it is ejected, then nothing waits on it, then it returns', async () => {
    const victim = servers[0]!;
    const victimKeys = keysOwnedBy(cache, victim.address, 40, 'hung');
    const otherKeys = servers.slice(1).flatMap((s) => keysOwnedBy(cache, s.address, 20, 'hung'));
    await cache.mset([...victimKeys, ...otherKeys].map((key) => [key, `value of ${key}`]));

    const ejected = nextEvent(cache, 'node:ejected', (e) => e.node === victim.address);
    victim.pause();
    const load = () =>
      Promise.allSettled([
        ...victimKeys.slice(0, 20).map((key) => cache.get(key)),
        ...otherKeys.slice(0, 20).map((key) => cache.get(key)),
        cache.mget([...victimKeys.slice(20), ...otherKeys.slice(20)]),
        ...victimKeys.slice(0, 10).map((key) => cache.getOrLoad(key, async () => `value of ${key}`)),
      ]);
    const outcomes = (await Promise.all([load(), load(), load()])).flat();
    expect(outcomes.filter((o) => o.status === 'rejected')).toEqual([]);
    for (const outcome of outcomes.slice(20, 40)) expect((outcome as PromiseFulfilledResult<unknown>).value).toMatch(/^value of /);

    const ejection = await ejected;
    expect(ejection.consecutiveFailures).toBeGreaterThanOrEqual(2);
    expect(victimKeys.every((key) => cache.nodeFor(key) !== victim.address)).toBe(true);
    expect(otherKeys.every((key) => cache.nodeFor(key) !== victim.address)).toBe(true);

    const afterEjection = await operationsDuring(async () => {
      const reads = await Promise.all(victimKeys.map((key) => cache.getOrLoad(key, async () => `value of ${key}`)));
      expect(reads).toEqual(victimKeys.map((key) => `value of ${key}`));
    });
    expect(afterEjection.length).toBeGreaterThan(0);
    expect(afterEjection.filter((op) => op.node === victim.address)).toEqual([]);

    const readmitted = nextEvent(cache, 'node:readmitted', (e) => e.node === victim.address);
    victim.resume();
    await readmitted;
    expect(cache.nodeFor(victimKeys[0]!)).toBe(victim.address);
    expect(cache.stats().nodes.find((n) => n.address === victim.address)?.state).toBe('up');
  });

  it('a killed node (SIGKILL) is ejected, and re-admitted once restarted', async () => {
    const victim = servers[1]!;
    const victimKeys = keysOwnedBy(cache, victim.address, 10, 'killed');
    await cache.mset(victimKeys.map((key) => [key, 1]));
    const ejected = nextEvent(cache, 'node:ejected', (e) => e.node === victim.address);
    const probeFailed = nextEvent(cache, 'node:probe-failed', (e) => e.node === victim.address);
    await victim.kill();

    const reads = await Promise.allSettled(victimKeys.map((key) => cache.get(key)));
    expect(reads.every((r) => r.status === 'fulfilled' && r.value === undefined)).toBe(true);
    await ejected;
    const failedProbe = await probeFailed;
    expect(failedProbe.nextProbeMs).toBeGreaterThan(0);

    const readmitted = nextEvent(cache, 'node:readmitted', (e) => e.node === victim.address);
    await victim.restart();
    await readmitted;
    await cache.set(victimKeys[0]!, 'after restart');
    expect(cache.nodeFor(victimKeys[0]!)).toBe(victim.address);
    expect(await cache.get(victimKeys[0]!)).toBe('after restart');
  });

  it('every node down: every read is served by the loader, one loader call per key under 100 concurrent callers', async () => {
    for (const server of servers) server.pause();
    const keys = ['down:a', 'down:b', 'down:c', 'down:d', 'down:e'];
    const calls = new Map<string, number>();
    const loader = (key: string) => async () => {
      calls.set(key, (calls.get(key) ?? 0) + 1);
      return { key };
    };
    const answers = await Promise.allSettled(keys.flatMap((key) => Array.from({ length: 100 }, () => cache.getOrLoad(key, loader(key)))));
    expect(answers.filter((a) => a.status === 'rejected')).toEqual([]);
    expect(answers.map((a) => (a as PromiseFulfilledResult<{ key: string }>).value.key)).toEqual(keys.flatMap((key) => new Array(100).fill(key)));
    expect(Object.fromEntries(calls)).toEqual(Object.fromEntries(keys.map((key) => [key, 1])));

    // Batch reads too: every key failed or missed, none rejects, the loader gets them all once.
    let batchCalls = 0;
    const many = await cache.mgetOrLoad(keys, async (missing) => {
      batchCalls++;
      return missing.map((key) => ({ key }));
    });
    expect(many).toEqual(keys.map((key) => ({ key })));
    expect(batchCalls).toBe(1);
    const detailed = await cache.mgetDetailed(keys);
    expect(detailed.every((r) => r.status === 'failed' && r.value === undefined)).toBe(true);

    // At most floor(0.5 * 3) = 1 node is ejected; the others stay, behind breakers that open.
    expect(cache.stats().nodes.filter((n) => n.state !== 'up')).toHaveLength(1);
    // Failures of requests already in flight count once (a burst is one piece
    // of evidence), so the breakers open as reads sent one after another keep failing.
    const stillOnRing = () => cache.stats().nodes.filter((n) => n.state === 'up');
    const probeKey = new Map(stillOnRing().map((n) => [n.address, keysOwnedBy(cache, n.address, 1, 'breaker')[0]!]));
    for (let round = 0; round < 20 && !stillOnRing().every((n) => n.breaker === 'open'); round++) {
      for (const node of stillOnRing()) if (node.breaker !== 'open') await cache.get(probeKey.get(node.address)!);
    }
    expect(stillOnRing().every((n) => n.breaker === 'open')).toBe(true);
    const shortCircuited = await operationsDuring(() => Promise.all(keys.map((key) => cache.get(key))));
    expect(shortCircuited.length).toBeGreaterThan(0);
    expect(shortCircuited.every((op) => op.outcome === 'short-circuited')).toBe(true);
  });

  it('a flapping node never serves a value overwritten or deleted while it was out', async () => {
    const victim = servers[2]!;
    const [overwritten, deleted] = keysOwnedBy(cache, victim.address, 2, 'flap');
    for (let flap = 1; flap <= 3; flap++) {
      await cache.set(overwritten!, `old ${flap}`);
      await cache.set(deleted!, `doomed ${flap}`);
      expect(await cache.get(overwritten!)).toBe(`old ${flap}`);

      const ejected = nextEvent(cache, 'node:ejected', (e) => e.node === victim.address);
      victim.pause();
      for (let attempt = 0; attempt < 10 && cache.nodeFor(overwritten!) === victim.address; attempt++) await cache.get(overwritten!);
      await ejected;
      // The stand-in must not serve the copy left by the previous flap.
      expect(await cache.get(overwritten!)).toBeUndefined();

      await cache.set(overwritten!, `new ${flap}`);
      expect(await cache.get(overwritten!)).toBe(`new ${flap}`);
      expect(await cache.del(deleted!)).toBe(false);

      const readmitted = nextEvent(cache, 'node:readmitted', (e) => e.node === victim.address);
      victim.resume();
      const returned = await readmitted;
      expect(returned.invalidatedKeys).toBeGreaterThanOrEqual(2);

      expect(cache.nodeFor(overwritten!)).toBe(victim.address);
      expect(await cache.get(overwritten!)).not.toBe(`old ${flap}`);
      expect(await cache.get(deleted!)).toBeUndefined();
    }
  });
});
