/**
 * Batches far past what one request should carry, on real servers: an mget
 * of 450,000 keys with one node hung answers (misses for the hung node's
 * keys, values for the rest) instead of rejecting, and large batches reach
 * the servers in bounded pieces (MAX_KEYS_PER_REQUEST keys per Redis
 * command), across whose boundaries every value lands in its place.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisBackend } from '../../src/backends/redis.js';
import { storedValueOf } from '../../src/backends/backend.js';
import { MAX_KEYS_PER_REQUEST } from '../../src/backends/chunks.js';
import { createCache, type ShardcacheOptions, type ShardedCache } from '../../src/index.js';
import { redisCommandStats, redisResetStats, startMemcached, startRedis, stopAll, type ServerProcess } from '../harness/servers.js';

const HUGE_BATCH = 450_000;
const OPTIONS: Omit<ShardcacheOptions, 'backend' | 'nodes'> = {
  // Roomy: building and parsing a batch this size takes a loaded machine a while.
  timeouts: { getMs: 2000, setMs: 3000, batchMs: 3000, connectMs: 1000, getRetries: 1 },
  // The hung node's timed-out share is ejected at once and retried on the stand-ins: the retry path is the one that broke.
  health: { failureLimit: 1, retryTimeoutMs: 60_000 },
};

let servers: Record<'redis' | 'memcached', ServerProcess[]>;

beforeAll(async () => {
  const [redis, memcached] = await Promise.all([Promise.all([startRedis(), startRedis(), startRedis()]), Promise.all([startMemcached(), startMemcached(), startMemcached()])]);
  servers = { redis, memcached };
});
afterAll(stopAll);

describe.each(['redis', 'memcached'] as const)('large batches on %s', (backend) => {
  const open = (): Promise<ShardedCache> => createCache({ backend, nodes: servers[backend].map((s) => s.address), ...OPTIONS }, { env: {} });

  it(`mget of ${HUGE_BATCH} keys with one node hung answers instead of rejecting, retrying the hung node's share elsewhere`, async () => {
    const cache = await open();
    const hung = servers[backend][0]!;
    try {
      const keys = Array.from({ length: HUGE_BATCH }, (_, i) => `huge:${i}`);
      const written = keys.filter((_, i) => i % 1000 === 0);
      await cache.mset(written.map((key) => [key, key]));
      // Owners before the hung node is ejected (the retry and nodeFor see the ring without it).
      const onHung = new Set(keys.filter((key) => cache.nodeFor(key) === hung.address));
      hung.pause();
      const values = await cache.mget<string>(keys);
      expect(values).toHaveLength(HUGE_BATCH);
      for (const key of written) expect(values[keys.indexOf(key)]).toBe(onHung.has(key) ? undefined : key);
      const stats = cache.stats();
      expect(stats.reads.failures).toBe(0);
      expect(stats.nodes.find((node) => node.address === hung.address)).toMatchObject({ state: 'ejected', requests: { timeouts: 1 } });
      // Every key was answered once by a healthy node: the hung node's share on the retry.
      expect(stats.reads.hits + stats.reads.misses).toBe(HUGE_BATCH);
    } finally {
      hung.resume();
      await cache.close();
    }
  });

  it('reads and deletes a batch that spans several pieces, every value in its place', async () => {
    const cache = await open();
    try {
      const count = 3 * MAX_KEYS_PER_REQUEST * 2 + 7;
      const keys = Array.from({ length: count }, (_, i) => `span:${i}`);
      await cache.mset(keys.map((key) => [key, `value of ${key}`]));
      const values = await cache.mget<string>(keys);
      expect(values.every((value, i) => value === `value of ${keys[i]}`)).toBe(true);
      await Promise.all(keys.map((key, i) => (i % 2 === 0 ? cache.del(key) : undefined)));
      const after = await cache.mget<string>(keys);
      expect(after.every((value, i) => value === (i % 2 === 0 ? undefined : `value of ${keys[i]}`))).toBe(true);
    } finally {
      await cache.close();
    }
  });
});

describe('Redis commands past MAX_KEYS_PER_REQUEST keys', () => {
  it('go out as several MGET, DEL and UNLINK commands of at most MAX_KEYS_PER_REQUEST keys each', async () => {
    const server = servers.redis[1]!;
    const backend = new RedisBackend({ host: server.host, port: server.port, address: server.address }, { connectMs: 1000, connectRetries: 0, connectBackoffMs: 100, maxValueBytes: 1 << 20 });
    try {
      await backend.connect();
      const keys = Array.from({ length: 2 * MAX_KEYS_PER_REQUEST + 1 }, (_, i) => `pieces:${i}`);
      await backend.setMany(keys.map((key) => [key, { bytes: Buffer.from(key), flags: 0 }]), 0);
      await redisResetStats(server);

      const values = await backend.getMany(keys);
      expect(values.every((value, i) => value !== undefined && storedValueOf(value).bytes.toString() === keys[i])).toBe(true);
      await backend.delMany(keys);
      expect((await backend.getMany(keys)).every((value) => value === undefined)).toBe(true);
      const stats = await redisCommandStats(server);
      expect(stats.mget?.calls).toBe(6);
      expect(stats.del?.calls).toBe(3);

      await backend.setMany(keys.map((key) => [key, { bytes: Buffer.from(key), flags: 0 }]), 0);
      let deleted = 0;
      let cursor = '0';
      for (let page = 0; page < 100; page++) {
        const step = await backend.scanDelete(cursor, 'pieces:*', 3 * MAX_KEYS_PER_REQUEST);
        deleted += step.deleted;
        cursor = step.cursor;
        if (cursor === '0') break;
      }
      expect(deleted).toBe(keys.length);
      expect((await redisCommandStats(server)).unlink?.calls).toBeGreaterThanOrEqual(3);
      expect((await backend.getMany(keys)).every((value) => value === undefined)).toBe(true);
    } finally {
      await backend.close();
    }
  });
});
