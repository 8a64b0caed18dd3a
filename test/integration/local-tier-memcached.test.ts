/**
 * The local tier on Memcached, which cannot push invalidations: this
 * process's own writes, deletes and clears take effect in its tier at once;
 * another process's write is seen once `ttlMs` has passed since the entry
 * was read (the staleness bound), never later.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCache, type ShardedCache } from '../../src/index.js';
import { CacheProcess } from '../harness/cache-process.js';
import { startMemcached, stopAll, type ServerProcess } from '../harness/servers.js';

const TTL_MS = 300;
let servers: ServerProcess[];
let a: ShardedCache;
let b: CacheProcess;

beforeAll(async () => {
  servers = await Promise.all([startMemcached(), startMemcached(), startMemcached()]);
  const nodes = servers.map((s) => s.address);
  const timeouts = { getMs: 200, setMs: 200, batchMs: 200, connectMs: 2000 };
  a = await createCache({ backend: 'memcached', nodes, timeouts, local: { ttlMs: TTL_MS } }, { env: {} });
  b = await CacheProcess.start({ backend: 'memcached', nodes, timeouts });
}, 60_000);

afterAll(async () => {
  await Promise.all([a?.close(), b?.stop()]);
  await stopAll();
});

const localHits = () => a.stats().local!.hits;

describe('local tier on Memcached', () => {
  it("this process's writes, deletes and clear are seen at once", async () => {
    await a.set('mt:own', 'one');
    expect(await a.get('mt:own')).toBe('one');
    const hits = localHits();
    expect(await a.get('mt:own')).toBe('one');
    expect(localHits(), 'the second read came from the tier').toBe(hits + 1);

    await a.set('mt:own', 'two');
    expect(await a.get('mt:own')).toBe('two');
    await a.mset([['mt:own', 'three']]);
    expect(await a.get('mt:own')).toBe('three');
    await a.del('mt:own');
    expect(await a.get('mt:own')).toBeUndefined();

    await a.set('mt:own', 'four');
    expect(await a.get('mt:own')).toBe('four');
    await a.clear();
    expect(await a.get('mt:own')).toBeUndefined();
  });

  it("another process's write is seen once ttlMs has passed since the entry was read", async () => {
    await b.set('mt:other', 'old');
    const readAt = performance.now();
    expect(await a.get('mt:other')).toBe('old');
    await b.set('mt:other', 'new');
    // Within ttlMs the tier may answer the old value (this is the bound, not a guarantee of staleness).
    const early = await a.get('mt:other');
    expect(['old', 'new']).toContain(early);
    const wait = readAt + TTL_MS - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait + 5));
    expect(await a.get('mt:other')).toBe('new');
  });

  it('an entry read through a namespace is dropped by invalidateNamespace in this process at once', async () => {
    const users = a.namespace('mt-users');
    await users.set('1', 'ada');
    expect(await users.get('1')).toBe('ada');
    await a.invalidateNamespace('mt-users');
    expect(await users.get('1')).toBeUndefined();
  });
});
