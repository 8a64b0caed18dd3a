/**
 * Replication and warm-up, on Redis and Memcached, three nodes.
 *
 * 1. Cost of a second copy: two caches over the same servers, `copies: 1`
 *    and `copies: 2`, measured in interleaved blocks (A B, B A, ...):
 *    set latency p50/p99 (one set in flight), get rate (rounds of 100
 *    concurrent gets) and mget(100) rate (one call in flight). Ratios are
 *    copies 2 over copies 1, medians over the repeats.
 *    Targets: set p50 and p99 <= 1.3x, get rate >= 0.95x, mget(100) >= 0.9x.
 * 2. Hit rate and database calls in the first 10 s of read-through traffic
 *    (getOrLoad, 16 in flight, keys in a fixed shuffle) after a node is
 *    killed, ejected and restarted empty on its port (copies 2), after a
 *    fourth node joins with setNodes (copies 1), and after a hung node
 *    (SIGSTOP, copies 1) returns from ejection, its keys having been read
 *    through onto its stand-ins while it was out; each with and without
 *    warm-up. Target: >= 99% hits with warm-up.
 *
 *   npx tsx replication.ts [--quick] [--part=copies|events]
 */
import { stopAll, type ServerProcess } from '../test/harness/servers.js';
import { median, parseArgs, printVerdict } from './lib/compare.js';
import { BACKENDS, keys, shuffled, startServers, valueOf, type ServerBackend } from './lib/fixtures.js';
import { summarize, table } from './lib/stats.js';
import { createCache, type ShardcacheOptions } from './lib/sut.js';

type Cache = Awaited<ReturnType<typeof createCache>>;

const ARGS = parseArgs('replication');
/** One half only: `copies` (the cost of a second copy) or `events` (restart and join). */
const PART = process.argv.find((arg) => arg.startsWith('--part='))?.slice('--part='.length);
const QUICK = ARGS.quick;
const KEY_COUNT = QUICK ? 2_000 : 10_000;
const REPEATS = QUICK ? 3 : 21;
const BLOCK = { sets: QUICK ? 300 : 1_000, getRounds: QUICK ? 30 : 200, mgets: QUICK ? 100 : 600 };
const TRAFFIC_MS = QUICK ? 2_000 : 10_000;
/** Bound on the operations of one traffic run, whatever the speed. */
const TRAFFIC_MAX_OPS = 2_000_000;
const IN_FLIGHT = 16;
const TARGETS = { setP50: 1.3, setP99: 1.3, gets: 0.95, mget: 0.9, warmHits: 0.99 };
/** Deadlines roomy for a shared machine: what is measured is the copies and the warm-up, not missed deadlines. */
const COMMON: Partial<ShardcacheOptions> = {
  timeouts: { getMs: 250, setMs: 250, batchMs: 1000, connectMs: 1000, connectRetries: 0 },
  health: { failureLimit: 2, retryTimeoutMs: 200, maxRetryTimeoutMs: 400, probeTimeoutMs: 200 },
};
const WARMUP = { durationMs: 60_000, ttlSeconds: 300 };
const missed: string[] = [];

function check(label: string, value: number, target: number, atMost: boolean): string {
  const ok = atMost ? value <= target : value >= target;
  if (!ok) missed.push(`${label} ${value.toFixed(3)} (target ${atMost ? '<=' : '>='} ${target})`);
  return `${value.toFixed(2)}x ${ok ? 'ok' : 'MISSED'}`;
}

async function setLatencies(cache: Cache, keyList: readonly string[], from: number): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < BLOCK.sets; i++) {
    const key = keyList[(from + i) % keyList.length]!;
    const started = performance.now();
    await cache.set(key, valueOf(key));
    samples.push(performance.now() - started);
  }
  return samples;
}

/**
 * The floor of a second copy on this machine: the key written to the same
 * two nodes by two plain single-node caches at once (no replication logic).
 */
async function pairedSetLatencies(singles: readonly Cache[], copiesOf: (key: string) => readonly number[], keyList: readonly string[], from: number): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < BLOCK.sets; i++) {
    const key = keyList[(from + i) % keyList.length]!;
    const [a, b] = copiesOf(key);
    const started = performance.now();
    await Promise.all([singles[a!]!.set(key, valueOf(key)), singles[b!]!.set(key, valueOf(key))]);
    samples.push(performance.now() - started);
  }
  return samples;
}

async function getRate(cache: Cache, keyList: readonly string[], from: number): Promise<number> {
  const started = performance.now();
  for (let round = 0; round < BLOCK.getRounds; round++) {
    const at = (from + round * 100) % (keyList.length - 100);
    await Promise.all(keyList.slice(at, at + 100).map((key) => cache.get(key)));
  }
  return (BLOCK.getRounds * 100) / ((performance.now() - started) / 1000);
}

async function mgetRate(cache: Cache, keyList: readonly string[], from: number): Promise<number> {
  const started = performance.now();
  for (let call = 0; call < BLOCK.mgets; call++) {
    const at = (from + call * 100) % (keyList.length - 100);
    await cache.mget(keyList.slice(at, at + 100));
  }
  return BLOCK.mgets / ((performance.now() - started) / 1000);
}

async function copyCost(backend: ServerBackend): Promise<string[]> {
  const servers = await startServers(backend, 3);
  const addresses = servers.map((s) => s.address);
  const keyList = shuffled(keys(KEY_COUNT));
  const one = await createCache({ backend, nodes: addresses, ...COMMON }, { env: {} });
  const two = await createCache({ backend, nodes: addresses, ...COMMON, replication: { copies: 2 } }, { env: {} });
  const seeder = await createCache({ backend, nodes: addresses, replication: { copies: 2 }, timeouts: { setMs: 5000, batchMs: 10_000 } }, { env: {} });
  for (let i = 0; i < keyList.length; i += 500) await seeder.mset(keyList.slice(i, i + 500).map((key) => [key, valueOf(key)]));
  await seeder.close();
  const singles = await Promise.all(addresses.map((address) => createCache({ backend, nodes: [address], ...COMMON }, { env: {} })));
  const copiesOf = (key: string) => two.nodesFor(key).map((address) => addresses.indexOf(address));
  const samples = { one: { p50: [] as number[], p99: [] as number[], gets: [] as number[], mget: [] as number[] }, two: { p50: [] as number[], p99: [] as number[], gets: [] as number[], mget: [] as number[] } };
  const floor = { p50: [] as number[], p99: [] as number[] };
  for (let repeat = 0; repeat < REPEATS; repeat++) {
    const order = repeat % 2 === 0 ? (['one', 'two'] as const) : (['two', 'one'] as const);
    const paired = summarize(await pairedSetLatencies(singles, copiesOf, keyList, repeat * BLOCK.sets));
    floor.p50.push(paired.p50);
    floor.p99.push(paired.p99);
    for (const name of order) {
      const cache = name === 'one' ? one : two;
      const latency = summarize(await setLatencies(cache, keyList, repeat * BLOCK.sets));
      samples[name].p50.push(latency.p50);
      samples[name].p99.push(latency.p99);
      samples[name].gets.push(await getRate(cache, keyList, repeat * 1000));
      samples[name].mget.push(await mgetRate(cache, keyList, repeat * 1000));
    }
  }
  await Promise.all([one, two, ...singles].map((cache) => cache.close()));
  await Promise.all(servers.map((s) => s.stop()));
  const m = (name: 'one' | 'two', field: 'p50' | 'p99' | 'gets' | 'mget') => median(samples[name][field]);
  return [
    table(
      ['metric', 'copies 1', 'copies 2', 'copies 2 / copies 1'],
      [
        ['set p50 (ms)', m('one', 'p50').toFixed(3), m('two', 'p50').toFixed(3), check(`${backend} set p50`, m('two', 'p50') / m('one', 'p50'), TARGETS.setP50, true)],
        ['set p99 (ms)', m('one', 'p99').toFixed(3), m('two', 'p99').toFixed(3), check(`${backend} set p99`, m('two', 'p99') / m('one', 'p99'), TARGETS.setP99, true)],
        ['floor: set p50 / p99 (ms) of two plain sets at once', '', `${median(floor.p50).toFixed(3)} / ${median(floor.p99).toFixed(3)}`, `${(median(floor.p50) / m('one', 'p50')).toFixed(2)}x / ${(median(floor.p99) / m('one', 'p99')).toFixed(2)}x`],
        ['copies 2 set p50 / p99 against the floor', '', '', `${(m('two', 'p50') / median(floor.p50)).toFixed(2)}x / ${(m('two', 'p99') / median(floor.p99)).toFixed(2)}x`],
        ['get (keys/s, 100 in flight)', m('one', 'gets').toFixed(0), m('two', 'gets').toFixed(0), check(`${backend} get rate`, m('two', 'gets') / m('one', 'gets'), TARGETS.gets, false)],
        ['mget(100) (calls/s)', m('one', 'mget').toFixed(0), m('two', 'mget').toFixed(0), check(`${backend} mget(100) rate`, m('two', 'mget') / m('one', 'mget'), TARGETS.mget, false)],
      ],
    ),
  ];
}

/** Read-through traffic for TRAFFIC_MS: hits and loader (database) calls. */
async function traffic(cache: Cache, keyList: readonly string[]): Promise<{ reads: number; loads: number; firstPassLoads: number }> {
  let reads = 0;
  let loads = 0;
  let firstPassLoads = -1;
  const until = performance.now() + TRAFFIC_MS;
  let next = 0;
  const worker = async () => {
    while (performance.now() < until && reads < TRAFFIC_MAX_OPS) {
      const key = keyList[next++ % keyList.length]!;
      if (reads === keyList.length) firstPassLoads = loads;
      reads++;
      await cache.getOrLoad(key, async () => {
        loads++;
        return valueOf(key);
      });
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  return { reads, loads, firstPassLoads: firstPassLoads === -1 ? loads : firstPassLoads };
}

function once<T>(cache: Cache, event: 'node:ejected' | 'node:readmitted', node: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} of ${node} within 20 s`)), 20_000);
    cache.events.on(event, function listener(payload: { node: string }) {
      if (payload.node !== node) return;
      clearTimeout(timer);
      cache.events.off(event, listener as never);
      resolve(payload as T);
    } as never);
  });
}

const LABELS = { restart: 'restarted empty (copies 2)', join: '4th node joins (copies 1)', return: 'hung node returns (copies 1)' } as const;

async function scenario(backend: ServerBackend, kind: keyof typeof LABELS, warm: boolean): Promise<(string | number)[]> {
  const servers: ServerProcess[] = await startServers(backend, kind === 'join' ? 4 : 3);
  const initial = servers.slice(0, 3).map((s) => s.address);
  const keyList = shuffled(keys(KEY_COUNT), 99);
  const replication = { copies: kind === 'restart' ? 2 : 1 };
  const seeder = await createCache({ backend, nodes: initial, replication, timeouts: { setMs: 5000, batchMs: 10_000 } }, { env: {} });
  for (let i = 0; i < keyList.length; i += 500) await seeder.mset(keyList.slice(i, i + 500).map((key) => [key, valueOf(key)]));
  await seeder.close();
  const cache = await createCache({ backend, nodes: initial, ...COMMON, replication, warmup: warm ? WARMUP : { durationMs: 0 } }, { env: {} });
  if (kind === 'restart') {
    const victim = servers[1]!;
    const ejected = once(cache, 'node:ejected', victim.address);
    await victim.kill();
    // Reads find it dead and eject it; the restart is then seen by a probe.
    for (let i = 0; i < 50; i++) await cache.get(keyList[i]!);
    await ejected;
    const back = once(cache, 'node:readmitted', victim.address);
    await victim.restart();
    await back;
  } else if (kind === 'return') {
    const victim = servers[1]!;
    const ejected = once(cache, 'node:ejected', victim.address);
    victim.pause();
    for (let i = 0; i < 50; i++) await cache.get(keyList[i]!);
    await ejected;
    // One pass of read-through while it is out: its keys load onto their stand-ins (journaled); not measured.
    for (let i = 0; i < keyList.length; i += 500) await cache.mgetOrLoad(keyList.slice(i, i + 500), (missing) => missing.map(valueOf));
    const back = once(cache, 'node:readmitted', victim.address);
    victim.resume();
    await back;
  } else {
    await cache.setNodes(servers.map((s) => s.address));
  }
  const { reads, loads, firstPassLoads } = await traffic(cache, keyList);
  await cache.close();
  await Promise.all(servers.map((s) => s.stop()));
  const hitRate = (reads - loads) / reads;
  const label = `${backend} ${LABELS[kind]}`;
  const verdict = warm ? (hitRate >= TARGETS.warmHits ? 'ok' : 'MISSED') : '';
  if (warm && hitRate < TARGETS.warmHits) missed.push(`${label} with warm-up: ${(hitRate * 100).toFixed(2)}% hits`);
  const firstPass = `${(((keyList.length - firstPassLoads) / keyList.length) * 100).toFixed(2)}%`;
  return [label, warm ? 'on' : 'off', String(reads), String(loads), `${(hitRate * 100).toFixed(2)}% ${verdict}`.trim(), firstPass];
}

async function main(): Promise<void> {
  const started = performance.now();
  console.log(`replication${QUICK ? ' (quick)' : ''}: 3 nodes, ${KEY_COUNT} keys of ${valueOf('k').length} bytes, ${REPEATS} interleaved repeats; traffic ${TRAFFIC_MS / 1000} s, ${IN_FLIGHT} getOrLoad in flight`);
  try {
    for (const backend of PART === 'events' ? [] : BACKENDS) {
      console.log(`\n## ${backend}: copies 2 against copies 1 (medians)`);
      for (const line of await copyCost(backend)) console.log(line);
    }
    if (PART !== 'copies') {
      const rows: (string | number)[][] = [];
      for (const backend of BACKENDS) {
        for (const kind of ['restart', 'join', 'return'] as const) for (const warm of [false, true]) rows.push(await scenario(backend, kind, warm));
      }
      console.log(`\n## the first ${TRAFFIC_MS / 1000} s after a node restarts empty, joins, or returns from ejection`);
      console.log(table(['event', 'warm-up', 'reads', 'database calls', 'hit rate', `hit rate, first ${KEY_COUNT} reads`], rows));
    }
  } finally {
    await stopAll();
  }
  printVerdict(missed, started);
}

await main();
