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
    expect((await configError({ nodes: new Array(1) })).option).toBe('nodes[0]');
    expect((await configError({ nodes: [, 'a:1'] })).option).toBe('nodes[0]');
  });

  it('refuses weights over 2^32-1 (1e308 passed validation, then nodeFor threw a TypeError and the fast ring a RangeError)', async () => {
    // Counterexample: nodes ['a:1:1e308', 'b:1:1e308']; the node-spec property shrank it to '127.0.0.1:1:4294967296'.
    expect((await configError({ nodes: ['a:1:1e308', 'b:1:1e308'] })).option).toBe('nodes[0]');
    expect((await configError({ nodes: ['a:1', { host: 'b', port: 1, weight: 2 ** 32 }], ring: { algorithm: 'fast' } })).option).toBe('nodes[1]');
    const cache = await createCache({ nodes: [`a:1:${2 ** 32 - 1}`, `b:1:${2 ** 32 - 1}`, 'c:1'] }, { env: {} });
    try {
      for (const key of ['a', 'b', 'user:1']) expect(['a:1', 'b:1', 'c:1']).toContain(cache.nodeFor(key));
    } finally {
      await cache.close();
    }
  });

  it('refuses an own "__proto__" key as an unknown option instead of reading options from it', async () => {
    // Counterexample (config files property): the file {"__proto__":{"nodes":["mem-a:1"]}} made a working cache.
    expect((await configError(JSON.parse('{"__proto__":{"nodes":["mem-a:1"]}}'))).option).toBe('__proto__');
    expect((await configError(JSON.parse('{"nodes":["a:1"],"ring":{"__proto__":{"hashTag":"{}"}}}'))).option).toBe('ring.__proto__');
    expect((await configError(JSON.parse('{"nodes":["a:1"],"ring":{"__proto__":{}}}'), { SHARDCACHE_RING_COMPAT: 'twemproxy' })).option).toBe('ring.__proto__');
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
