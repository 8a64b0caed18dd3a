/**
 * The prom-client adapter on real servers: after a known sequence of hits,
 * misses, loads, a timeout on a SIGSTOPped node and its ejection, the scraped
 * registry holds exactly the expected counts and states. Also: stats() agrees
 * with the scrape, two caches on two registries do not see each other's
 * requests, a registry can hold one cache's metrics only once, and close()
 * unregisters and unsubscribes everything.
 */
import diagnostics from 'node:diagnostics_channel';
import { once } from 'node:events';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, createCache, type ShardcacheOptions, type ShardedCache } from '../../src/index.js';
import { expectNothingLeftOpen, openHandles, type HandleCounts } from '../harness/handles.js';
import { parseExposition, sampleValue, seriesOf } from '../harness/prometheus.js';
import { startMemcached, startRedis, stopAll, type ServerProcess } from '../harness/servers.js';

// One attempt per read and one failure to eject, so one timeout is one ejection; probes far away, so the node stays out.
const OPTIONS: Omit<ShardcacheOptions, 'backend' | 'nodes' | 'metrics'> = {
  timeouts: { getMs: 300, getRetries: 0, setMs: 1000, batchMs: 1000, connectMs: 1000, connectRetries: 0 },
  health: { failureLimit: 1, retryTimeoutMs: 600_000, maxEjectedFraction: 0.5 },
  breaker: { volumeThreshold: 1000 },
};

function keysOwnedBy(cache: ShardedCache, address: string, count: number, prefix: string): string[] {
  const keys: string[] = [];
  for (let i = 0; keys.length < count && i < 100_000; i++) if (cache.nodeFor(`${prefix}:${i}`) === address) keys.push(`${prefix}:${i}`);
  return keys;
}

/** Polls (bounded) until `check` holds: best-effort write-backs finish after the read that started them. */
async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(check()).toBe(true);
}

describe.each([
  ['redis', startRedis],
  ['memcached', startMemcached],
] as const)('metrics on %s', (backend, start) => {
  let servers: ServerProcess[];
  let handlesBefore: HandleCounts;

  beforeAll(async () => {
    servers = await Promise.all([start(), start(), start()]);
  });
  afterAll(stopAll);
  beforeEach(() => {
    handlesBefore = openHandles();
  });
  afterEach(async () => {
    for (const server of servers) if (server.paused) server.resume();
  });

  it('a known sequence of hits, misses, loads, a timeout and an ejection scrapes to exact counts and states', async () => {
    const registry = new Registry();
    const cache = await createCache({ backend, nodes: servers.map((s) => s.address), ...OPTIONS, metrics: { registry } }, { env: {} });
    const [a, b, c] = servers.map((s) => s.address) as [string, string, string];
    try {
      const onA = keysOwnedBy(cache, a, 7, 'seq');
      const onB = keysOwnedBy(cache, b, 2, 'seq');
      const [missOnC] = keysOwnedBy(cache, c, 1, 'absent');
      const stored = [onA[0]!, onA[1]!, onA[2]!, onB[0]!, onB[1]!];

      await cache.mset(stored.map((key) => [key, `value of ${key}`])); // setMany: one on a, one on b
      for (const key of onA.slice(0, 3)) expect(await cache.get(key)).toBe(`value of ${key}`); // 3 hits on a
      for (const key of onA.slice(3, 5)) expect(await cache.get(key)).toBeUndefined(); // 2 misses on a
      expect(await cache.get(onB[0]!)).toBe(`value of ${onB[0]}`); // 1 hit on b
      expect(await cache.mget([...onA.slice(0, 3), missOnC!])).toEqual([...onA.slice(0, 3).map((k) => `value of ${k}`), undefined]); // getMany: 3 hits on a, 1 miss on c

      // One loader call (a miss on a, then a write-back set on a) ...
      expect(await cache.getOrLoad(onA[5]!, () => 'loaded')).toBe('loaded');
      // ... and three concurrent loads of one key: one get (a miss on a), one loader call, two coalesced, one write-back.
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const loads = Array.from({ length: 3 }, () => cache.getOrLoad(onA[6]!, async () => (await gate, 'slow')));
      release();
      expect(await Promise.all(loads)).toEqual(['slow', 'slow', 'slow']);
      const setsOnA = () => cache.stats().nodes.find((n) => n.address === a)!.requests.total;
      await until(() => setsOnA() === 1 + 3 + 2 + 1 + 1 + 1 + 1 + 1); // setMany, 3+2 gets, getMany, get+set, get+set

      // b hangs: one GET misses its deadline, b is ejected, and the key is then read from its stand-in.
      const ejected = once(cache.events, 'node:ejected');
      servers[1]!.pause();
      expect(await cache.get(onB[1]!)).toBeUndefined();
      expect((await ejected)[0]).toMatchObject({ node: b, consecutiveFailures: 1 });
      const standIn = cache.nodeFor(onB[1]!);
      expect(standIn).not.toBe(b);
      expect(await cache.get(onB[1]!)).toBeUndefined(); // a miss on the stand-in
      servers[1]!.resume();

      const samples = parseExposition(await registry.metrics());
      const operations = seriesOf(samples, 'shardcache_operations_total');
      const expected: Record<string, number> = {};
      const add = (op: string, node: string, results: Record<string, number>) => {
        for (const result of ['ok', 'error', 'timeout', 'short-circuited']) {
          expected[`node=${node},op=${op},result=${result}`] = (expected[`node=${node},op=${op},result=${result}`] ?? 0) + (results[result] ?? 0);
        }
      };
      add('setMany', a, { ok: 1 });
      add('setMany', b, { ok: 1 });
      add('get', a, { ok: 7 });
      add('get', b, { ok: 1, timeout: 1 });
      add('getMany', a, { ok: 1 });
      add('getMany', c, { ok: 1 });
      add('set', a, { ok: 2 });
      add('get', standIn, { ok: 1 });
      expect(operations).toEqual(expected);

      const readKeys: Record<string, number> = {};
      for (const node of [a, b, c]) for (const op of ['get', 'getMany']) for (const result of ['hit', 'miss']) readKeys[`node=${node},op=${op},result=${result}`] = 0;
      readKeys[`node=${a},op=get,result=hit`] = 3;
      readKeys[`node=${a},op=get,result=miss`] = 4;
      readKeys[`node=${b},op=get,result=hit`] = 1;
      readKeys[`node=${a},op=getMany,result=hit`] = 3;
      readKeys[`node=${c},op=getMany,result=miss`] = 1;
      readKeys[`node=${standIn},op=get,result=miss`]! += 1;
      expect(seriesOf(samples, 'shardcache_read_keys_total')).toEqual(readKeys);
      expect(sampleValue(samples, 'shardcache_read_failures_total')).toBe(1);
      expect(sampleValue(samples, 'shardcache_loader_calls_total')).toBe(2);
      expect(sampleValue(samples, 'shardcache_loader_coalesced_total')).toBe(2);

      // Every request that reached a node is one histogram observation; b's timeout (300 ms deadline) is past the 0.1 s bucket.
      expect(sampleValue(samples, 'shardcache_operation_duration_seconds_count', { op: 'get', node: a })).toBe(standIn === a ? 8 : 7);
      expect(sampleValue(samples, 'shardcache_operation_duration_seconds_count', { op: 'get', node: b })).toBe(2);
      expect(sampleValue(samples, 'shardcache_operation_duration_seconds_bucket', { op: 'get', node: b, le: '0.1' })).toBeLessThanOrEqual(1);
      expect(sampleValue(samples, 'shardcache_operation_duration_seconds_bucket', { op: 'get', node: b, le: '+Inf' })).toBe(2);
      expect(sampleValue(samples, 'shardcache_operation_duration_seconds_count', { op: 'setMany', node: b })).toBe(1);

      expect(seriesOf(samples, 'shardcache_node_state')).toEqual({
        [`node=${a},state=up`]: 1, [`node=${a},state=ejected`]: 0, [`node=${a},state=probing`]: 0,
        [`node=${b},state=up`]: 0, [`node=${b},state=ejected`]: 1, [`node=${b},state=probing`]: 0,
        [`node=${c},state=up`]: 1, [`node=${c},state=ejected`]: 0, [`node=${c},state=probing`]: 0,
      });
      expect(seriesOf(samples, 'shardcache_breaker_state')).toEqual(
        Object.fromEntries([a, b, c].flatMap((node) => [[`node=${node},state=closed`, 1], [`node=${node},state=open`, 0], [`node=${node},state=half-open`, 0]])),
      );
      expect(seriesOf(samples, 'shardcache_node_ejections_total')).toEqual({ [`node=${a}`]: 0, [`node=${b}`]: 1, [`node=${c}`]: 0 });
      expect(seriesOf(samples, 'shardcache_node_readmissions_total')).toEqual({ [`node=${a}`]: 0, [`node=${b}`]: 0, [`node=${c}`]: 0 });
      expect(sampleValue(samples, 'shardcache_ring_nodes')).toBe(2);

      // stats() reads the same counters.
      const stats = cache.stats();
      const nodeB = stats.nodes.find((n) => n.address === b)!;
      expect(nodeB).toMatchObject({ state: 'ejected', requests: { total: 3, errors: 0, timeouts: 1, shortCircuited: 0 }, reads: { hits: 1, misses: 0, undecodable: 0 }, cleanupFailures: 0, hitRate: 1 });
      expect(nodeB.latencyMs.samples).toBe(3);
      expect(stats.reads).toEqual({ hits: 7, misses: 6, failures: 1, undecodable: 0 });
      expect(stats.hitRate).toBe(Math.round((7 / 13) * 10_000) / 10_000);
      expect(stats.requests).toMatchObject({ timeouts: 1, errors: 0, shortCircuited: 0 });
    } finally {
      await cache.close();
    }
    expect(await registry.getMetricsAsJSON()).toEqual([]);
    await expectNothingLeftOpen(handlesBefore);
  });
  it('operations_total counts requests as stats() does, under concurrent gets, mgets and sets', async () => {
    const registry = new Registry();
    const cache = await createCache({ backend, nodes: servers.map((s) => s.address), ...OPTIONS, metrics: { registry } }, { env: {} });
    try {
      const keys = Array.from({ length: 60 }, (_, i) => `agree:${i}`);
      await Promise.all(keys.slice(0, 30).map((key) => cache.set(key, key)));
      // Concurrent gets are batched per node and tick: far fewer requests than keys.
      await Promise.all([...keys.map((key) => cache.get(key)), cache.mget(keys.slice(0, 20)), cache.mget(keys.slice(20)), cache.mset([['agree:x', 1], ['agree:y', 2]])]);

      const stats = cache.stats();
      const samples = parseExposition(await registry.metrics());
      const requests = (node: string | undefined) =>
        samples.filter((s) => s.name === 'shardcache_operations_total' && (node === undefined || s.labels.node === node)).reduce((total, s) => total + s.value, 0);
      const keysRead = (node: string) => samples.filter((s) => s.name === 'shardcache_read_keys_total' && s.labels.node === node).reduce((total, s) => total + s.value, 0);
      expect(requests(undefined)).toBe(stats.requests.total);
      for (const node of stats.nodes) {
        expect(requests(node.address)).toBe(node.requests.total);
        expect(keysRead(node.address)).toBe(node.reads.hits + node.reads.misses);
      }
      expect(stats.reads.hits + stats.reads.misses).toBe(60 + 60);
      expect(stats.requests.total).toBeLessThan(30 + 60 + 60);
    } finally {
      await cache.close();
    }
  });

  it('undecodable values and failed write-backs are counted in stats() and metrics', async () => {
    const registry = new Registry();
    const nodes = servers.map((s) => s.address);
    // A strict JSON codec (the default one reads anything: unknown bytes are a Buffer) that cannot encode a BigInt.
    const json = { encode: (value: unknown) => Buffer.from(JSON.stringify(value)), decode: (bytes: Buffer) => JSON.parse(bytes.toString('utf8')) as unknown };
    const cache = await createCache({ backend, nodes, ...OPTIONS, codec: json, metrics: { registry } }, { env: {} });
    // Another client's format: a byte then text that is not JSON.
    const foreign = await createCache({ backend, nodes, ...OPTIONS, codec: { encode: () => Buffer.from([0x00, 0x7b]), decode: () => undefined } }, { env: {} });
    try {
      await foreign.mset([['odd:1', 'x'], ['odd:2', 'x']]);
      expect(await cache.get('odd:1')).toBeUndefined();
      expect(await cache.mget(['odd:2', 'odd:absent'])).toEqual([undefined, undefined]);
      // A loader answer the codec cannot encode (a BigInt, as pg gives for bigint columns, through JSON.stringify): the caller gets it; the write-back fails.
      expect(await cache.getOrLoad('big:1', () => 12n)).toBe(12n);
      await until(() => cache.stats().loads.writeBackFailures === 1);

      const stats = cache.stats();
      expect(stats.reads).toMatchObject({ hits: 0, misses: 4, undecodable: 2 });
      const samples = parseExposition(await registry.metrics());
      const undecodable = seriesOf(samples, 'shardcache_undecodable_values_total');
      expect(Object.values(undecodable).reduce((a, b) => a + b, 0)).toBe(2);
      for (const node of stats.nodes) expect(undecodable[`node=${node.address}`]).toBe(node.reads.undecodable);
      expect(sampleValue(samples, 'shardcache_write_back_failures_total')).toBe(1);
      expect(seriesOf(samples, 'shardcache_cleanup_failures_total')).toEqual(Object.fromEntries(nodes.map((node) => [`node=${node}`, 0])));
    } finally {
      await Promise.all([cache.close(), foreign.close()]);
    }
  });
});

describe('metrics wiring', () => {
  const nodes = ['mem-a:1', 'mem-b:2', 'mem-c:3'];

  it('two caches on two registries count only their own requests, even with the same node names', async () => {
    const first = new Registry();
    const second = new Registry();
    const one = await createCache({ backend: 'memory', nodes, metrics: { registry: first } }, { env: {} });
    const two = await createCache({ backend: 'memory', nodes, metrics: { registry: second } }, { env: {} });
    try {
      await one.set('k', 1);
      for (let i = 0; i < 5; i++) await one.get('k');
      await two.get('k');
      const key = `node=${one.nodeFor('k')},op=get`;
      const mine = parseExposition(await first.metrics());
      const theirs = parseExposition(await second.metrics());
      expect(seriesOf(mine, 'shardcache_operations_total')[`${key},result=ok`]).toBe(5);
      expect(seriesOf(theirs, 'shardcache_operations_total')[`${key},result=ok`]).toBe(1);
      expect(seriesOf(mine, 'shardcache_read_keys_total')[`${key},result=hit`]).toBe(5);
      expect(seriesOf(theirs, 'shardcache_read_keys_total')[`${key},result=miss`]).toBe(1);
      expect(seriesOf(theirs, 'shardcache_read_keys_total')[`${key},result=hit`]).toBe(0);
      const count = (samples: ReturnType<typeof parseExposition>) => sampleValue(samples, 'shardcache_operation_duration_seconds_count', { op: 'get', node: one.nodeFor('k') });
      expect(count(mine)).toBe(5);
      expect(count(theirs)).toBe(1);
    } finally {
      await one.close();
      await two.close();
    }
  });

  it('a registry holds one cache under one prefix: a second is refused with nothing left open; another prefix is fine', async () => {
    const registry = new Registry();
    const first = await createCache({ backend: 'memory', nodes, metrics: { registry } }, { env: {} });
    const before = openHandles();
    const error = await createCache({ backend: 'memory', nodes, metrics: { registry } }, { env: {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).option).toBe('metrics.registry');
    await expectNothingLeftOpen(before);
    const second = await createCache({ backend: 'memory', nodes, metrics: { registry, prefix: 'sessions_' } }, { env: {} });
    await second.get('x');
    const samples = parseExposition(await registry.metrics());
    expect(sampleValue(samples, 'sessions_ring_nodes')).toBe(3);
    expect(sampleValue(samples, 'shardcache_ring_nodes')).toBe(3);
    await first.close();
    await second.close();
    expect(await registry.getMetricsAsJSON()).toEqual([]);
  });

  it('close() unsubscribes from the diagnostics channel; without a registry nothing subscribes at all', async () => {
    const bare = await createCache({ backend: 'memory', nodes }, { env: {} });
    expect(diagnostics.channel('shardcache:operation').hasSubscribers).toBe(false);
    const registry = new Registry();
    const observed = await createCache({ backend: 'memory', nodes, metrics: { registry, buckets: [0.001, 0.01] } }, { env: {} });
    expect(diagnostics.channel('shardcache:operation').hasSubscribers).toBe(true);
    await observed.get('k');
    const buckets = parseExposition(await registry.metrics())
      .filter((s) => s.name === 'shardcache_operation_duration_seconds_bucket')
      .map((s) => s.labels.le);
    expect(buckets).toEqual(['0.001', '0.01', '+Inf']);
    await observed.close();
    expect(diagnostics.channel('shardcache:operation').hasSubscribers).toBe(false);
    await bare.close();
  });
});
