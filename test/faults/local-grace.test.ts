/**
 * `local.graceMs`: with every Redis node hung (SIGSTOP), an entry that
 * expired less than `graceMs` ago is served (a stale hit), and only then;
 * with `graceMs: 0` nothing stale is ever served.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCache, type ShardedCache } from '../../src/index.js';
import { expectNothingLeftOpen, openHandles } from '../harness/handles.js';
import { startRedis, stopAll, type ServerProcess } from '../harness/servers.js';

const TTL_MS = 200;
const GRACE_MS = 3000;
let servers: ServerProcess[];
let graceful: ShardedCache;
let strict: ShardedCache;

beforeAll(async () => {
  servers = await Promise.all([startRedis(), startRedis(), startRedis()]);
  const base = {
    backend: 'redis' as const,
    nodes: servers.map((s) => s.address),
    timeouts: { getMs: 100, setMs: 100, batchMs: 100, connectMs: 2000, getRetries: 0 },
    health: { retryTimeoutMs: 60_000 },
  };
  graceful = await createCache({ ...base, local: { ttlMs: TTL_MS, graceMs: GRACE_MS, heartbeatMs: 100 } }, { env: {} });
  strict = await createCache({ ...base, local: { ttlMs: TTL_MS, graceMs: 0, heartbeatMs: 100 } }, { env: {} });
}, 60_000);

afterAll(async () => {
  for (const server of servers) if (server.paused) server.resume();
  await Promise.all([graceful?.close(), strict?.close()]);
  await stopAll();
});

describe('local tier grace with every node hung', () => {
  it('serves a recently expired entry while graceMs allows, and nothing stale after it or without grace', async () => {
    await graceful.set('grace:k', 'kept');
    const readAt = performance.now();
    expect(await graceful.get('grace:k')).toBe('kept');
    expect(await strict.get('grace:k')).toBe('kept');
    expect(graceful.stats().local!.entries).toBe(1);

    for (const server of servers) server.pause();
    try {
      const expiry = readAt + TTL_MS - performance.now();
      if (expiry > 0) await new Promise((resolve) => setTimeout(resolve, expiry + 10));
      // The read fails on every node: the graceful tier answers its expired entry, counted as a stale hit.
      expect(await graceful.get('grace:k')).toBe('kept');
      expect(graceful.stats().local!.staleHits).toBe(1);
      expect(await graceful.mget(['grace:k'])).toEqual(['kept']);
      expect(graceful.stats().local!.staleHits).toBe(2);
      expect(await strict.get('grace:k')).toBeUndefined();
      expect(strict.stats().local!.staleHits).toBe(0);

      // Past ttlMs + graceMs from its read, the entry is never served again.
      const wait = readAt + TTL_MS + GRACE_MS - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait + 10));
      expect(await graceful.get('grace:k')).toBeUndefined();
      expect(graceful.stats().local!.staleHits).toBe(2);
    } finally {
      for (const server of servers) server.resume();
    }
  });
});

describe('local tier on Redis: close', () => {
  it('leaves no connection or timer behind (invalidation connections and heartbeats included)', async () => {
    const before = openHandles();
    const cache = await createCache({ backend: 'redis', nodes: servers.map((s) => s.address), local: { heartbeatMs: 50 } }, { env: {} });
    expect(cache.health().local!.untrackedNodes).toEqual([]);
    await cache.set('close:k', 1);
    await cache.get('close:k');
    await cache.close();
    await expectNothingLeftOpen(before);
  });
});
