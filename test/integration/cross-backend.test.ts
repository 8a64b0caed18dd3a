/**
 * One value, two stored forms (README "Sharing a pool with other
 * languages"): Memcached keeps the value's bytes with its type in the item
 * flags; Redis keeps the same bytes, behind a mark carrying that flags word
 * unless the value is plain text. Either reads back equal.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storedValueOf } from '../../src/backends/backend.js';
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

  it('reads every value back equal through Redis and through Memcached', async () => {
    for (const [key, value] of VALUES) {
      await viaRedis.set(`x:${key}`, value);
      await viaMemcached.set(`x:${key}`, value);
      expect(await viaRedis.get(`x:${key}`)).toEqual(value);
      expect(await viaMemcached.get(`x:${key}`)).toEqual(value);
    }
  });

  it("stores the same value bytes: Memcached puts the type in the item's flags, Redis in a mark (none for plain text)", async () => {
    for (const [key, value] of VALUES) {
      const onMemcached = (await rawMemcached.get(`x:${key}`))!;
      const onRedis = storedValueOf((await rawRedis.get(`x:${key}`))!).bytes;
      if (typeof value === 'string') {
        expect(onMemcached.flags).toBe(16);
        expect(onRedis.equals(onMemcached.bytes), key).toBe(true);
        continue;
      }
      expect(onRedis.subarray(0, 3).equals(Buffer.from([0xc1, 0x73, 0x63])), key).toBe(true);
      expect(onRedis.readUInt32BE(3), key).toBe(onMemcached.flags);
      expect(onRedis.subarray(7).equals(onMemcached.bytes), key).toBe(true);
    }
  });

  it('a value moved between backends in the other one\'s form reads back equal', async () => {
    for (const [key, value] of VALUES) {
      const fromMemcached = (await rawMemcached.get(`x:${key}`))!;
      const marked = typeof value === 'string' ? fromMemcached.bytes : Buffer.concat([Buffer.from([0xc1, 0x73, 0x63, 0, 0, 0, 0]), fromMemcached.bytes]);
      if (typeof value !== 'string') marked.writeUInt32BE(fromMemcached.flags, 3);
      await rawRedis.set(`m:${key}`, { bytes: marked, flags: 0 }, 0);
      expect(await viaRedis.get(`m:${key}`)).toEqual(value);
    }
  });
});
