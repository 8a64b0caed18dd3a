/**
 * cache-manager 7 over Keyv over `shardcache/keyv`, as NestJS's cache module
 * sets it up, on in-process nodes and real Redis and Memcached: get, set,
 * del, mget, mset, wrap and clear, and clear() leaving the rest of the
 * cache alone.
 */
import { createCache as createCacheManager, type Cache as CacheManager } from 'cache-manager';
import Keyv from 'keyv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCache, type BackendKind, type ShardedCache } from '../../src/index.js';
import { KeyvShardcache } from '../../src/keyv.js';
import { startMemcached, startRedis, type ServerProcess } from '../harness/servers.js';

const GENEROUS = { getMs: 2000, setMs: 2000, batchMs: 2000, connectMs: 2000 };

describe.each(['memory', 'redis', 'memcached'] as const)('cache-manager on %s', (backend: BackendKind) => {
  let servers: ServerProcess[] = [];
  let cache: ShardedCache;
  let manager: CacheManager;

  beforeAll(async () => {
    if (backend !== 'memory') servers = await Promise.all([0, 1].map(() => (backend === 'redis' ? startRedis() : startMemcached())));
    const nodes = backend === 'memory' ? ['mem-a:1', 'mem-b:2'] : servers.map((server) => server.address);
    cache = await createCache({ backend, nodes, timeouts: GENEROUS }, { env: {} });
    manager = createCacheManager({ stores: [new Keyv({ store: new KeyvShardcache(cache), namespace: 'app' })], ttl: 60_000 });
  });

  afterAll(async () => {
    // disconnect() closes the cache: the adapter's default, what a NestJS shutdown relies on.
    await manager?.disconnect();
    await expect(cache.get('anything')).rejects.toThrow();
    await Promise.all(servers.map((server) => server.stop()));
  });

  it('set, get and del', async () => {
    await manager.set('user:1', { name: 'Ada' });
    expect(await manager.get('user:1')).toEqual({ name: 'Ada' });
    expect(await cache.namespace('app').get('user:1')).toBeDefined();
    await manager.del('user:1');
    expect(await manager.get('user:1')).toBeUndefined();
  });

  it('mset and mget', async () => {
    await manager.mset<unknown>([
      { key: 'a', value: 1 },
      { key: 'b', value: 'two', ttl: 500 },
    ]);
    expect(await manager.mget(['a', 'b', 'missing'])).toEqual([1, 'two', undefined]);
  });

  it('wrap calls the function once and shares it between concurrent callers', async () => {
    let calls = 0;
    const load = async () => (calls++, { id: 7 });
    const answers = await Promise.all(Array.from({ length: 10 }, () => manager.wrap('product:7', load, 60_000)));
    expect(answers).toEqual(Array(10).fill({ id: 7 }));
    expect(await manager.wrap('product:7', load, 60_000)).toEqual({ id: 7 });
    expect(calls).toBe(1);
  });

  it('clear drops its namespace and nothing else', async () => {
    await cache.set('outside', 'kept');
    await manager.set('inside', 'gone');
    await manager.clear();
    expect(await manager.get('inside')).toBeUndefined();
    expect(await cache.get('outside')).toBe('kept');
  });
});
