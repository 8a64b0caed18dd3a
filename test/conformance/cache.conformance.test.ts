/**
 * One suite, three backends: every case runs against in-process memory nodes,
 * real redis-server processes and real memcached processes (three nodes each).
 * Deadlines are generous here: this suite is about behaviour, not speed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCache, InvalidArgumentError, InvalidKeyError, InvalidValueError, ClosedError, type ShardedCache, type BackendKind, type Codec } from '../../src/index.js';
import { startMemcached, startRedis, type ServerProcess } from '../harness/servers.js';

interface Pool {
  nodes: string[];
  stop(): Promise<void>;
}

const pools: Record<BackendKind, () => Promise<Pool>> = {
  memory: async () => ({ nodes: ['mem-a:1', 'mem-b:2', 'mem-c:3'], stop: async () => {} }),
  redis: () => serverPool(startRedis),
  memcached: () => serverPool(startMemcached),
};

async function serverPool(start: () => Promise<ServerProcess>): Promise<Pool> {
  const servers = await Promise.all([start(), start(), start()]);
  return { nodes: servers.map((s) => s.address), stop: async () => void (await Promise.all(servers.map((s) => s.stop()))) };
}

const GENEROUS = { getMs: 2000, setMs: 2000, batchMs: 2000, connectMs: 2000 };

/** Polls `check` until it holds, at most `limitMs`; returns whether it did. */
async function eventually(check: () => Promise<boolean>, limitMs: number): Promise<boolean> {
  const until = Date.now() + limitMs;
  for (let attempt = 0; attempt < 100 && Date.now() < until; attempt++) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return check();
}

describe.each(['memory', 'redis', 'memcached'] as const)('%s backend', (backend) => {
  let pool: Pool;
  let cache: ShardedCache;
  let run = 0;
  const key = (name: string) => `conf:${run}:${name}`;

  beforeAll(async () => {
    pool = await pools[backend]();
    cache = await createCache({ backend, nodes: pool.nodes, timeouts: GENEROUS }, { env: {} });
    run = Date.now();
  });

  afterAll(async () => {
    await cache?.close();
    await pool?.stop();
  });

  it('misses with undefined', async () => {
    expect(await cache.get(key('absent'))).toBeUndefined();
  });

  it('round-trips values with their types', async () => {
    const values: [string, unknown][] = [
      ['object', { name: 'Ada', tags: ['x', 'y'], nested: { n: 1.5 } }],
      ['array', [1, 'two', null]],
      ['number', 42],
      ['zero', 0],
      ['false', false],
      ['null', null],
      ['string', 'plain text'],
      ['numeric-string', '42'],
      ['empty-string', ''],
      ['unicode', 'ключ 键 🎉'],
      ['buffer', Buffer.from([0, 1, 2, 254, 255])],
    ];
    for (const [name, value] of values) await cache.set(key(name), value);
    for (const [name, value] of values) expect(await cache.get(key(name))).toEqual(value);
  });

  it('overwrites and deletes', async () => {
    await cache.set(key('ow'), 1);
    await cache.set(key('ow'), 2);
    expect(await cache.get(key('ow'))).toBe(2);
    expect(await cache.del(key('ow'))).toBe(true);
    expect(await cache.del(key('ow'))).toBe(false);
    expect(await cache.get(key('ow'))).toBeUndefined();
  });

  it('expires entries after their TTL', async () => {
    await cache.set(key('ttl'), 'soon gone', { ttl: 1 });
    await cache.set(key('no-ttl'), 'stays');
    expect(await cache.get(key('ttl'))).toBe('soon gone');
    expect(await eventually(async () => (await cache.get(key('ttl'))) === undefined, 3500)).toBe(true);
    expect(await cache.get(key('no-ttl'))).toBe('stays');
  });

  it('mget answers aligned with the keys, misses as undefined, duplicates filled', async () => {
    const names = Array.from({ length: 60 }, (_, i) => key(`m${i}`));
    await cache.mset(names.filter((_, i) => i % 3 !== 0).map((name, i) => [name, { i, name }]));
    const asked = [...names, names[1]!, key('nope'), names[1]!];
    const got = await cache.mget<{ name: string }>(asked);
    expect(got).toHaveLength(asked.length);
    asked.forEach((name, i) => {
      const index = names.indexOf(name);
      if (index === -1 || index % 3 === 0) expect(got[i]).toBeUndefined();
      else expect(got[i]?.name).toBe(name);
    });
    expect(await cache.mget([])).toEqual([]);
  });

  it('concurrent gets started in one tick each get their own answer, repeated keys included', async () => {
    const present = Array.from({ length: 60 }, (_, i) => key(`burst:${i}`));
    await cache.mset(present.map((k, i) => [k, { i }]));
    const asked = present.flatMap((k, i) => (i % 3 === 0 ? [k, key(`burst:absent:${i}`), k] : [k]));
    const answers = await Promise.all(asked.map((k) => cache.get(k)));
    expect(answers).toEqual(asked.map((k) => (present.includes(k) ? { i: present.indexOf(k) } : undefined)));
  });

  it('mset with a TTL and the last value winning for a repeated key', async () => {
    await cache.mset([[key('ms1'), 'a'], [key('ms2'), 'b'], [key('ms1'), 'c']], { ttl: 60 });
    expect(await cache.mget([key('ms1'), key('ms2')])).toEqual(['c', 'b']);
  });

  it('getOrLoad loads on a miss, writes back, and coalesces concurrent loads', async () => {
    let calls = 0;
    const loader = async () => {
      calls++;
      await new Promise((resolve) => setTimeout(resolve, 20));
      return { loaded: true };
    };
    const answers = await Promise.all(Array.from({ length: 50 }, () => cache.getOrLoad(key('gol'), loader, { ttl: 60 })));
    expect(answers.every((a) => a.loaded)).toBe(true);
    expect(calls).toBe(1);
    expect(await eventually(async () => (await cache.get(key('gol'))) !== undefined, 2000)).toBe(true);
    expect(await cache.getOrLoad(key('gol'), loader)).toEqual({ loaded: true });
    expect(calls).toBe(1);
  });

  it('getOrLoad passes loader errors through and caches nothing for undefined', async () => {
    await expect(cache.getOrLoad(key('gol-err'), () => Promise.reject(new Error('db down')))).rejects.toThrow('db down');
    expect(await cache.getOrLoad(key('gol-undef'), () => undefined)).toBeUndefined();
    expect(await cache.get(key('gol-undef'))).toBeUndefined();
  });

  it('nodeFor names a configured node and the value lives there', async () => {
    const owners = new Set(Array.from({ length: 200 }, (_, i) => cache.nodeFor(key(`owner${i}`))));
    expect([...owners].sort()).toEqual([...pool.nodes].sort());
  });

  it('rejects bad input with typed errors', async () => {
    await expect(cache.get('')).rejects.toBeInstanceOf(InvalidKeyError);
    await expect(cache.set('', 1)).rejects.toBeInstanceOf(InvalidKeyError);
    await expect(cache.mget(['ok', ''])).rejects.toBeInstanceOf(InvalidKeyError);
    await expect(cache.set(key('u'), undefined)).rejects.toBeInstanceOf(InvalidValueError);
    await expect(cache.set(key('big'), 'x'.repeat(1_100_000))).rejects.toBeInstanceOf(InvalidValueError);
    await expect(cache.set(key('t'), 1, { ttl: -1 })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(cache.set(key('t'), 1, { ttl: 1.5 })).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(() => cache.nodeFor('')).toThrow(InvalidKeyError);
    // A lone surrogate would reach the wire as U+FFFD, aliasing another key.
    await expect(cache.set(key('\ud800'), 1)).rejects.toBeInstanceOf(InvalidKeyError);
    expect(await cache.get(key('\ufffd'))).toBeUndefined();
  });

  it('applies memcached key rules only where memcached forbids them', async () => {
    const spaced = key('with space');
    const long = key('x'.repeat(260));
    if (backend === 'memcached') {
      await expect(cache.set(spaced, 1)).rejects.toBeInstanceOf(InvalidKeyError);
      await expect(cache.get(`${key('ctl')}\u0001`)).rejects.toBeInstanceOf(InvalidKeyError);
      await expect(cache.get(long)).rejects.toBeInstanceOf(InvalidKeyError);
      // 250 bytes by Buffer.byteLength: 84 three-byte characters are 252 bytes.
      await expect(cache.get('键'.repeat(84))).rejects.toBeInstanceOf(InvalidKeyError);
      expect(await cache.get('键'.repeat(83))).toBeUndefined();
    } else {
      await cache.set(spaced, 1);
      await cache.set(long, 2);
      expect(await cache.mget([spaced, long])).toEqual([1, 2]);
    }
  });

  it('reads an undecodable value as a miss', async () => {
    const poisonCodec: Codec = {
      encode: (value) => Buffer.from(String(value)),
      decode: (bytes) => {
        if (bytes.toString() === 'poison') throw new Error('cannot decode');
        return bytes.toString();
      },
    };
    const other = await createCache({ backend, nodes: pool.nodes, timeouts: GENEROUS, codec: poisonCodec }, { env: {} });
    try {
      await other.set(key('p1'), 'poison');
      await other.set(key('p2'), 'fine');
      expect(await other.get(key('p1'))).toBeUndefined();
      expect(await other.mget([key('p1'), key('p2')])).toEqual([undefined, 'fine']);
    } finally {
      await other.close();
    }
  });

  it('rejects every call after close()', async () => {
    const other = await createCache({ backend, nodes: pool.nodes, timeouts: GENEROUS }, { env: {} });
    await other.close();
    await expect(other.get('k')).rejects.toBeInstanceOf(ClosedError);
    await expect(other.set('k', 1)).rejects.toBeInstanceOf(ClosedError);
    await other.close();
  });
});
