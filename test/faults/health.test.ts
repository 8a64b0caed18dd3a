/**
 * cache.health() as a hung node comes and goes: real SIGSTOPped Redis and
 * Memcached servers for up -> degraded -> up; in-process nodes (paused like
 * a SIGSTOPped server) for down, the fail-open case and the hit-rate floor,
 * which need many nodes failing or a clock the test moves.
 */
import { once } from 'node:events';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createCache, type CacheHealth, type Clock, type ShardcacheOptions, type ShardedCache } from '../../src/index.js';
import { pauseMemoryNode, resumeMemoryNode } from '../../src/testing.js';
import { expectNothingLeftOpen, openHandles } from '../harness/handles.js';
import { startMemcached, startRedis, stopAll, type ServerProcess } from '../harness/servers.js';

const OPTIONS: Omit<ShardcacheOptions, 'backend' | 'nodes'> = {
  timeouts: { getMs: 100, setMs: 100, batchMs: 200, connectMs: 500, connectRetries: 0, connectBackoffMs: 100 },
  health: { failureLimit: 2, retryTimeoutMs: 200, maxRetryTimeoutMs: 800, probeTimeoutMs: 300, maxEjectedFraction: 0.5 },
  breaker: { volumeThreshold: 1000 },
};

function keyOwnedBy(cache: ShardedCache, address: string): string {
  for (let i = 0; i < 100_000; i++) if (cache.nodeFor(`h:${i}`) === address) return `h:${i}`;
  throw new Error(`no key for ${address}`);
}

describe.each([
  ['redis', startRedis],
  ['memcached', startMemcached],
] as const)('health on %s with a hung node', (backend, start) => {
  let servers: ServerProcess[];

  beforeAll(async () => {
    servers = await Promise.all([start(), start(), start()]);
  });
  afterAll(stopAll);
  afterEach(() => {
    for (const server of servers) if (server.paused) server.resume();
  });

  it('up, degraded with the node named while it hangs, up again after it is re-admitted', async () => {
    const before = openHandles();
    const cache = await createCache({ backend, nodes: servers.map((s) => s.address), ...OPTIONS }, { env: {} });
    try {
      const victim = servers[0]!;
      const key = keyOwnedBy(cache, victim.address);
      await cache.set(key, 'v');
      expect(cache.health()).toMatchObject({ status: 'up', reasons: [] });

      const ejected = once(cache.events, 'node:ejected');
      victim.pause();
      expect(await cache.get(key)).toBeUndefined(); // two missed deadlines (the read and its retry): ejected
      await ejected;
      const hung = cache.health();
      expect(hung.status).toBe('degraded');
      expect(hung.reasons).toHaveLength(1);
      expect(hung.reasons[0]).toMatch(new RegExp(`^${victim.address.replace(/\./g, '\\.')} is out of the ring \\((ejected|being probed)\\)$`));
      expect(hung.nodes.find((n) => n.address === victim.address)).toMatchObject({ serving: false });
      expect(hung.nodes.filter((n) => n.serving)).toHaveLength(2);

      const readmitted = once(cache.events, 'node:readmitted');
      victim.resume();
      await readmitted;
      expect(cache.health()).toMatchObject({ status: 'up', reasons: [] });
      expect(cache.health().nodes.every((n) => n.serving)).toBe(true);
    } finally {
      await cache.close();
    }
    await expectNothingLeftOpen(before);
  });
});

describe('health on in-process nodes', () => {
  const nodes = ['mem-a:1', 'mem-b:2', 'mem-c:3'];

  it('down when no node serves: one ejected, the others behind open breakers', async () => {
    const cache = await createCache(
      { backend: 'memory', nodes, ...OPTIONS, breaker: { volumeThreshold: 2, errorThresholdPercentage: 50, resetTimeoutMs: 60_000 } },
      { env: {} },
    );
    try {
      for (const node of nodes) pauseMemoryNode(cache, node);
      const keys = Array.from({ length: 30 }, (_, i) => `down:${i}`);
      let health: CacheHealth = cache.health();
      for (let round = 0; round < 10 && health.status !== 'down'; round++) {
        await Promise.all(keys.map((key) => cache.get(key)));
        health = cache.health();
      }
      expect(health.status).toBe('down');
      expect(health.reasons[0]).toBe('no node is serving (0 of 3): every read falls back to the loader');
      expect(health.nodes.filter((n) => n.state !== 'up')).toHaveLength(1);
      expect(health.reasons.filter((r) => r.endsWith('circuit breaker is open'))).toHaveLength(2);
    } finally {
      for (const node of nodes) resumeMemoryNode(cache, node);
      await cache.close();
    }
  });

  it('names a node that keeps failing on the ring because maxEjectedFraction is reached', async () => {
    const cache = await createCache({ backend: 'memory', nodes: ['mem-a:1', 'mem-b:2'], ...OPTIONS }, { env: {} });
    try {
      const keys = Array.from({ length: 20 }, (_, i) => `failopen:${i}`);
      pauseMemoryNode(cache, 'mem-a:1');
      pauseMemoryNode(cache, 'mem-b:2');
      await Promise.all(keys.map((key) => cache.get(key)));
      const health = cache.health();
      expect(health.status).toBe('down');
      const onRing = health.nodes.find((n) => n.state === 'up')!;
      expect(health.reasons).toContain(`${onRing.address} is failing (${onRing.consecutiveFailures} consecutive failures) but stays on the ring: health.maxEjectedFraction is reached`);
    } finally {
      resumeMemoryNode(cache, 'mem-a:1');
      resumeMemoryNode(cache, 'mem-b:2');
      await cache.close();
    }
  });

  it('degraded when the recent hit rate is under health.minHitRate, once the window holds minHitRateSamples reads', async () => {
    let time = 1_000_000;
    const clock: Clock = {
      now: () => time,
      setTimeout: (callback, ms) => setTimeout(callback, ms).unref(),
      clearTimeout: (timer) => clearTimeout(timer),
      random: () => 0.5,
    };
    const cache = await createCache({ backend: 'memory', nodes, health: { minHitRate: 0.5, minHitRateSamples: 10, hitRateWindowMs: 60_000 } }, { clock, env: {} });
    try {
      expect(cache.health().hitRate).toEqual({ value: null, reads: 0, spanMs: 0, minimum: 0.5 });
      for (let i = 0; i < 9; i++) await cache.get(`absent:${i}`);
      expect(cache.health().status).toBe('up'); // 9 reads: too few to judge
      await cache.get('absent:9');
      const low = cache.health();
      expect(low.status).toBe('degraded');
      expect(low.reasons).toEqual(['hit rate 0 over the last 0 s (10 reads) is under health.minHitRate 0.5']);

      await cache.set('hot', 1);
      time += 30_000;
      for (let i = 0; i < 30; i++) await cache.get('hot');
      expect(cache.health()).toMatchObject({ status: 'up', hitRate: { value: 0.75, reads: 40, spanMs: 30_000 } });

      // A minute on, the window starts after those reads: 10 misses alone are under the floor again.
      time += 61_000;
      for (let i = 0; i < 10; i++) await cache.get(`cold:${i}`);
      expect(cache.health()).toMatchObject({ status: 'degraded', hitRate: { value: 0, reads: 10, spanMs: 61_000 } });
    } finally {
      await cache.close();
    }
  });
});
