/**
 * A Redis node killed and restarted while its client waits out ioredis's
 * reconnection backoff: the probe that comes during the backoff must not
 * wedge the client (found by the soak: a reset during the backoff cancelled
 * the reconnection and left the client 'reconnecting' for good, so the node
 * never returned).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCache } from '../../src/index.js';
import { nextEvent } from '../harness/events.js';
import { startRedis, stopAll, type ServerProcess } from '../harness/servers.js';

let servers: ServerProcess[];
beforeAll(async () => {
  servers = await Promise.all([startRedis(), startRedis(), startRedis()]);
});
afterAll(stopAll);

describe('a Redis node restarted during the reconnection backoff', () => {
  it('returns to the ring at the next successful probe', async () => {
    const victim = servers[0]!;
    // Probes every 300-600 ms, inside the 2 s reconnection backoff.
    const cache = await createCache(
      {
        backend: 'redis',
        nodes: servers.map((s) => s.address),
        timeouts: { getMs: 500, setMs: 500, connectMs: 1000, connectBackoffMs: 2000 },
        health: { failureLimit: 2, retryTimeoutMs: 300, maxRetryTimeoutMs: 600, probeTimeoutMs: 500 },
      },
      { env: {} },
    );
    try {
      const key = Array.from({ length: 1000 }, (_, i) => `wedge:${i}`).find((k) => cache.nodeFor(k) === victim.address)!;
      await cache.set(key, 'before');
      const ejected = nextEvent(cache, 'node:ejected');
      await victim.kill();
      for (let i = 0; i < 10 && cache.nodeFor(key) === victim.address; i++) await cache.get(key);
      await ejected;
      // At least one probe fails while the server is down, inside the backoff.
      await nextEvent(cache, 'node:probe-failed');
      const readmitted = nextEvent(cache, 'node:readmitted');
      await victim.restart();
      await readmitted;
      expect(cache.nodeFor(key)).toBe(victim.address);
      await cache.set(key, 'after');
      expect(await cache.get(key)).toBe('after');
    } finally {
      await cache.close();
    }
  });
});

describe('a Redis node that hung and is back', () => {
  it('returns at the first probe after the server resumes', async () => {
    const victim = servers[1]!;
    const cache = await createCache(
      {
        backend: 'redis',
        nodes: servers.map((s) => s.address),
        timeouts: { getMs: 100, setMs: 100, connectMs: 1000 },
        health: { failureLimit: 2, retryTimeoutMs: 300, maxRetryTimeoutMs: 300, probeTimeoutMs: 200 },
      },
      { env: {} },
    );
    const outcomes: string[] = [];
    cache.events.on('node:probe-failed', () => outcomes.push('probe failed'));
    cache.events.on('node:readmitted', () => outcomes.push('readmitted'));
    try {
      const key = Array.from({ length: 1000 }, (_, i) => `hang:${i}`).find((k) => cache.nodeFor(k) === victim.address)!;
      const ejected = nextEvent(cache, 'node:ejected');
      victim.pause();
      for (let i = 0; i < 10 && cache.nodeFor(key) === victim.address; i++) await cache.get(key);
      await ejected;
      // Right after a probe failed on the hung server, the next one is 300 ms away: resume now.
      await nextEvent(cache, 'node:probe-failed');
      const before = outcomes.length;
      victim.resume();
      await nextEvent(cache, 'node:readmitted');
      expect(outcomes.slice(before)).toEqual(['readmitted']);
    } finally {
      if (victim.paused) victim.resume();
      await cache.close();
    }
  });
});
