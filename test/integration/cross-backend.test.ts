/**
 * The stored bytes are the same on every backend: a value written through
 * Redis, copied byte for byte into Memcached, reads back equal (and back).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemcachedBackend } from '../../src/backends/memcached.js';
import { RedisBackend } from '../../src/backends/redis.js';
import { createCache, type ShardedCache } from '../../src/index.js';
import { startMemcached, startRedis, stopAll, type ServerProcess } from '../harness/servers.js';

const VALUES: [string, unknown][] = [
  ['object', { id: 1, name: 'Ada', tags: ['a', 'b'] }],
  ['string', 'plain'],
  ['numeric-string', '7'],
  ['number', 7],
  ['null', null],
  ['buffer', Buffer.from([0, 1, 2, 0xff])],
  ['unicode', 'ключ 键'],
];
const TIMEOUTS = { getMs: 2000, setMs: 2000, batchMs: 2000, connectMs: 2000 };

describe('values across backends', () => {
  let redis: ServerProcess;
  let memcached: ServerProcess;
  let viaRedis: ShardedCache;
  let viaMemcached: ShardedCache;
  let rawRedis: RedisBackend;
  let rawMemcached: MemcachedBackend;

  beforeAll(async () => {
    [redis, memcached] = await Promise.all([startRedis(), startMemcached()]);
    viaRedis = await createCache({ backend: 'redis', nodes: [redis.address], timeouts: TIMEOUTS }, { env: {} });
    viaMemcached = await createCache({ backend: 'memcached', nodes: [memcached.address], timeouts: TIMEOUTS }, { env: {} });
    rawRedis = new RedisBackend(redis, { connectMs: 2000, connectRetries: 0, connectBackoffMs: 0, maxValueBytes: 1 << 20 });
    rawMemcached = new MemcachedBackend(memcached, { connectMs: 2000, maxValueBytes: 1 << 20 });
    await Promise.all([rawRedis.connect(), rawMemcached.connect()]);
  });

  afterAll(async () => {
    await Promise.all([viaRedis?.close(), viaMemcached?.close(), rawRedis?.close(), rawMemcached?.close()]);
    await stopAll();
  });

  it('stores identical bytes through Redis and Memcached', async () => {
    for (const [key, value] of VALUES) {
      await viaRedis.set(`x:${key}`, value);
      await viaMemcached.set(`x:${key}`, value);
      expect(await rawRedis.get(`x:${key}`)).toEqual(await rawMemcached.get(`x:${key}`));
    }
  });

  it('reads Redis-written bytes back equal through Memcached, and the reverse', async () => {
    for (const [key, value] of VALUES) {
      await viaRedis.set(`r:${key}`, value);
      await rawMemcached.set(`r:${key}`, (await rawRedis.get(`r:${key}`))!, 0);
      expect(await viaMemcached.get(`r:${key}`)).toEqual(value);

      await viaMemcached.set(`m:${key}`, value);
      await rawRedis.set(`m:${key}`, (await rawMemcached.get(`m:${key}`))!, 0);
      expect(await viaRedis.get(`m:${key}`)).toEqual(value);
    }
  });
});
