/**
 * Plain regression tests for the counterexamples the fuzz properties found
 * (operations.test.ts, options.test.ts), each as fast-check shrank it. Each
 * bug was fixed in src/ with a typed error or a lossless encoding; these keep
 * it fixed without depending on the generators or the seed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, createCache, InvalidArgumentError, InvalidValueError, type ShardedCache } from '../../src/index.js';
import { startMemcached, startRedis, type ServerProcess } from '../harness/servers.js';

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.fail('expected a rejection'),
    (error: unknown) => error,
  );
}

const GENEROUS = { getMs: 2000, setMs: 2000, batchMs: 2000, connectMs: 2000 };

describe('createCache', () => {
  async function configError(options: unknown, env: Record<string, string> = {}): Promise<ConfigError> {
    const error = await rejection(createCache(options as never, { env }));
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }

  it('refuses a sparse node list naming the hole (was a TypeError from the ring)', async () => {
    // Counterexample: nodes: new Array(1) and [, 'a:1'].
    expect((await configError({ backend: 'memory', nodes: new Array(1) })).option).toBe('nodes[0]');
    expect((await configError({ backend: 'memory', nodes: [, 'a:1'] })).option).toBe('nodes[0]');
  });

  it('refuses weights over 2^32-1 (1e308 passed validation, then nodeFor threw a TypeError and the fast ring a RangeError)', async () => {
    // Counterexample: nodes ['a:1:1e308', 'b:1:1e308']; the node-spec property shrank it to '127.0.0.1:1:4294967296'.
    expect((await configError({ backend: 'memory', nodes: ['a:1:1e308', 'b:1:1e308'] })).option).toBe('nodes[0]');
    expect((await configError({ backend: 'memory', nodes: ['a:1', { host: 'b', port: 1, weight: 2 ** 32 }], ring: { algorithm: 'fast' } })).option).toBe('nodes[1]');
    const cache = await createCache({ backend: 'memory', nodes: [`a:1:${2 ** 32 - 1}`, `b:1:${2 ** 32 - 1}`, 'c:1'] }, { env: {} });
    try {
      for (const key of ['a', 'b', 'user:1']) expect(['a:1', 'b:1', 'c:1']).toContain(cache.nodeFor(key));
    } finally {
      await cache.close();
    }
  });

  it('refuses memory.maxEntriesPerNode over 1,000,000 (2^31 passed validation, then lru-cache preallocated its slots and the process died out of memory)', async () => {
    // Found by the option objects property under FUZZ_SEED=2..6: edge values such as 315360000 or 2^31 for memory.maxEntriesPerNode killed the worker.
    for (const maxEntriesPerNode of [2 ** 31, 315_360_000, 1_000_001]) {
      expect((await configError({ backend: 'memory', nodes: ['a:1'], memory: { maxEntriesPerNode } })).option).toBe('memory.maxEntriesPerNode');
    }
    const cache = await createCache({ backend: 'memory', nodes: ['a:1'], memory: { maxEntriesPerNode: 1_000_000 } }, { env: {} });
    await cache.close();
  });

  it('refuses an own "__proto__" key as an unknown option instead of reading options from it', async () => {
    // Counterexample (config files property): the file {"__proto__":{"nodes":["mem-a:1"]}} made a working cache.
    expect((await configError(JSON.parse('{"__proto__":{"nodes":["mem-a:1"]}}'))).option).toBe('__proto__');
    expect((await configError(JSON.parse('{"backend":"memory","nodes":["a:1"],"ring":{"__proto__":{"hashTag":"{}"}}}'))).option).toBe('ring.__proto__');
    expect((await configError(JSON.parse('{"backend":"memory","nodes":["a:1"],"ring":{"__proto__":{}}}'), { SHARDCACHE_RING_COMPAT: 'twemproxy' })).option).toBe('ring.__proto__');
  });
});

describe('memory backend', () => {
  let cache: ShardedCache;
  beforeAll(async () => {
    cache = await createCache({ backend: 'memory', nodes: ['mem-a:1', 'mem-b:2', 'mem-c:3'], timeouts: GENEROUS }, { env: {} });
  });
  afterAll(async () => {
    await cache?.close();
  });

  it('reads back a string value holding a lone surrogate as that string (was U+FFFD)', async () => {
    // Counterexample: set("!", "\ud800") read back "\ufffd".
    await cache.set('!', '\ud800');
    expect(await cache.get('!')).toBe('\ud800');
    await cache.mset([['a', 'x\udbff'], ['b', '\udc00y']]);
    expect(await cache.mget(['a', 'b'])).toEqual(['x\udbff', '\udc00y']);
    // A well-formed string is still stored as its plain UTF-8 bytes.
    expect(await cache.getOrLoad('c', () => '\ud83d\ude00')).toBe('\ud83d\ude00');
    expect(await cache.get('c')).toBe('\ud83d\ude00');
  });

  it('refuses a ttl that is a null-prototype object with InvalidArgumentError (was a TypeError from String())', async () => {
    // Counterexample: set('k', 1, { ttl: Object.create(null) }).
    const error = await rejection(cache.set('k', 1, { ttl: Object.create(null) as number }));
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as InvalidArgumentError).code).toBe('SHARDCACHE_INVALID_ARGUMENT');
    expect(await rejection(cache.mset([['k', 1]], { ttl: Symbol('ttl') as unknown as number }))).toBeInstanceOf(InvalidArgumentError);
  });

  it('refuses options that are not an object, such as set(key, value, 60), instead of storing without the TTL', async () => {
    // Counterexample: mset([], 60) and getOrLoad(key, loader, 60) resolved, the 60 silently ignored.
    await cache.set('ttl-target', 'old');
    for (const options of [60, '60', true]) {
      expect(await rejection(cache.set('ttl-target', 'new', options as never))).toBeInstanceOf(InvalidArgumentError);
      expect(await rejection(cache.mset([['ttl-target', 'new']], options as never))).toBeInstanceOf(InvalidArgumentError);
      expect(await rejection(cache.getOrLoad('ttl-other', () => 'new', options as never))).toBeInstanceOf(InvalidArgumentError);
      expect(await rejection(cache.mgetOrLoad(['ttl-other'], () => ['new'], options as never))).toBeInstanceOf(InvalidArgumentError);
    }
    expect(await cache.get('ttl-target')).toBe('old');
    expect(await cache.get('ttl-other')).toBeUndefined();
    // Absent, null and { ttl: null } still mean "the default TTL".
    await cache.set('ttl-target', 'a', undefined);
    await cache.set('ttl-target', 'b', null as never);
    await cache.set('ttl-target', 'c', { ttl: null as never });
    expect(await cache.get('ttl-target')).toBe('c');
  });

  it('refuses an invalidate count that is a null-prototype object with InvalidArgumentError (was a TypeError from String())', async () => {
    expect(await rejection(cache.invalidate('k*', { count: Object.create(null) as number }))).toBeInstanceOf(InvalidArgumentError);
  });

  it('refuses a pattern with a lone surrogate instead of deleting keys that start with U+FFFD', async () => {
    // Counterexample (sequence property): invalidate('x\ud800*') resolved; on Redis and memory nodes it matched '\ufffd...' keys.
    await cache.set('\ufffdkeep', 1);
    expect(await rejection(cache.invalidate('\ud800*'))).toBeInstanceOf(InvalidArgumentError);
    expect(await cache.get('\ufffdkeep')).toBe(1);
  });

  it('refuses a namespace name with a lone surrogate (it shared its version counter with the U+FFFD name)', async () => {
    // Counterexample (namespace isolation property): ['\ud800', '\udbff', '\ufffd'].
    await cache.namespace('\ufffd').set('k', 'kept');
    for (const name of ['\ud800', '\udbff', 'ns\udc00']) {
      expect(() => cache.namespace(name)).toThrow(InvalidArgumentError);
      expect(await rejection(cache.invalidateNamespace(name))).toBeInstanceOf(InvalidArgumentError);
    }
    expect(await cache.namespace('\ufffd').get('k')).toBe('kept');
  });

  it('refuses a namespace name that is not a string with InvalidArgumentError, BigInt included (JSON.stringify threw a TypeError)', async () => {
    expect(() => cache.namespace(10n as never)).toThrow(InvalidArgumentError);
    expect(await rejection(cache.invalidateNamespace(Object.create(null) as never))).toBeInstanceOf(InvalidArgumentError);
  });

  it('a namespace mset takes [key, value] pairs only, as the cache mset does (a third element was dropped, a missing value was InvalidValueError)', async () => {
    // Counterexample (namespace views property): mset([['a']]) in namespace '!'.
    const view = cache.namespace('!');
    expect(await rejection(view.mset([['a'] as never]))).toBeInstanceOf(InvalidArgumentError);
    expect(await rejection(view.mset([['a', 1, 2] as never]))).toBeInstanceOf(InvalidArgumentError);
    expect(await rejection(cache.mset([['a', 1, 2] as never]))).toBeInstanceOf(InvalidArgumentError);
    expect(await view.get('a')).toBeUndefined();
  });

  it('refuses what a custom codec returns when it is not bytes, with InvalidValueError (was a TypeError, or WriteFailedError from mset)', async () => {
    // Counterexample: codec.encode returning {}.
    const odd = await createCache({ backend: 'memory', nodes: ['mem-a:1'], codec: { encode: () => ({}) as Buffer, decode: () => 1 } }, { env: {} });
    try {
      expect(await rejection(odd.set('k', 1))).toBeInstanceOf(InvalidValueError);
      expect(await rejection(odd.mset([['k', 1]]))).toBeInstanceOf(InvalidValueError);
      expect(await odd.get('k')).toBeUndefined();
    } finally {
      await odd.close();
    }
  });
});

describe('real servers', () => {
  let redis: ServerProcess;
  let memcached: ServerProcess;
  beforeAll(async () => {
    [redis, memcached] = await Promise.all([startRedis(), startMemcached()]);
  });
  afterAll(async () => {
    await Promise.all([redis?.stop(), memcached?.stop()]);
  });

  it('memcached: a namespace name whose version key is over 250 bytes is refused before anything is sent (memcached refused the key and closed the connection under other requests)', async () => {
    // Counterexample (namespace views property): a name of 100 four-byte characters; the node's other requests failed with it.
    const cache = await createCache({ backend: 'memcached', nodes: [memcached.address], timeouts: GENEROUS }, { env: {} });
    try {
      const long = '\u{1f600}'.repeat(100);
      expect(() => cache.namespace(long)).toThrow(InvalidArgumentError);
      const others = [cache.set('neighbour', 1), cache.get('neighbour')];
      expect(await rejection(cache.invalidateNamespace(long))).toBeInstanceOf(InvalidArgumentError);
      await Promise.all(others);
      expect(await cache.get('neighbour')).toBe(1);
      expect(cache.health().status).toBe('up');
      // A name whose version key just fits still works: 120 two-byte characters + ':__version' = 250 bytes.
      expect(await cache.invalidateNamespace('\u00e9'.repeat(120))).toBeGreaterThan(0);
    } finally {
      await cache.close();
    }
  });

  it('redis: a pattern with a lone surrogate deletes nothing (it reached the server as U+FFFD)', async () => {
    const cache = await createCache({ backend: 'redis', nodes: [redis.address], timeouts: GENEROUS }, { env: {} });
    try {
      await cache.set('\ufffdkeep', 1);
      expect(await rejection(cache.invalidate('\ud800*'))).toBeInstanceOf(InvalidArgumentError);
      expect(await cache.get('\ufffdkeep')).toBe(1);
    } finally {
      await cache.close();
    }
  });

  it.each(['redis', 'memcached'] as const)('%s: a custom codec returning a Uint8Array round-trips (Redis used to store unreadable bytes and miss)', async (backend) => {
    const codec = { encode: (value: unknown) => new Uint8Array(Buffer.from(JSON.stringify(value))) as Buffer, decode: (bytes: Buffer) => JSON.parse(bytes.toString()) as unknown };
    const cache = await createCache({ backend, nodes: [(backend === 'redis' ? redis : memcached).address], codec, timeouts: GENEROUS }, { env: {} });
    try {
      await cache.set('u8', { a: 1 });
      await cache.mset([['u9', { b: 2 }]]);
      expect(await cache.mget(['u8', 'u9'])).toEqual([{ a: 1 }, { b: 2 }]);
    } finally {
      await cache.close();
    }
  });
});

describe('left over from the fuzz report', () => {
  it('invalidate refuses options that are not an object, as set does', async () => {
    const cache = await createCache({ backend: 'memory', nodes: ['mem-a:1'] }, { env: {} });
    try {
      await expect(cache.invalidate('k*', 5 as never)).rejects.toMatchObject({ code: 'SHARDCACHE_INVALID_ARGUMENT' });
      await expect(cache.invalidate('k*', null as never)).rejects.toMatchObject({ code: 'SHARDCACHE_INVALID_ARGUMENT' });
      expect((await cache.invalidate('k*', { count: 10 })).deleted).toBe(0);
    } finally {
      await cache.close();
    }
  });

  it('nodeFor and namespace throw ClosedError after close()', async () => {
    const cache = await createCache({ backend: 'memory', nodes: ['mem-a:1'] }, { env: {} });
    await cache.close();
    expect(() => cache.nodeFor('k')).toThrow(expect.objectContaining({ code: 'SHARDCACHE_CLOSED' }));
    expect(() => cache.namespace('n')).toThrow(expect.objectContaining({ code: 'SHARDCACHE_CLOSED' }));
  });
});
