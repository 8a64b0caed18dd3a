/**
 * The local tier (issue 12), three questions, one run:
 *
 * 1. A local hit against a plain Redis GET of the same key (ioredis, and
 *    shardcache without the tier), and against a bare lru-cache get of the
 *    same value (the floor, awaited per call as the tier's get is).
 *    Targets: >= 20x the Redis GET, >= 0.5x the lru-cache get.
 * 2. Invalidation delay across processes on Redis: another process writes a
 *    key; from its write being acknowledged to this process's get answering
 *    the new value, with both processes busy. Target: p99 <= 50 ms.
 * 3. Zipf(0.99) over 100,000 keys through getOrLoad, with a 10,000-entry
 *    local tier and without: local hit rate, keys read from Redis, loader
 *    (database) calls, throughput.
 *
 *   npx tsx local-tier.ts [--quick] [--json[=path]]
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import { stopAll } from '../test/harness/servers.js';
import { compare, interleave, missedTargets, parseArgs, printVerdict, RATIO_LEGEND, render, writeJson, type ComparisonResult } from './lib/compare.js';
import { startServers, VALUE_BYTES } from './lib/fixtures.js';
import { percentile, table } from './lib/stats.js';
import { createCache } from './lib/sut.js';
import { seededRandom, zipfSampler } from './lib/zipf.js';

const ARGS = parseArgs('local-tier');
const QUICK = ARGS.quick;
const HOT_KEYS = 1000;
const REPEATS = { count: QUICK ? 3 : 21, budgetMs: QUICK ? 5_000 : 60_000 };
const OPS = { local: QUICK ? 50_000 : 200_000, redis: QUICK ? 1_000 : 4_000 };
const INVALIDATIONS = QUICK ? 50 : 300;
const ZIPF = { keys: 100_000, s: 0.99, tier: 10_000, requests: QUICK ? 40_000 : 300_000, workers: 8 };
const value = 'v'.repeat(VALUE_BYTES);
const keyAt = (i: number) => `hot:${i}`;
const epochNow = () => performance.timeOrigin + performance.now();

async function timed(ops: number, one: (i: number) => Promise<unknown> | unknown): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < ops; i++) await one(i % HOT_KEYS);
  return ops / ((performance.now() - started) / 1000);
}

async function hitRates(nodes: string[]): Promise<ComparisonResult> {
  const tier = await createCache({ backend: 'redis', nodes, local: { maxEntries: 10_000, ttlMs: 3_600_000 } }, { env: {} });
  const plain = await createCache({ backend: 'redis', nodes }, { env: {} });
  const [host, port] = nodes[0]!.split(':');
  const redis = new Redis({ host, port: Number(port), protocol: 2 });
  const lru = new LRUCache<string, string>({ max: 10_000 });
  try {
    for (let i = 0; i < HOT_KEYS; i++) {
      await plain.set(keyAt(i), value);
      lru.set(keyAt(i), value);
    }
    for (let pass = 0; pass < 2; pass++) for (let i = 0; i < HOT_KEYS; i++) if ((await tier.get(keyAt(i))) !== value) throw new Error('tier read a wrong value');
    const missesBefore = tier.stats().local!.misses;
    const contenders: Record<string, () => Promise<number>> = {
      'local tier hit': () => timed(OPS.local, (i) => tier.get(keyAt(i))),
      'lru-cache get (awaited)': () => timed(OPS.local, async (i) => lru.get(keyAt(i))),
      'redis GET (ioredis)': () => timed(OPS.redis, (i) => redis.get(keyAt(i))),
      'shardcache GET, no local tier': () => timed(OPS.redis, (i) => plain.get(keyAt(i))),
    };
    const rates = await interleave(Object.keys(contenders), REPEATS, (name) => contenders[name]!());
    const misses = tier.stats().local!.misses - missesBefore;
    return compare({
      title: 'Local hit vs Redis GET vs lru-cache get (one key at a time, 1 Redis node)',
      operation: 'get',
      timeUnit: 'ns',
      subject: 'local tier hit',
      contenders: [...rates].map(([name, list]) => ({ name, rates: list, ...(name === 'local tier hit' && { misses }) })),
      targets: { 'redis GET (ioredis)': 20, 'shardcache GET, no local tier': 20, 'lru-cache get (awaited)': 0.5 },
    });
  } finally {
    redis.disconnect();
    await Promise.all([tier.close(), plain.close()]);
  }
}

interface DelayResult {
  samples: number;
  p50: number;
  p99: number;
  max: number;
  unseen: number;
}

async function invalidationDelay(nodes: string[]): Promise<DelayResult> {
  const cache = await createCache({ backend: 'redis', nodes, timeouts: { getMs: 500, batchMs: 500 }, local: { ttlMs: 3_600_000 } }, { env: {} });
  const acks = new Map<number, number>();
  const seen = new Map<number, number>();
  let done = false;
  const writer = fork(fileURLToPath(new URL('./lib/local-writer.ts', import.meta.url)), [nodes.join(','), String(INVALIDATIONS), '20'], { execArgv: ['--import', 'tsx'] });
  writer.on('message', (message: { seq?: number; ackAt?: number; done?: boolean }) => {
    if (message.done) done = true;
    else acks.set(message.seq!, message.ackAt!);
  });
  writer.on('exit', () => (done = true));
  try {
    for (let i = 0; i < 100; i++) await cache.set(`reader:${i}`, i);
    let last: unknown;
    const until = performance.now() + 120_000;
    // Busy: bursts of local hits, yielding to I/O between bursts as a service does between requests.
    while (!done && performance.now() < until) {
      for (let i = 0; i < 1000; i++) await cache.get(`reader:${i % 100}`);
      const current = await cache.get('invalidation:key');
      if (current !== last && typeof current === 'number') seen.set(current, epochNow());
      last = current;
      await new Promise((resolve) => setImmediate(resolve));
    }
  } finally {
    if (writer.exitCode === null) writer.kill();
    await cache.close();
  }
  const delays = [...acks].filter(([seq]) => seen.has(seq)).map(([seq, ackAt]) => seen.get(seq)! - ackAt).sort((a, b) => a - b);
  return { samples: delays.length, p50: percentile(delays, 50), p99: percentile(delays, 99), max: delays.at(-1) ?? Number.NaN, unseen: acks.size - delays.length };
}

interface ZipfResult {
  name: string;
  localHitRate: number | null;
  redisKeyReads: number;
  loaderCalls: number;
  rate: number;
}

async function zipf(nodes: string[], withTier: boolean): Promise<ZipfResult> {
  const cache = await createCache(
    { backend: 'redis', nodes, timeouts: { getMs: 500, setMs: 500, batchMs: 500 }, ...(withTier && { local: { maxEntries: ZIPF.tier, ttlMs: 60_000 } }) },
    { env: {} },
  );
  try {
    await cache.clear();
    const next = zipfSampler(ZIPF.keys, ZIPF.s, seededRandom(42));
    const ranks = Array.from({ length: ZIPF.requests }, next);
    let loaderCalls = 0;
    const loader = async (key: string) => {
      loaderCalls++;
      return `${key}:${value}`;
    };
    let cursor = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: ZIPF.workers }, async () => {
        while (cursor < ranks.length) {
          const key = `zipf:${ranks[cursor++]}`;
          await cache.getOrLoad(key, loader, { ttl: 600 });
        }
      }),
    );
    const rate = ZIPF.requests / ((performance.now() - started) / 1000);
    const stats = cache.stats();
    return {
      name: withTier ? `local tier of ${ZIPF.tier.toLocaleString('en')} entries` : 'no local tier',
      localHitRate: stats.local?.hitRate ?? null,
      redisKeyReads: stats.reads.hits + stats.reads.misses + stats.reads.failures,
      loaderCalls,
      rate,
    };
  } finally {
    await cache.close();
  }
}

async function main(): Promise<void> {
  const started = performance.now();
  const servers = await startServers('redis', 3);
  const nodes = servers.map((s) => s.address);
  const hits = await hitRates([nodes[0]!]);
  const delay = await invalidationDelay(nodes);
  const zipfRows = [await zipf(nodes, false), await zipf(nodes, true)];

  console.log(`\n## Local tier (${VALUE_BYTES}-byte values; ${REPEATS.count} interleaved repeats at most)\n`);
  console.log(`${RATIO_LEGEND}. Targets: >= 20x a Redis GET, >= 0.5x an lru-cache get.\n`);
  console.log(`${hits.title}\n\n${render(hits)}\n`);
  const delayMet = delay.p99 <= 50;
  console.log(`Invalidation delay across processes (Redis, 3 nodes; write acknowledged in the writer -> the reader's get answers it; both busy)\n`);
  console.log(table(['samples', 'p50 ms', 'p99 ms', 'max ms', 'never seen', 'target p99 <= 50 ms'], [[delay.samples, delay.p50.toFixed(2), delay.p99.toFixed(2), delay.max.toFixed(2), delay.unseen, delayMet ? 'met' : 'MISSED']]));
  console.log(`\nZipf(${ZIPF.s}) over ${ZIPF.keys.toLocaleString('en')} keys, ${ZIPF.requests.toLocaleString('en')} getOrLoad calls, ${ZIPF.workers} concurrent callers, Redis 3 nodes\n`);
  console.log(
    table(
      ['', 'local hit rate', 'keys read from Redis', 'loader (database) calls', 'calls/s'],
      zipfRows.map((row) => [row.name, row.localHitRate === null ? '-' : row.localHitRate.toFixed(4), row.redisKeyReads, row.loaderCalls, Math.round(row.rate)]),
    ),
  );
  const missed = [...missedTargets([hits]), ...(delayMet ? [] : [`invalidation delay p99 ${delay.p99.toFixed(2)} ms > 50 ms`])];
  console.log('');
  printVerdict(missed, started);
  writeJson(ARGS.json, 'local-tier', { quick: QUICK, hits, delay, zipf: zipfRows, missed });
}

main()
  .catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(stopAll);
