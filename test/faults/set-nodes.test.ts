/**
 * Live membership changes on real Redis and Memcached: a fourth node joins
 * a pool holding 3,000 keys (warm-up on), a node leaves (with and without a
 * second copy), and writes race a join. What is asserted: which keys change
 * owner, what every key reads right after the change, what the servers hold
 * (read directly), and that a removed node's connections are closed.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createCache, type ShardcacheOptions, type ShardedCache } from '../../src/index.js';
import { expectNothingLeftOpen, openHandles, type HandleCounts } from '../harness/handles.js';
import { startMemcached, startRedis, stopAll, type ServerProcess } from '../harness/servers.js';

const OPTIONS: Omit<ShardcacheOptions, 'backend' | 'nodes'> = {
  timeouts: { getMs: 200, setMs: 200, batchMs: 500, connectMs: 1000 },
  health: { failureLimit: 3, retryTimeoutMs: 200, maxRetryTimeoutMs: 800, probeTimeoutMs: 300 },
  breaker: { volumeThreshold: 10_000 },
};
const KEYS = Array.from({ length: 3000 }, (_, i) => `pool:${i}`);
const POLLS = 100;

async function pollUntil(check: () => Promise<boolean>): Promise<void> {
  for (let poll = 0; poll < POLLS && !(await check()); poll++) await new Promise((resolve) => setTimeout(resolve, 50));
}

describe.each([
  ['redis', startRedis],
  ['memcached', startMemcached],
] as const)('%s: setNodes', (backend, start) => {
  let servers: ServerProcess[];
  let caches: ShardedCache[];
  let handlesBefore: HandleCounts;
  let unexpected: unknown[];
  const recordUnexpected = (error: unknown) => unexpected.push(error);

  beforeAll(async () => {
    servers = await Promise.all([start(), start(), start(), start()]);
  });
  afterAll(stopAll);

  beforeEach(async () => {
    // Each test starts from empty servers.
    const wipe = await createCache({ backend, nodes: servers.map((s) => s.address) }, { env: {} });
    await wipe.clear();
    await wipe.close();
    caches = [];
    unexpected = [];
    process.on('unhandledRejection', recordUnexpected);
    handlesBefore = openHandles();
  });

  afterEach(async () => {
    await Promise.all(caches.map((cache) => cache.close()));
    await expectNothingLeftOpen(handlesBefore);
    process.off('unhandledRejection', recordUnexpected);
    expect(unexpected).toEqual([]);
  });

  const open = async (nodes: ServerProcess[], extra: Partial<ShardcacheOptions> = {}) => {
    const cache = await createCache({ backend, nodes: nodes.map((s) => s.address), ...OPTIONS, ...extra }, { env: {} });
    caches.push(cache);
    return cache;
  };
  const single = (server: ServerProcess) => open([server], { timeouts: { getMs: 1000, batchMs: 2000 } });

  it('a fourth node joins 3,000 keys: only its keys move (about a quarter), every key reads its value at once, and reading warms it', async () => {
    const cache = await open(servers.slice(0, 3), { warmup: { durationMs: 60_000, ttlSeconds: 60 } });
    await cache.mset(KEYS.map((key) => [key, `value of ${key}`]));
    const before = KEYS.map((key) => cache.nodeFor(key));
    const newcomer = servers[3]!;
    expect(await cache.setNodes(servers.map((s) => s.address))).toEqual({ added: [newcomer.address], removed: [], reweighted: [] });
    const after = KEYS.map((key) => cache.nodeFor(key));
    const moved = KEYS.filter((_, i) => before[i] !== after[i]);
    expect(moved.every((key) => cache.nodeFor(key) === newcomer.address)).toBe(true);
    expect(moved.length / KEYS.length).toBeGreaterThan(0.15);
    expect(moved.length / KEYS.length).toBeLessThan(0.35);

    const loads: string[] = [];
    const read = await cache.mgetOrLoad(KEYS, (missing) => {
      loads.push(...missing);
      return missing.map((key) => `value of ${key}`);
    });
    expect(read).toEqual(KEYS.map((key) => `value of ${key}`));
    expect(loads).toEqual([]);
    const singles = await Promise.all(moved.slice(0, 200).map((key) => cache.get(key)));
    expect(singles).toEqual(moved.slice(0, 200).map((key) => `value of ${key}`));

    const direct = await single(newcomer);
    let held: unknown[] = [];
    await pollUntil(async () => (held = await direct.mget(moved)).every((value) => value !== undefined));
    expect(held).toEqual(moved.map((key) => `value of ${key}`));
  });

  it.each([
    [2, 0],
    [1, 1],
  ])('a node leaves (copies %i): its keys are served by the next copies or fall to the loader', async (copies, lossPerKey) => {
    const cache = await open(servers, { replication: { copies } });
    await cache.mset(KEYS.slice(0, 1000).map((key) => [key, `value of ${key}`]));
    const leaving = servers[2]!;
    const ownedByLeaver = KEYS.slice(0, 1000).filter((key) => cache.nodeFor(key) === leaving.address);
    expect(await cache.setNodes(servers.filter((s) => s !== leaving).map((s) => s.address))).toEqual({ added: [], removed: [leaving.address], reweighted: [] });
    const loads: string[] = [];
    const read = await cache.mgetOrLoad(KEYS.slice(0, 1000), (missing) => {
      loads.push(...missing);
      return missing.map((key) => `value of ${key}`);
    });
    expect(read).toEqual(KEYS.slice(0, 1000).map((key) => `value of ${key}`));
    expect(loads.sort()).toEqual(lossPerKey === 0 ? [] : [...ownedByLeaver].sort());
    expect(cache.stats().nodes.map((node) => node.address)).not.toContain(leaving.address);
  });

  it('writes racing a join: once settled, every copy of a key holds its last value or nothing, and reads agree', async () => {
    const cache = await open(servers.slice(0, 3), { replication: { copies: 2, reads: 'spread' }, warmup: { durationMs: 60_000, ttlSeconds: 60 } });
    const keys = KEYS.slice(0, 300);
    const last = new Map<string, string | undefined>();
    await cache.mset(keys.map((key) => [key, `0 of ${key}`]));
    let stop = false;
    const writer = async (offset: number) => {
      for (let round = 1; round <= 40 && !stop; round++) {
        for (let i = offset; i < keys.length; i += 4) {
          const key = keys[i]!;
          // Every third round deletes: a warm-up fill racing a delete must not bring the value back.
          if (round % 3 === 0) {
            await cache.del(key);
            last.set(key, undefined);
          } else {
            await cache.set(key, `${round} of ${key}`);
            last.set(key, `${round} of ${key}`);
          }
        }
      }
    };
    const writers = [0, 1, 2, 3].map(writer);
    // Reads run alongside too, so warm-up fills race the writes.
    const readers = (async () => {
      for (let round = 0; round < 200 && !stop; round++) await Promise.all([cache.mget(keys), ...keys.slice(0, 50).map((key) => cache.get(key))]);
    })();
    await new Promise((resolve) => setTimeout(resolve, 30));
    await cache.setNodes(servers.map((s) => s.address));
    await new Promise((resolve) => setTimeout(resolve, 30));
    stop = true;
    await Promise.all([...writers, readers]);

    const expected = (key: string) => (last.has(key) ? last.get(key) : `0 of ${key}`);
    for (let pass = 0; pass < 3; pass++) expect(await cache.mget(keys)).toEqual(keys.map(expected));
    const direct = new Map(await Promise.all(servers.map(async (server) => [server.address, await single(server)] as const)));
    const wrong: string[] = [];
    for (const key of keys) {
      for (const address of cache.nodesFor(key)) {
        const held = await direct.get(address)!.get(key);
        if (held !== undefined && held !== expected(key)) wrong.push(`${address} ${key}: ${String(held)}`);
      }
    }
    expect(wrong).toEqual([]);
  });
});
