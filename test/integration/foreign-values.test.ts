/**
 * Values other clients wrote read back intact, and values shardcache writes
 * reach other clients without marker bytes (README "Sharing a pool with
 * other languages"):
 * - memcached: Debian's pylibmc (test/harness/pylibmc-client.py, system
 *   python3) writes into a live two-node pool and shardcache reads each
 *   value, singly, batched (GETKQ) and in a tick's batch; then shardcache
 *   writes (SET and SETQ) and pylibmc reads;
 * - a custom codec gives and gets memcached's flags;
 * - Redis: a raw ioredis client writes foreign bytes, shardcache reads them;
 * - values in the format of versions before flags read as documented, and
 *   `codec: 'legacy'` still reads them as what they were.
 * pylibmc is a test dependency like the servers (scripts/test-all.sh installs
 * python3-pylibmc): without it these tests fail, they do not skip.
 */
import { execFile } from 'node:child_process';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemcachedBackend } from '../../src/backends/memcached.js';
import { createCache, type ShardedCache } from '../../src/index.js';
import { startMemcached, startRedis, stopAll, type ServerProcess } from '../harness/servers.js';

const PYTHON = '/usr/bin/python3';
const CLIENT = new URL('../harness/pylibmc-client.py', import.meta.url).pathname;
const TIMEOUTS = { getMs: 2000, setMs: 2000, batchMs: 2000, connectMs: 2000 };

type Described = { type: string; value?: unknown; base64?: string; repr?: string; error?: string } | null;

/** One pylibmc session: its writes, then its reads. Bounded by a 30 s timeout. */
function pylibmc(servers: readonly ServerProcess[], writes: [string, string, unknown][], reads: string[] = [], decodeJson = false): Promise<Record<string, Described>> {
  const request = JSON.stringify({ servers: servers.map((server) => server.address), writes, reads, decodeJson });
  return new Promise((resolve, reject) => {
    const child = execFile(PYTHON, [CLIENT], { timeout: 30_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`pylibmc client failed: ${stderr || error.message}`));
      else resolve((JSON.parse(stdout) as { reads: Record<string, Described> }).reads);
    });
    child.stdin!.end(request);
  });
}

function pylibmcInstalled(): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(PYTHON, ['-c', 'import pylibmc'], { timeout: 30_000 }, (error) => {
      if (error) reject(new Error('pylibmc is missing: install Debian\'s python3-pylibmc (scripts/test-all.sh does)'));
      else resolve();
    });
  });
}

const b64 = (bytes: number[] | Buffer) => Buffer.from(bytes).toString('base64');

describe('memcached pool shared with pylibmc', () => {
  let pool: ServerProcess[];
  let cache: ShardedCache;
  let raw: MemcachedBackend[];

  beforeAll(async () => {
    await pylibmcInstalled();
    pool = await Promise.all([startMemcached(), startMemcached()]);
    cache = await createCache({ backend: 'memcached', nodes: pool.map((server) => server.address), timeouts: TIMEOUTS }, { env: {} });
    raw = pool.map((server) => new MemcachedBackend(server, { connectMs: 2000, maxValueBytes: 1 << 20 }));
  });

  afterAll(async () => {
    await Promise.all([cache?.close(), ...(raw ?? []).map((backend) => backend.close())]);
    await stopAll();
  });

  /** A prefix (from a bounded search) under which `keys` are owned by every node of the pool. */
  function spanningPrefix(keys: readonly string[]): string {
    for (let attempt = 0; attempt < 1_000; attempt++) {
      const prefix = attempt === 0 ? '' : `${attempt}:`;
      if (pool.every((server) => keys.some((key) => cache.nodeFor(`${prefix}${key}`) === server.address))) return prefix;
    }
    throw new Error('no prefix in 1,000 puts these keys on every node');
  }

  /** The flags and bytes memcached holds under `key`, from the node shardcache routes it to. */
  async function storedItem(key: string) {
    return raw[pool.findIndex((server) => server.address === cache.nodeFor(key))]!.get(key);
  }

  it('reads what pylibmc wrote: text, int, bool, bytes starting 0x00-0x02 typed or intact, and a pickle as its exact bytes', async () => {
    const listed: [string, string, unknown, unknown][] = [
      ['py:text', 'text', 'héllo wörld', 'héllo wörld'],
      ['py:int', 'int', '42', 42],
      ['py:int-big', 'int', String(2n ** 70n), 2n ** 70n],
      ['py:true', 'bool', true, true],
      ['py:false', 'bool', false, false],
      ['py:bytes-00', 'bytes', b64([0x00, 0x61, 0x62, 0x63]), Buffer.from([0x00, 0x61, 0x62, 0x63])],
      ['py:bytes-01', 'bytes', b64([0x01, 0x02, 0x72, 0x61, 0x77, 0xff]), Buffer.from([0x01, 0x02, 0x72, 0x61, 0x77, 0xff])],
      ['py:bytes-02', 'bytes', b64([0x02, 0x78, 0x79, 0x7a]), Buffer.from([0x02, 0x78, 0x79, 0x7a])],
      ['py:pickle', 'pickle', { a: 1 }, undefined],
    ];
    // Placement depends on the servers' ports: pick a key prefix that puts these keys on both nodes.
    const prefix = spanningPrefix(listed.map(([key]) => key));
    const written = listed.map(([key, ...rest]) => [`${prefix}${key}`, ...rest] as [string, string, unknown, unknown]);
    await pylibmc(pool, written.map(([key, kind, value]) => [key, kind, value]));
    const keys = written.map(([key]) => key);
    const pickle = (await storedItem(`${prefix}py:pickle`))!;
    expect(pickle.flags, "pylibmc's pickle flag").toBe(1);
    const expected = written.map(([key, , , value]) => (key === `${prefix}py:pickle` ? Buffer.from(pickle.bytes) : value));
    expect(pool.every((server) => keys.some((key) => cache.nodeFor(key) === server.address)), 'the keys span both nodes').toBe(true);

    const single: unknown[] = [];
    for (const key of keys) single.push(await cache.get(key));
    const concurrent = await Promise.all(keys.map((key) => cache.get(key)));
    const batched = await cache.mget(keys);
    for (const [how, values] of [['get', single], ['concurrent gets', concurrent], ['mget', batched]] as const) {
      for (let i = 0; i < keys.length; i++) {
        const read = values[i];
        if (Buffer.isBuffer(expected[i])) {
          expect(Buffer.isBuffer(read), `${how} ${keys[i]} reads as a Buffer`).toBe(true);
          expect((read as Buffer).equals(expected[i] as Buffer), `${how} ${keys[i]} bytes intact`).toBe(true);
        } else {
          expect(read, `${how} ${keys[i]}`).toStrictEqual(expected[i]);
        }
      }
    }
  });

  it('writes what pylibmc reads with no marker bytes: text, number, object, Buffer, boolean (SET and SETQ)', async () => {
    const object = { a: 1, b: [1, 'x', null] };
    const buffer = Buffer.from([0x01, 0x02, 0xff]);
    await cache.set('js:text', 'héllo');
    await cache.set('js:number', 42);
    await cache.set('js:object', object);
    await cache.set('js:buffer', buffer);
    await cache.mset([
      ['js:m:text', '\u0000starts with NUL'],
      ['js:m:number', -7],
      ['js:m:object', [1, 2]],
      ['js:m:buffer', Buffer.from([0x00, 0x10])],
      ['js:m:bool', true],
    ]);
    const reads = await pylibmc(pool, [], ['js:text', 'js:number', 'js:object', 'js:buffer', 'js:m:text', 'js:m:number', 'js:m:object', 'js:m:buffer', 'js:m:bool']);
    expect(reads['js:text']).toEqual({ type: 'str', value: 'héllo' });
    expect(reads['js:number']).toEqual({ type: 'int', value: '42' });
    expect(reads['js:object']).toEqual({ type: 'bytes', base64: b64(Buffer.from(JSON.stringify(object))) });
    expect(reads['js:buffer']).toEqual({ type: 'bytes', base64: b64(buffer) });
    expect(reads['js:m:text']).toEqual({ type: 'str', value: '\u0000starts with NUL' });
    expect(reads['js:m:number']).toEqual({ type: 'int', value: '-7' });
    expect(reads['js:m:object']).toEqual({ type: 'bytes', base64: b64(Buffer.from('[1,2]')) });
    expect(reads['js:m:buffer']).toEqual({ type: 'bytes', base64: b64([0x00, 0x10]) });
    // pylibmc reads flag 2 (its own bools too) as an int.
    expect(reads['js:m:bool']).toEqual({ type: 'int', value: '1' });
    // README's deserialize() recipe turns shardcache's JSON flag into Python objects.
    const decoded = await pylibmc(pool, [], ['js:object', 'js:text'], true);
    expect(decoded['js:object']).toEqual({ type: 'dict', repr: "{'a': 1, 'b': [1, 'x', None]}" });
    expect(decoded['js:text']).toEqual({ type: 'str', value: 'héllo' });
  });
});

describe('a custom codec on memcached', () => {
  let server: ServerProcess;
  let cache: ShardedCache;
  let raw: MemcachedBackend;
  const seen: number[] = [];

  beforeAll(async () => {
    server = await startMemcached();
    // Stores text with a flags word of its own and reads only that flags word back: anything else is a miss.
    const codec = {
      encode: (value: unknown) => ({ bytes: Buffer.from(String(value)), flags: 0xabcd }),
      decode: (bytes: Buffer, flags: number) => {
        seen.push(flags);
        return flags === 0xabcd ? bytes.toString() : undefined;
      },
    };
    cache = await createCache({ backend: 'memcached', nodes: [server.address], timeouts: TIMEOUTS, codec }, { env: {} });
    raw = new MemcachedBackend(server, { connectMs: 2000, maxValueBytes: 1 << 20 });
  });

  afterAll(async () => {
    await Promise.all([cache?.close(), raw?.close()]);
    await stopAll();
  });

  it('gives the flags it returns to memcached (SET and SETQ) and gets them back on reads (GET and GETKQ); its undefined is a miss', async () => {
    await cache.set('c:one', 'v1');
    await cache.mset([['c:two', 'v2']]);
    expect(await raw.get('c:one')).toEqual({ bytes: Buffer.from('v1'), flags: 0xabcd });
    expect(await raw.get('c:two')).toEqual({ bytes: Buffer.from('v2'), flags: 0xabcd });
    await raw.set('c:pickle', { bytes: Buffer.from([0x80, 0x05]), flags: 1 }, 0);
    expect(await cache.get('c:one')).toBe('v1');
    expect(await cache.mget(['c:two', 'c:pickle'])).toEqual(['v2', undefined]);
    expect(seen).toEqual([0xabcd, 0xabcd, 1]);
    expect(cache.stats().reads).toMatchObject({ hits: 2, misses: 1 });
  });
});

describe('Redis: bytes another client wrote', () => {
  let redis: ServerProcess;
  let writer: Redis;
  let cache: ShardedCache;
  let raw: ShardedCache;

  beforeAll(async () => {
    redis = await startRedis();
    writer = new Redis({ host: redis.host, port: redis.port, lazyConnect: true, protocol: 2, maxRetriesPerRequest: 0 });
    await writer.connect();
    cache = await createCache({ backend: 'redis', nodes: [redis.address], timeouts: TIMEOUTS }, { env: {} });
    raw = await createCache({ backend: 'redis', nodes: [redis.address], timeouts: TIMEOUTS, codec: 'raw' }, { env: {} });
  });

  afterAll(async () => {
    writer?.disconnect();
    await Promise.all([cache?.close(), raw?.close()]);
    await stopAll();
  });

  it('read back intact: text as a string, binary (0x00-0x02 first bytes, a pickle, 0xC1 alone) as a Buffer of the exact bytes', async () => {
    const foreign: [string, Buffer, unknown][] = [
      ['r:text', Buffer.from('plain text, written by redis-cli\n'), 'plain text, written by redis-cli\n'],
      ['r:php', Buffer.from('a:1:{s:1:"a";i:1;}'), 'a:1:{s:1:"a";i:1;}'],
      ['r:00', Buffer.from([0x00, 0x61, 0x62, 0x63]), undefined],
      ['r:01', Buffer.from([0x01, 0x02, 0x72, 0x61, 0x77, 0xff]), undefined],
      ['r:02', Buffer.from([0x02, 0x7b, 0x7d]), undefined],
      ['r:pickle', Buffer.from('gAWVCgAAAAAAAAB9lIwBYZRLAXMu', 'base64'), undefined],
      ['r:c1', Buffer.from([0xc1, 0x73]), undefined],
    ];
    for (const [key, bytes] of foreign) await writer.set(key, bytes);
    const keys = foreign.map(([key]) => key);
    const single: unknown[] = [];
    for (const key of keys) single.push(await cache.get(key));
    const batched = await cache.mget(keys);
    for (const values of [single, batched]) {
      foreign.forEach(([key, bytes, text], i) => {
        if (text !== undefined) expect(values[i], key).toBe(text);
        else expect(Buffer.isBuffer(values[i]) && (values[i] as Buffer).equals(bytes), `${key} intact`).toBe(true);
      });
    }
  });

  it("stores plain text bare, and codec 'raw' stores every value bare", async () => {
    await cache.set('w:text', 'héllo');
    expect((await writer.getBuffer('w:text'))!.equals(Buffer.from('héllo'))).toBe(true);
    await cache.set('w:number', 42);
    expect((await writer.getBuffer('w:number'))!.subarray(0, 3).equals(Buffer.from([0xc1, 0x73, 0x63]))).toBe(true);
    expect(await cache.get('w:number')).toBe(42);

    await raw.mset([['raw:number', 42], ['raw:object', { a: 1 }], ['raw:buffer', Buffer.from([0x01, 0xff])]]);
    expect(await writer.get('raw:number')).toBe('42');
    expect(await writer.get('raw:object')).toBe('{"a":1}');
    expect((await writer.getBuffer('raw:buffer'))!.equals(Buffer.from([0x01, 0xff]))).toBe(true);
    expect(await raw.mget(['raw:number', 'raw:buffer'])).toEqual(['42', Buffer.from([0x01, 0xff])]);
  });
});

describe('values in the format of versions before flags', () => {
  const LEGACY: [string, Buffer, unknown][] = [
    ['old:json', Buffer.from('\u0000{"a":1}'), { a: 1 }],
    ['old:buffer', Buffer.from([0x01, 0xff, 0x00]), Buffer.from([0xff, 0x00])],
    ['old:text', Buffer.from('plain'), 'plain'],
    ['old:escaped', Buffer.from('\u0002\u0001y'), '\u0001y'],
  ];
  let memcached: ServerProcess;
  let redis: ServerProcess;
  const caches: ShardedCache[] = [];

  beforeAll(async () => {
    [memcached, redis] = await Promise.all([startMemcached(), startRedis()]);
  });

  afterAll(async () => {
    await Promise.all(caches.map((cache) => cache.close()));
    await stopAll();
  });

  it.each(['memcached', 'redis'] as const)("%s: read back with their old bytes by default (README: the one-time cost), as what they were with codec 'legacy'", async (backend) => {
    const nodes = [(backend === 'memcached' ? memcached : redis).address];
    const legacy = await createCache({ backend, nodes, timeouts: TIMEOUTS, codec: 'legacy' }, { env: {} });
    const current = await createCache({ backend, nodes, timeouts: TIMEOUTS }, { env: {} });
    const writer = await createCache({ backend, nodes, timeouts: TIMEOUTS, codec: { encode: (bytes) => bytes as Buffer, decode: (bytes) => bytes } }, { env: {} });
    caches.push(legacy, current, writer);
    // The old format exactly: these bytes, flags 0.
    await writer.mset(LEGACY.map(([key, bytes]) => [key, bytes]));

    expect(await legacy.mget(LEGACY.map(([key]) => key))).toEqual(LEGACY.map(([, , value]) => value));
    const read = await current.mget(LEGACY.map(([key]) => key));
    LEGACY.forEach(([key, bytes], i) => {
      // Redis: old plain text is still the same string; everything else is its old bytes.
      if (backend === 'redis' && key === 'old:text') expect(read[i]).toBe('plain');
      else expect(Buffer.isBuffer(read[i]) && (read[i] as Buffer).equals(bytes), `${key}: ${String(read[i])}`).toBe(true);
    });
  });
});
