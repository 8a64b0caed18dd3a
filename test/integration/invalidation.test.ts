/**
 * Invalidation on real servers and in-process nodes: by pattern (Redis SCAN
 * pages, never KEYS; memory with the same glob semantics, checked against
 * Redis itself), namespaces by versioning on all three backends (including
 * another process's view and a lost version counter), clear, and what
 * happens to a node that is out of the ring or hung meanwhile.
 */
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createCache,
  InvalidArgumentError,
  UnsupportedOperationError,
  WriteFailedError,
  type BackendKind,
  type ShardcacheOptions,
  type ShardedCache,
} from '../../src/index.js';
import { pauseMemoryNode, resumeMemoryNode } from '../../src/testing.js';
import { redisCommand, redisCommandStats, redisFlushAll, redisResetStats, startMemcached, startRedis, stopAll, type ServerProcess } from '../harness/servers.js';

const GENEROUS: ShardcacheOptions['timeouts'] = { getMs: 2000, setMs: 2000, batchMs: 2000, connectMs: 2000 };
const MEMORY_NODES = ['mem-a:1', 'mem-b:2', 'mem-c:3'];

let redis: ServerProcess[];
let memcached: ServerProcess[];

beforeAll(async () => {
  [redis, memcached] = await Promise.all([Promise.all([startRedis(), startRedis(), startRedis()]), Promise.all([startMemcached(), startMemcached(), startMemcached()])]);
});
afterAll(stopAll);

function nodesOf(backend: BackendKind): string[] {
  if (backend === 'memory') return MEMORY_NODES;
  return (backend === 'redis' ? redis : memcached).map((s) => s.address);
}

function open(backend: BackendKind, extra: Partial<ShardcacheOptions> = {}): Promise<ShardedCache> {
  return createCache({ backend, nodes: nodesOf(backend), timeouts: GENEROUS, ...extra }, { env: {} });
}

describe('invalidate by pattern on Redis', () => {
  it('deletes every match with SCAN pages (more keys per node than one page), UNLINK, and no KEYS', async () => {
    await Promise.all(redis.map(redisFlushAll));
    const cache = await open('redis');
    try {
      const users = Array.from({ length: 4500 }, (_, i) => `inv:user:${i}`);
      const orders = Array.from({ length: 600 }, (_, i) => `inv:order:${i}`);
      await cache.mset([...users, ...orders].map((key) => [key, key]));
      await Promise.all(redis.map(redisResetStats));

      const result = await cache.invalidate('inv:user:*');

      expect(result.deleted).toBe(4500);
      expect(result.nodes.map((n) => n.status)).toEqual(['done', 'done', 'done']);
      expect(result.nodes.reduce((sum, n) => sum + n.deleted!, 0)).toBe(4500);
      for (const server of redis) {
        const stats = await redisCommandStats(server);
        expect(stats.scan!.calls).toBeGreaterThanOrEqual(2); // ~1700 keys per node, 1000 per page
        expect(stats.unlink!.calls).toBeGreaterThanOrEqual(1);
        expect(stats.keys).toBeUndefined();
        expect(stats.del).toBeUndefined();
      }
      expect((await cache.mget(users)).every((v) => v === undefined)).toBe(true);
      expect(await cache.mget(orders)).toEqual(orders);
      const sizes = await Promise.all(redis.map((server) => redisCommand(server, 'DBSIZE')));
      expect(sizes.reduce((sum, size) => sum + Number(size.replace(':', '')), 0)).toBe(600);
    } finally {
      await cache.close();
    }
  });

  it('takes a SCAN COUNT per call, and rejects bad patterns and counts before sending anything', async () => {
    const cache = await open('redis');
    try {
      await cache.mset(Array.from({ length: 50 }, (_, i) => [`small:${i}`, i]));
      await Promise.all(redis.map(redisResetStats));
      expect((await cache.invalidate('small:*', { count: 10 })).deleted).toBe(50);
      const scans = await Promise.all(redis.map(async (server) => (await redisCommandStats(server)).scan!.calls));
      expect(scans.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(5);
      const sent = cache.stats().requests.total;
      await expect(cache.invalidate('')).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(cache.invalidate('x*', { count: 0 })).rejects.toBeInstanceOf(InvalidArgumentError);
      expect(cache.stats().requests.total).toBe(sent);
    } finally {
      await cache.close();
    }
  });
});

describe('in-process nodes match exactly what Redis matches', () => {
  const keys = [
    'a', 'ab', 'abc', 'abd', 'b', 'hello', 'hallo', 'hxllo', 'heeeello', 'hllo',
    'a[b', 'a]b', 'a*b', 'a?b', 'a\\b', 'a-b', 'a^b', 'x:1:y', 'x:22:y', 'x::y',
    'ключ', 'ключи', '键', 'é', 'e', '-', ']', '[', 'user:{42}:a', 'user:{43}:a',
  ];
  const patterns = [
    '*', 'a*', '*b', 'a?b', 'h?llo', 'h*llo', 'h[ae]llo', 'h[^e]llo', 'h[a-b]llo', 'h[b-a]llo',
    'a\\*b', 'a\\?b', 'a\\[b', 'a[\\]]b', 'a[]]b', 'a\\\\b', 'a[*?]b', '[', '[ab', 'a[b',
    '[a-c]', '[^a-c]', 'x:*:y', 'x:?:y', 'x:??:y', 'ключ*', '?', '??', '*{42}*', '\\-', 'a[-]b', 'a[^]b',
  ];

  beforeAll(() => Promise.all(redis.map(redisFlushAll)));

  it.each(patterns)('%s', async (pattern) => {
    const onRedis = await open('redis');
    const inMemory = await open('memory');
    try {
      for (const cache of [onRedis, inMemory]) await cache.mset(keys.map((key) => [key, 1]));
      const [fromRedis, fromMemory] = await Promise.all([onRedis.invalidate(pattern), inMemory.invalidate(pattern)]);
      const gone = async (cache: ShardedCache) => (await cache.mgetDetailed(keys)).filter((r) => r.status === 'miss').map((r) => r.key);
      const goneFromRedis = await gone(onRedis);
      expect(await gone(inMemory)).toEqual(goneFromRedis);
      expect(fromMemory.deleted).toBe(fromRedis.deleted);
      expect(fromRedis.deleted).toBe(goneFromRedis.length);
    } finally {
      await onRedis.invalidate('*');
      await onRedis.close();
      await inMemory.close();
    }
  });
});

describe('invalidate by pattern on Memcached', () => {
  it('is refused with UnsupportedOperationError pointing to namespaces; nothing is sent', async () => {
    const cache = await open('memcached');
    try {
      const error = await cache.invalidate('user:*').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UnsupportedOperationError);
      expect((error as UnsupportedOperationError).code).toBe('SHARDCACHE_UNSUPPORTED');
      expect((error as Error).message).toContain('invalidateNamespace');
      expect(cache.stats().requests.total).toBe(0);
    } finally {
      await cache.close();
    }
  });
});

describe.each(['memcached', 'redis', 'memory'] as const)('namespaces on %s', (backend) => {
  it('keep their keys apart, store them under name:<version>:key, and invalidate all of them at once', async () => {
    const cache = await open(backend);
    try {
      const run = `${backend}${Date.now()}`;
      const users = cache.namespace(`users-${run}`);
      const orders = cache.namespace(`orders-${run}`);
      await users.set('1', { name: 'Ada' });
      await users.mset([['2', { name: 'Grace' }], ['3', { name: 'Edsger' }]]);
      await orders.set('1', { total: 9 });
      expect(await users.get('1')).toEqual({ name: 'Ada' });
      expect(await orders.get('1')).toEqual({ total: 9 });
      expect(await users.mget(['1', '2', '4'])).toEqual([{ name: 'Ada' }, { name: 'Grace' }, undefined]);
      expect((await users.mgetDetailed(['3', '4'])).map((r) => [r.key, r.status])).toEqual([['3', 'hit'], ['4', 'miss']]);

      // The version lives in a counter stored as decimal text, as memcached's incr keeps it.
      const version = Number(await cache.get(`users-${run}:__version`));
      expect(version).toBeGreaterThan(1_600_000_000_000); // created from the clock, never 0 or 1
      expect(await cache.get(`users-${run}:${version}:1`)).toEqual({ name: 'Ada' });

      expect(await cache.invalidateNamespace(`users-${run}`)).toBe(version + 1);
      expect(await users.mget(['1', '2', '3'])).toEqual([undefined, undefined, undefined]);
      expect(await orders.get('1')).toEqual({ total: 9 });

      // Read-through after the invalidation: loaders see the keys without the prefix.
      const seen: string[][] = [];
      expect(await users.getOrLoad('1', () => ({ name: 'Ada 2' }))).toEqual({ name: 'Ada 2' });
      expect(await users.mgetOrLoad(['1', '2', '3'], (missing) => (seen.push(missing), new Map(missing.map((k) => [k, `loaded ${k}`]))))).toEqual([
        { name: 'Ada 2' },
        'loaded 2',
        'loaded 3',
      ]);
      expect(seen).toEqual([['2', '3']]);
      expect(await users.del('2')).toBe(true);

      expect(await orders.invalidate()).toBeGreaterThan(0);
      expect(await orders.get('1')).toBeUndefined();
    } finally {
      await cache.close();
    }
  });

  it('reject bad names and keys before sending anything', async () => {
    const cache = await open(backend);
    try {
      for (const name of ['', 'a:b', 'with space', 'x'.repeat(129), 7 as unknown as string]) {
        expect(() => cache.namespace(name)).toThrow(InvalidArgumentError);
        await expect(cache.invalidateNamespace(name)).rejects.toBeInstanceOf(InvalidArgumentError);
      }
      await expect(cache.namespace('ok').get('')).rejects.toThrow(/non-empty/);
      expect(cache.stats().requests.total).toBe(0);
    } finally {
      await cache.close();
    }
  });
});

describe.each(['memcached', 'redis'] as const)('namespaces across processes on %s', (backend) => {
  it('another process sees an invalidation within its namespaceVersionCacheMs, and a lost version counter invalidates', async () => {
    const writer = await open(backend);
    const fresh = await open(backend, { namespaceVersionCacheMs: 0 });
    const lagging = await open(backend, { namespaceVersionCacheMs: 3_600_000 });
    try {
      const name = `sessions-${Date.now()}`;
      await writer.namespace(name).set('s1', 'alive');
      expect(await fresh.namespace(name).get('s1')).toBe('alive');
      expect(await lagging.namespace(name).get('s1')).toBe('alive');

      await writer.invalidateNamespace(name);
      expect(await writer.namespace(name).get('s1')).toBeUndefined();
      expect(await fresh.namespace(name).get('s1')).toBeUndefined();
      // Documented staleness: a process that cached the version an hour long keeps reading the old entries until it re-reads.
      expect(await lagging.namespace(name).get('s1')).toBe('alive');

      // The counter is evicted (or its node restarted): it comes back from the clock, above every version used, so nothing old resurfaces.
      await writer.namespace(name).set('s2', 'before the loss');
      const before = Number(await writer.get(`${name}:__version`));
      expect(await writer.del(`${name}:__version`)).toBe(true);
      expect(await fresh.namespace(name).get('s2')).toBeUndefined();
      expect(Number(await writer.get(`${name}:__version`))).toBeGreaterThan(before);
    } finally {
      await Promise.all([writer.close(), fresh.close(), lagging.close()]);
    }
  });
});

describe.each(['memcached', 'redis', 'memory'] as const)('clear on %s', (backend) => {
  it('drops every entry on every node, namespaced ones included', async () => {
    const cache = await open(backend, { namespaceVersionCacheMs: 3_600_000 });
    try {
      const keys = Array.from({ length: 60 }, (_, i) => `clear:${i}`);
      await cache.mset(keys.map((key) => [key, key]));
      const tenant = cache.namespace('tenant');
      await tenant.set('a', 1);
      const result = await cache.clear();
      expect(result.nodes.map((n) => [n.node, n.status])).toEqual(nodesOf(backend).map((node) => [node, 'done']));
      expect((await cache.mget(keys)).every((v) => v === undefined)).toBe(true);
      expect(await tenant.get('a')).toBeUndefined();
      await tenant.set('a', 2);
      expect(await tenant.get('a')).toBe(2);
    } finally {
      await cache.close();
    }
  });
});

describe('a node out of the ring during clear or invalidate', () => {
  const FAILING: Partial<ShardcacheOptions> = {
    timeouts: { getMs: 50, setMs: 50, batchMs: 50, adminMs: 100 },
    health: { failureLimit: 2, retryTimeoutMs: 50, maxRetryTimeoutMs: 100, maxEjectedFraction: 0.5 },
  };

  it.each(['clear', 'invalidate'] as const)('%s: an ejected node is flushed before it returns, so it serves nothing from before', async (operation) => {
    const cache = await open('memory', FAILING);
    try {
      const key = 'out:1';
      const owner = cache.nodeFor(key);
      await cache.set(key, 'old');
      const ejected = once(cache.events, 'node:ejected');
      pauseMemoryNode(cache, owner);
      await cache.get(key); // times out twice: ejected
      await ejected;

      const result = operation === 'clear' ? await cache.clear() : await cache.invalidate('out:*');
      expect(result.nodes.find((n) => n.node === owner)).toEqual({ node: owner, status: 'flush-on-return' });
      expect(result.nodes.filter((n) => n.status === 'done')).toHaveLength(2);

      const readmitted = once(cache.events, 'node:readmitted');
      resumeMemoryNode(cache, owner);
      expect((await readmitted)[0]).toMatchObject({ node: owner, flushed: true });
      expect(cache.nodeFor(key)).toBe(owner);
      expect(await cache.get(key)).toBeUndefined();
    } finally {
      await cache.close();
    }
  });

  it('a hung node that stays on the ring fails the call with WriteFailedError naming it; the other nodes are done', async () => {
    const cache = await open('memory', { ...FAILING, health: { ...FAILING.health, maxEjectedFraction: 0 } });
    try {
      await cache.mset(Array.from({ length: 30 }, (_, i) => [`hang:${i}`, i]));
      pauseMemoryNode(cache, 'mem-b:2');
      const error = await cache.clear().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WriteFailedError);
      expect((error as Error).message).toBe('clear failed on mem-b:2; the other nodes are done');
      // The other nodes are empty; mem-b still hangs (its flush waits in its queue, as on a SIGSTOPped server).
      const results = await cache.mgetDetailed(Array.from({ length: 30 }, (_, i) => `hang:${i}`));
      expect(results.filter((r) => r.node === 'mem-b:2').every((r) => r.status === 'failed')).toBe(true);
      expect(results.filter((r) => r.node !== 'mem-b:2').every((r) => r.status === 'miss')).toBe(true);
      expect(results.some((r) => r.node === 'mem-b:2')).toBe(true);
      resumeMemoryNode(cache, 'mem-b:2');
    } finally {
      await cache.close();
    }
  });
});

describe('namespace read-through while the version cannot be read', () => {
  const HUNG: Partial<ShardcacheOptions> = { timeouts: { getMs: 30, setMs: 30, batchMs: 30 }, health: { maxEjectedFraction: 0 } };

  /** Polls (bounded) until `check` holds. */
  async function until(check: () => boolean): Promise<void> {
    for (let i = 0; i < 300 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(check()).toBe(true);
  }

  it('concurrent getOrLoad and mgetOrLoad calls still share one loader call per key', async () => {
    const cache = await open('memory', HUNG);
    const name = 'hot';
    const versionNode = cache.nodeFor(`${name}:__version`);
    pauseMemoryNode(cache, versionNode);
    try {
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      let calls = 0;
      const loads = Array.from({ length: 100 }, () =>
        cache.namespace(name).getOrLoad('p:1', async () => {
          calls++;
          await gate;
          return 'from the database';
        }),
      );
      await until(() => cache.stats().loads.coalesced === 99);
      release();
      expect(await Promise.all(loads)).toEqual(Array.from({ length: 100 }, () => 'from the database'));
      expect(calls).toBe(1);
      expect(cache.stats().loads).toMatchObject({ calls: 1, coalesced: 99 });

      const batches: string[][] = [];
      let releaseBatch!: () => void;
      const batchGate = new Promise<void>((resolve) => (releaseBatch = resolve));
      const batchLoads = Array.from({ length: 20 }, () =>
        cache.namespace(name).mgetOrLoad(['a', 'b', 'a'], async (missing) => {
          batches.push(missing);
          await batchGate;
          return missing.map((key) => `row ${key}`);
        }),
      );
      await until(() => cache.stats().loads.coalesced === 99 + 19 * 2);
      releaseBatch();
      expect(await Promise.all(batchLoads)).toEqual(Array.from({ length: 20 }, () => ['row a', 'row b', 'row a']));
      expect(batches).toEqual([['a', 'b']]);
    } finally {
      resumeMemoryNode(cache, versionNode);
      await cache.close();
    }
  });
});
