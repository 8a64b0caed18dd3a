/**
 * What the servers themselves counted: an mget of 1000 keys over 4 nodes is
 * one pipelined round trip per node, and a rejected key sends nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCache, InvalidKeyError, type ShardedCache } from '../../src/index.js';
import {
  memcachedStats,
  redisCommandStats,
  redisResetStats,
  serverSocketCounters,
  startMemcached,
  startRedis,
  stopAll,
  type ServerProcess,
} from '../harness/servers.js';

const KEYS = Array.from({ length: 1000 }, (_, i) => `batch:${i}`);
const GENEROUS = { getMs: 2000, setMs: 2000, batchMs: 5000, connectMs: 2000 };

afterAll(stopAll);

function keysPerNode(cache: ShardedCache, keys: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const key of new Set(keys)) counts.set(cache.nodeFor(key), (counts.get(cache.nodeFor(key)) ?? 0) + 1);
  return counts;
}

describe('redis: mget of 1000 keys over 4 nodes', () => {
  let servers: ServerProcess[];
  let cache: ShardedCache;

  beforeAll(async () => {
    servers = await Promise.all([startRedis(), startRedis(), startRedis(), startRedis()]);
    cache = await createCache({ backend: 'redis', nodes: servers.map((s) => s.address), timeouts: GENEROUS }, { env: {} });
    await cache.mset(KEYS.map((key, i) => [key, i]));
  });
  afterAll(async () => cache?.close());

  it('sends one MGET per node and nothing else', async () => {
    await Promise.all(servers.map(redisResetStats));
    const asked = [...KEYS, ...KEYS.slice(0, 100)];
    const values = await cache.mget<number>(asked);
    expect(values).toEqual(asked.map((key) => Number(key.slice('batch:'.length))));

    const owned = keysPerNode(cache, asked);
    for (const server of servers) {
      const stats = await redisCommandStats(server);
      expect(owned.get(server.address)).toBeGreaterThan(0);
      expect(stats.mget?.calls).toBe(1);
      expect(stats.get).toBeUndefined();
    }
  });

  it('sends nothing for a batch with one invalid key', async () => {
    await Promise.all(servers.map(redisResetStats));
    await expect(cache.mget([...KEYS.slice(0, 10), ''])).rejects.toBeInstanceOf(InvalidKeyError);
    await expect(cache.mset([['ok', 1], ['', 2]])).rejects.toBeInstanceOf(InvalidKeyError);
    for (const server of servers) {
      const stats = await redisCommandStats(server);
      expect(stats.mget).toBeUndefined();
      expect(stats.set).toBeUndefined();
    }
  });
});

describe('memcached: mget of 1000 keys over 4 nodes', () => {
  let servers: ServerProcess[];
  let cache: ShardedCache;

  beforeAll(async () => {
    servers = await Promise.all([startMemcached(), startMemcached(), startMemcached(), startMemcached()]);
    cache = await createCache({ backend: 'memcached', nodes: servers.map((s) => s.address), timeouts: GENEROUS }, { env: {} });
    await cache.mset(KEYS.map((key, i) => [key, i]));
  });
  afterAll(async () => cache?.close());

  it('fetches each distinct key once, in one request per node', async () => {
    const before = await Promise.all(servers.map(memcachedStats));
    const socketsBefore = await Promise.all(servers.map(serverSocketCounters));
    const asked = [...KEYS, ...KEYS.slice(0, 100)];
    const values = await cache.mget<number>(asked);
    expect(values).toEqual(asked.map((key) => Number(key.slice('batch:'.length))));
    const socketsAfter = await Promise.all(servers.map(serverSocketCounters));
    const after = await Promise.all(servers.map(memcachedStats));

    // The cache holds one connection per node, and the kernel saw one request arrive on it.
    servers.forEach((_, i) => {
      expect(socketsBefore[i]).toHaveLength(1);
      expect(socketsAfter[i]![0]!.peer).toBe(socketsBefore[i]![0]!.peer);
      expect(socketsAfter[i]![0]!.dataSegmentsIn - socketsBefore[i]![0]!.dataSegmentsIn).toBe(1);
    });

    const owned = keysPerNode(cache, asked);
    servers.forEach((server, i) => {
      const delta = (name: string) => Number(after[i]![name]) - Number(before[i]![name]);
      expect(delta('cmd_get')).toBe(owned.get(server.address));
      expect(delta('get_hits')).toBe(owned.get(server.address));
      // The stats connection itself is the only new connection.
      expect(delta('total_connections')).toBe(1);
    });
  });

  it('rejects keys memcached forbids and sends nothing', async () => {
    const before = await Promise.all(servers.map(memcachedStats));
    for (const bad of ['', 'has space', 'tab\tkey', 'nl\nkey', 'x'.repeat(251), '键'.repeat(84)]) {
      await expect(cache.get(bad)).rejects.toBeInstanceOf(InvalidKeyError);
      await expect(cache.set(bad, 1)).rejects.toBeInstanceOf(InvalidKeyError);
      await expect(cache.mget(['fine', bad])).rejects.toBeInstanceOf(InvalidKeyError);
    }
    const after = await Promise.all(servers.map(memcachedStats));
    servers.forEach((_, i) => {
      expect(Number(after[i]!.cmd_get)).toBe(Number(before[i]!.cmd_get));
      expect(Number(after[i]!.cmd_set)).toBe(Number(before[i]!.cmd_set));
    });
  });
});
