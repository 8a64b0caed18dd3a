/**
 * `shardcache/keyv` against Keyv's own adapter test suite (@keyv/test-suite
 * 2.1.2: keyvApiTests, keyvValueTests, keyvNamespaceTest), on in-process
 * nodes and on real redis-server and memcached processes (three nodes each),
 * plus what the adapter promises beyond it: TTLs rounded up to whole
 * seconds, `clear()` limited to its namespace, typed errors.
 */
import { keyvApiTests, keyvNamespaceTest, keyvValueTests } from '@keyv/test-suite';
import Keyv, { type KeyvStoreAdapter } from 'keyv';
import * as vitest from 'vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCache, InvalidArgumentError, type BackendKind, type ShardedCache } from '../../src/index.js';
import { KeyvShardcache } from '../../src/keyv.js';
import { redisCommand, startMemcached, startRedis, type ServerProcess } from '../harness/servers.js';

const GENEROUS = { getMs: 2000, setMs: 2000, batchMs: 2000, connectMs: 2000 };

describe.each(['memory', 'redis', 'memcached'] as const)('KeyvShardcache on %s', (backend: BackendKind) => {
  let servers: ServerProcess[] = [];
  let cache: ShardedCache;

  beforeAll(async () => {
    if (backend !== 'memory') servers = await Promise.all([0, 1, 2].map(() => (backend === 'redis' ? startRedis() : startMemcached())));
    const nodes = backend === 'memory' ? ['mem-a:1', 'mem-b:2', 'mem-c:3'] : servers.map((server) => server.address);
    cache = await createCache({ backend, nodes, timeouts: GENEROUS }, { env: {} });
  });

  afterAll(async () => {
    await cache?.close();
    await Promise.all(servers.map((server) => server.stop()));
  });

  // Typed as Keyv's adapter contract: the assignment fails to compile if the adapter drifts from it.
  const store = (): KeyvStoreAdapter & KeyvShardcache => new KeyvShardcache(cache, { closeOnDisconnect: false });

  describe('@keyv/test-suite', () => {
    keyvApiTests(vitest, Keyv, store);
    keyvValueTests(vitest, Keyv, store);
    keyvNamespaceTest(vitest, Keyv, store);
  });

  it('stores under the shardcache namespace of the Keyv namespace, without Keyv\'s own prefix', async () => {
    const keyv = new Keyv({ store: store(), namespace: 'orders' });
    await keyv.set('42', { total: 7 });
    const stored = await cache.namespace('orders').get<string>('42');
    expect(JSON.parse(stored!)).toEqual({ value: { total: 7 } });
  });

  it('clear() leaves entries outside its namespace alone', async () => {
    await cache.set('plain:key', 'kept');
    await cache.namespace('other').set('k', 'kept too');
    const keyv = new Keyv({ store: store(), namespace: 'mine' });
    await keyv.set('k', 'gone');
    await keyv.clear();
    expect(await keyv.get('k')).toBeUndefined();
    expect(await cache.get('plain:key')).toBe('kept');
    expect(await cache.namespace('other').get('k')).toBe('kept too');
  });

  it('uses the namespace "keyv" when Keyv gives none, and still clears only it', async () => {
    const keyv = new Keyv({ store: store(), namespace: undefined as unknown as string });
    await keyv.set('bare', 1);
    expect(await cache.namespace('keyv').get('bare')).toBeDefined();
    await keyv.clear();
    expect(await keyv.get('bare')).toBeUndefined();
  });

  it('getMany, setMany, hasMany and deleteMany go through the adapter in batches', async () => {
    const adapter = store();
    const keyv = new Keyv({ store: adapter, namespace: 'batch' });
    expect(await keyv.setMany([{ key: 'a', value: 1 }, { key: 'b', value: 2, ttl: 60_000 }, { key: 'c', value: 3, ttl: 30_000 }])).toEqual([true, true, true]);
    expect(await keyv.getMany(['a', 'b', 'c', 'missing'])).toEqual([1, 2, 3, undefined]);
    expect(await keyv.hasMany(['a', 'missing'])).toEqual([true, false]);
    expect(await keyv.deleteMany(['a', 'missing'])).toBe(true);
    expect(await keyv.deleteMany(['missing', 'a'])).toBe(false);
    expect(await keyv.get('b')).toBe(2);
  });

  it('has() honours the millisecond expiry Keyv wrote into the value', async () => {
    const keyv = new Keyv({ store: store(), namespace: 'expiry' });
    const realNow = Date.now;
    // A minute, so a loaded machine cannot expire it before the first has(); the clock then jumps past it.
    await keyv.set('soon', 'x', 60_000);
    expect(await keyv.has('soon')).toBe(true);
    try {
      Date.now = () => realNow() + 120_000;
      expect(await keyv.has('soon')).toBe(false);
    } finally {
      Date.now = realNow;
    }
  });

  it('rejects a bad TTL with a typed error, which Keyv emits and throws with throwOnErrors', async () => {
    const adapter = store();
    await expect(adapter.set('k', 'v', -5)).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(adapter.set('k', 'v', Number.NaN)).rejects.toBeInstanceOf(InvalidArgumentError);
    const keyv = new Keyv({ store: store(), throwOnErrors: true });
    await expect(keyv.set('k', 'v', -5)).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(() => new KeyvShardcache({} as ShardedCache)).toThrow(InvalidArgumentError);
    expect(() => new KeyvShardcache(cache, { closeOnDisconnect: 'yes' as unknown as boolean })).toThrow(InvalidArgumentError);
    // A Keyv namespace shardcache cannot use fails when the Keyv is made, not on every call.
    expect(() => new Keyv({ store: store(), namespace: 'has:colon' })).toThrow(InvalidArgumentError);
    expect(() => new Keyv({ store: store(), namespace: 'has space' })).toThrow(InvalidArgumentError);
  });

  if (backend === 'redis') {
    it('rounds millisecond TTLs up to whole seconds on the server', async () => {
      const keyv = new Keyv({ store: store(), namespace: 'ttl' });
      await keyv.set('short', 'v', 1);
      await keyv.set('longer', 'v', 1_500);
      const ttls = new Map<string, number>();
      for (const server of servers) {
        const keys = (await redisCommand(server, 'KEYS', 'ttl:*')).match(/ttl:\d+:(short|longer)/g) ?? [];
        for (const key of keys) ttls.set(key.split(':')[2]!, Number((await redisCommand(server, 'PTTL', key)).replace(':', '')));
      }
      expect(ttls.get('short')).toBeGreaterThan(0);
      expect(ttls.get('short')).toBeLessThanOrEqual(1_000);
      expect(ttls.get('longer')).toBeGreaterThan(1_000);
      expect(ttls.get('longer')).toBeLessThanOrEqual(2_000);
    });
  }
});
