/**
 * Refresh ahead on every backend (in-process nodes, real redis-server, real
 * memcached): the stored format (stamped only for refresh-ahead entries,
 * plain otherwise), and hot readers served from the cache while the
 * refresh runs, counted by loader calls.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createCache, InvalidArgumentError, type BackendKind, type ShardedCache } from '../../src/index.js';
import { redisCommand, startMemcached, startRedis, within, type ServerProcess } from '../harness/servers.js';

const GENEROUS = { getMs: 2000, setMs: 2000, batchMs: 2000, connectMs: 2000 };

function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((done) => (resolve = done));
  return { promise, resolve };
}

describe.each(['memory', 'redis', 'memcached'] as const)('refresh ahead on %s', (backend: BackendKind) => {
  let server: ServerProcess | undefined;
  let cache: ShardedCache;

  beforeAll(async () => {
    if (backend !== 'memory') server = await (backend === 'redis' ? startRedis() : startMemcached());
    const nodes = server ? [server.address] : ['mem-a:1'];
    cache = await createCache({ backend, nodes, timeouts: GENEROUS }, { env: {} });
  });

  afterAll(async () => {
    await cache?.close();
    await server?.stop();
  });

  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('serves hot readers the cached value while one refresh runs, then the refreshed one', async () => {
    const key = `hot:${Date.now()}`;
    let loaderCalls = 0;
    const second = deferred<string>();
    const loader = () => (++loaderCalls === 1 ? 'first' : second.promise);
    expect(await cache.getOrLoad(key, loader, { ttl: 60, refreshAhead: true })).toBe('first');
    const missesBefore = cache.stats().reads.misses;

    // 59.5 s later by the wall clock the stamp says the entry is due (the server still holds it).
    const start = Date.now();
    vi.spyOn(Date, 'now').mockImplementation(() => start + 59_500);
    const readers = Array.from({ length: 50 }, () => cache.getOrLoad(key, loader, { ttl: 60, refreshAhead: true }));
    // The refresh's loader has not answered, yet every reader has its value: nobody waits for it.
    expect(await within(Promise.all(readers), 10_000)).toBe(true);
    expect(await Promise.all(readers)).toEqual(Array(50).fill('first'));
    expect(loaderCalls).toBe(2);
    expect(cache.stats().reads.misses).toBe(missesBefore);

    second.resolve('second');
    let refreshed: unknown;
    for (let attempt = 0; attempt < 100 && refreshed !== 'second'; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      refreshed = await cache.get(key);
    }
    expect(refreshed).toBe('second');
    // The new stamp is a minute out again: reads at the same moment no longer refresh.
    expect(await cache.getOrLoad(key, loader, { ttl: 60, refreshAhead: true })).toBe('second');
    expect(loaderCalls).toBe(2);
    expect(cache.stats().loads.refreshes).toBeGreaterThanOrEqual(1);
  });

  it('a failed refresh is counted, rejects nowhere, and the entry keeps serving', async () => {
    const key = `failing:${Date.now()}`;
    await cache.getOrLoad(key, () => 'kept', { ttl: 60, refreshAhead: true });
    const failuresBefore = cache.stats().loads.refreshFailures;
    const start = Date.now();
    vi.spyOn(Date, 'now').mockImplementation(() => start + 59_500);
    expect(await cache.getOrLoad(key, () => Promise.reject(new Error('database down')), { ttl: 60, refreshAhead: true })).toBe('kept');
    for (let attempt = 0; attempt < 100 && cache.stats().loads.refreshFailures === failuresBefore; attempt++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(cache.stats().loads.refreshFailures).toBe(failuresBefore + 1);
    expect(await cache.get(key)).toBe('kept');
  });

  it('plain reads answer the value of a stamped entry', async () => {
    const key = `stamped:${Date.now()}`;
    await cache.getOrLoad(key, () => ({ id: 7 }), { ttl: 60, refreshAhead: { beta: 2 } });
    expect(await cache.get(key)).toEqual({ id: 7 });
    expect(await cache.mget([key, 'absent'])).toEqual([{ id: 7 }, undefined]);
  });

  it('rejects refreshAhead without a TTL or with a bad beta, before anything is sent', async () => {
    await expect(cache.getOrLoad('k', () => 1, { refreshAhead: true })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(cache.getOrLoad('k', () => 1, { ttl: 60, refreshAhead: { beta: 0 } })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(cache.getOrLoad('k', () => 1, { ttl: 60, refreshAhead: 'yes' as unknown as boolean })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(cache.getOrLoad('k', () => 1, { ttl: 60, refreshAhead: { beta: 1, every: 5 } as never })).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  if (backend === 'redis') {
    it('stamps only refresh-ahead entries: other entries keep the plain format other clients read', async () => {
      await cache.getOrLoad('format:plain', () => 'hello', { ttl: 60 });
      await cache.getOrLoad('format:stamped', () => 'hello', { ttl: 60, refreshAhead: true });
      expect(await redisCommand(server!, 'GET', 'format:plain')).toBe('hello');
      const stamped = await redisCommand(server!, 'GET', 'format:stamped');
      // 0xC1 is not UTF-8, so the raw reply shows it as U+FFFD.
      expect(stamped).toMatch(/^\uFFFDrefresh/);
      expect(stamped.endsWith('hello')).toBe(true);
    });
  }
});

describe('refresh-ahead metrics', () => {
  afterEach(() => vi.restoreAllMocks());

  it('counts refreshes and failed refreshes on the registry', async () => {
    const { Registry } = await import('prom-client');
    const registry = new Registry();
    const cache = await createCache({ backend: 'memory', nodes: ['mem-a:1'], metrics: { registry } }, { env: {} });
    try {
      await cache.getOrLoad('m', () => 'v', { ttl: 60, refreshAhead: true });
      const start = Date.now();
      vi.spyOn(Date, 'now').mockImplementation(() => start + 59_500);
      await cache.getOrLoad('m', () => Promise.reject(new Error('down')), { ttl: 60, refreshAhead: true });
      for (let attempt = 0; attempt < 100 && cache.stats().loads.refreshFailures === 0; attempt++) await new Promise((resolve) => setTimeout(resolve, 10));
      const text = await registry.metrics();
      expect(text).toMatch(/^shardcache_loader_refreshes_total 1$/m);
      expect(text).toMatch(/^shardcache_loader_refresh_failures_total 1$/m);
      expect(text).toMatch(/^shardcache_loader_calls_total 2$/m);
    } finally {
      await cache.close();
    }
  });
});
