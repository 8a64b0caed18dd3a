/**
 * Ring lookup speed: key -> node, no I/O. shardcache's Ring in fast mode
 * (xxhash32), maglev mode (xxhash32 and a table slot; must be no slower than
 * fast) and ketama mode (MD5, the default) against the `hashring` npm
 * package 3.x (MD5 ketama with a 5000-entry LRU of answers; what the
 * `memcached` npm client uses) and against the bare key hashes as a floor,
 * for rings of 10, 100 and 1000 nodes.
 *
 * Definitions:
 * - keys: 1 M distinct keys (`bench:user:<i>:profile`), precomputed as flat
 *   strings, hashring with its own copy (see flatKeys and main); the quick
 *   mode uses 100 k;
 * - cold: one pass over the distinct keys, each looked up once. hashring
 *   gets a fresh HashRing every repeat, so every lookup misses its LRU (and
 *   pays for inserting into it, as it does in an application with more hot
 *   keys than its cache holds);
 * - warm: the same number of lookups cycling over a working set of 4000
 *   keys, already looked up once, so every hashring lookup hits its LRU
 *   (4000 < 5000 entries); shardcache has no cache and simply runs the same
 *   sequence with its continuum hot in the CPU caches;
 * - floors: the hash alone, over the same keys as the cold pass: the
 *   xxhash32 function the fast ring uses (xxhash-wasm, seed 0) and MD5 via
 *   node:crypto in its fastest form here (`crypto.hash('md5', key,
 *   'binary')` (latin1 text) then 4 char codes: ~440 ns against ~1200 ns for the
 *   'buffer' output and ~1800 ns for createHash), plus js-md5, which is the
 *   ketama ring's own key hash;
 * - each measurement is bounded: the key count, and a time cap after which
 *   the rate of the lookups done so far is taken;
 * - the order of contenders rotates by one each repeat, so none always runs
 *   right after hashring's garbage. No forced gc() between passes: a full
 *   collection shrinks the young generation, and measured here it slowed
 *   allocating contenders (js-md5, hashring's LRU hits) by up to 2x.
 *
 *   npx tsx ring-lookup.ts [--quick] [--json[=path]]
 */
import { hash as cryptoHash } from 'node:crypto';
import HashRing from 'hashring';
import { md5 as jsMd5 } from 'js-md5';
import { DEFAULTS, loadXxhash32, Ring, type RingMember } from './lib/sut.js';
import { compare, formatInterval, formatRatio, interleave, missedTargets, parseArgs, printVerdict, type ComparisonResult, writeJson } from './lib/compare.js';
import { table } from './lib/stats.js';

const ARGS = parseArgs('ring-lookup');
const QUICK = ARGS.quick;
const KEY_COUNT = QUICK ? 100_000 : 1_000_000;
const NODE_COUNTS = [10, 100, 1000] as const;
const REPEATS = QUICK ? 2 : 9;
const CAP_MS = QUICK ? 150 : 700;
const BUDGET_MS = QUICK ? 10_000 : 120_000; // per node count
const WARM_SET = 4_000;
const SAMPLE = 1_000;

const TARGETS = { fastVsHashringCold: 15, fastVsXxhash: 1 / 2.5, ketamaVsHashringCold: 4, maglevVsFast: 1 } as const;

interface Pass {
  readonly count: number;
  readonly ms: number;
}

interface HashRingInternals {
  get(key: string): string;
  cache: { cache: Record<string, unknown> };
}

// One loop per contender (not one loop calling a function argument), so each
// call site stays monomorphic and the floor is not slowed by dispatch.
// Results go to a small array so no work can be optimized away.
const memberSink: (RingMember | undefined)[] = new Array(1024);
const stringSink: string[] = new Array(1024);
const numberSink = new Float64Array(1024);

function passRing(ring: Ring<RingMember>, keys: readonly string[], capMs: number): Pass {
  const n = keys.length;
  const start = performance.now();
  const deadline = start + capMs;
  let i = 0;
  while (i < n) {
    memberSink[i & 1023] = ring.lookup(keys[i]!);
    i++;
    if ((i & 1023) === 0 && performance.now() > deadline) break;
  }
  return { count: i, ms: performance.now() - start };
}

function passHashring(ring: HashRingInternals, keys: readonly string[], capMs: number): Pass {
  const n = keys.length;
  const start = performance.now();
  const deadline = start + capMs;
  let i = 0;
  while (i < n) {
    stringSink[i & 1023] = ring.get(keys[i]!);
    i++;
    if ((i & 1023) === 0 && performance.now() > deadline) break;
  }
  return { count: i, ms: performance.now() - start };
}

function passXxhash(h32: (text: string) => number, keys: readonly string[], capMs: number): Pass {
  const n = keys.length;
  const start = performance.now();
  const deadline = start + capMs;
  let i = 0;
  while (i < n) {
    numberSink[i & 1023] = h32(keys[i]!);
    i++;
    if ((i & 1023) === 0 && performance.now() > deadline) break;
  }
  return { count: i, ms: performance.now() - start };
}

function cryptoMd5KeyHash(key: string): number {
  const digest = cryptoHash('md5', key, 'binary');
  return (digest.charCodeAt(0) | (digest.charCodeAt(1) << 8) | (digest.charCodeAt(2) << 16) | (digest.charCodeAt(3) << 24)) >>> 0;
}

function passCryptoMd5(keys: readonly string[], capMs: number): Pass {
  const n = keys.length;
  const start = performance.now();
  const deadline = start + capMs;
  let i = 0;
  while (i < n) {
    numberSink[i & 1023] = cryptoMd5KeyHash(keys[i]!);
    i++;
    if ((i & 1023) === 0 && performance.now() > deadline) break;
  }
  return { count: i, ms: performance.now() - start };
}

function jsMd5KeyHash(key: string): number {
  const digest = jsMd5.array(key);
  return (digest[0]! | (digest[1]! << 8) | (digest[2]! << 16) | (digest[3]! << 24)) >>> 0;
}

function passJsMd5(keys: readonly string[], capMs: number): Pass {
  const n = keys.length;
  const start = performance.now();
  const deadline = start + capMs;
  let i = 0;
  while (i < n) {
    numberSink[i & 1023] = jsMd5KeyHash(keys[i]!);
    i++;
    if ((i & 1023) === 0 && performance.now() > deadline) break;
  }
  return { count: i, ms: performance.now() - start };
}

/**
 * Keys as flat (sequential, not internalized) strings, the state in which
 * every hash reads them fastest. A template literal makes a cons string the
 * first hash would flatten, leaving an indirection for whoever comes next
 * (js-md5 over such keys: ~410 ns against ~250 ns flat). Call twice for two
 * separate copies with the same text (see main).
 */
function flatKeys(count: number): string[] {
  return Array.from({ length: count }, (_, i) => Buffer.from(`bench:user:${i}:profile`, 'latin1').toString('latin1'));
}

function rate(pass: Pass): number {
  return (pass.count / pass.ms) * 1000;
}

function pool(size: number): RingMember[] {
  return Array.from({ length: size }, (_, i) => {
    const host = `10.1.${i >> 8}.${i & 255}`;
    return { address: `${host}:11211`, host, port: 11211, weight: 1 };
  });
}

function check(condition: boolean, message: string): void {
  if (!condition) throw new Error(`ring-lookup check failed: ${message}`);
}

const CONTENDERS = [
  'shardcache fast',
  'shardcache maglev',
  'shardcache ketama',
  'hashring cold',
  'xxhash32 (bare)',
  'md5 node:crypto (bare)',
  'md5 js-md5 (bare)',
  'shardcache fast, warm set',
  'shardcache ketama, warm set',
  'hashring warm (LRU hits)',
] as const;
type Contender = (typeof CONTENDERS)[number];

interface SizeResult {
  readonly nodes: number;
  readonly rates: Record<Contender, number[]>;
  readonly counts: Record<Contender, number>;
  readonly comparisons: ComparisonResult[];
}

interface KeySets {
  readonly keys: readonly string[];
  readonly warmKeys: readonly string[];
  readonly hashringKeys: readonly string[];
  readonly hashringWarmKeys: readonly string[];
}

async function measureSize(nodes: number, { keys, warmKeys, hashringKeys, hashringWarmKeys }: KeySets, h32: (text: string) => number): Promise<SizeResult> {
  const members = pool(nodes);
  const fast = Ring.build(members, { ...DEFAULTS.ring, algorithm: 'fast', xxhash32: h32 });
  const ketama = Ring.build(members, { ...DEFAULTS.ring, algorithm: 'ketama' });
  const maglev = Ring.build(members, { ...DEFAULTS.ring, algorithm: 'maglev', xxhash32: h32 });
  const servers = Object.fromEntries(members.map((m) => [m.address, m.weight]));
  const addresses = new Set(members.map((m) => m.address));
  const warmRing = new HashRing(servers) as unknown as HashRingInternals;
  const checkRing = new HashRing(servers) as unknown as HashRingInternals;

  // Correctness before timing: the floors hash what the rings hash, every
  // answer is a pool member, and the warm hashring really answers from its LRU.
  for (let i = 0; i < SAMPLE; i++) {
    const key = keys[(i * 7919) % keys.length]!;
    check(fast.hashKey(key) === h32(key) && maglev.hashKey(key) === h32(key), `fast or maglev ring hashes ${key} differently from xxhash32`);
    check(addresses.has(maglev.lookup(key)!.address), `maglev lookup of ${key} is not a pool member`);
    check(ketama.hashKey(key) === cryptoMd5KeyHash(key) && ketama.hashKey(key) === jsMd5KeyHash(key), `ketama ring hashes ${key} differently from md5`);
    check(addresses.has(fast.lookup(key)!.address) && addresses.has(ketama.lookup(key)!.address), `lookup of ${key} is not a pool member`);
    check(addresses.has(checkRing.get(hashringKeys[(i * 7919) % keys.length]!)), `hashring answered a non-member for ${key}`);
  }
  for (let i = 0; i < WARM_SET; i++) warmRing.get(hashringWarmKeys[i]!);
  for (let i = 0; i < WARM_SET; i++) check(warmRing.cache.cache[hashringWarmKeys[i]!] !== undefined, 'hashring warm set is not all cached');

  // Warm-up (JIT) on keys outside the measured set, on throwaway instances.
  const warmup = () => Array.from({ length: 20_000 }, (_, i) => Buffer.from(`warmup:${nodes}:${i}`, 'latin1').toString('latin1'));
  const warmupKeys = warmup();
  passRing(fast, warmupKeys, CAP_MS);
  passRing(ketama, warmupKeys, CAP_MS);
  passRing(maglev, warmupKeys, CAP_MS);
  passHashring(new HashRing(servers) as unknown as HashRingInternals, warmup(), CAP_MS);
  passXxhash(h32, warmupKeys, CAP_MS);
  passCryptoMd5(warmupKeys, CAP_MS);
  passJsMd5(warmupKeys, CAP_MS);

  const counts = Object.fromEntries(CONTENDERS.map((c) => [c, Number.POSITIVE_INFINITY])) as Record<Contender, number>;
  // A fresh hashring for each repeat's cold pass, built up front so building
  // (and collecting its garbage) stays out of every timed pass.
  const coldRings = Array.from({ length: REPEATS }, () => new HashRing(servers) as unknown as HashRingInternals);
  const rates = await interleave(CONTENDERS, { count: REPEATS, budgetMs: BUDGET_MS }, (name, repeat) => {
    let pass: Pass;
    switch (name as Contender) {
      case 'shardcache fast':
        pass = passRing(fast, keys, CAP_MS);
        break;
      case 'shardcache ketama':
        pass = passRing(ketama, keys, CAP_MS);
        break;
      case 'shardcache maglev':
        pass = passRing(maglev, keys, CAP_MS);
        break;
      case 'hashring cold':
        pass = passHashring(coldRings[repeat]!, hashringKeys, CAP_MS);
        break;
      case 'xxhash32 (bare)':
        pass = passXxhash(h32, keys, CAP_MS);
        break;
      case 'md5 node:crypto (bare)':
        pass = passCryptoMd5(keys, CAP_MS);
        break;
      case 'md5 js-md5 (bare)':
        pass = passJsMd5(keys, CAP_MS);
        break;
      case 'shardcache fast, warm set':
        pass = passRing(fast, warmKeys, CAP_MS);
        break;
      case 'shardcache ketama, warm set':
        pass = passRing(ketama, warmKeys, CAP_MS);
        break;
      case 'hashring warm (LRU hits)':
        pass = passHashring(warmRing, hashringWarmKeys, CAP_MS);
        break;
    }
    counts[name as Contender] = Math.min(counts[name as Contender], pass.count);
    return rate(pass);
  });
  const byName = Object.fromEntries(rates) as Record<Contender, number[]>;
  const result = (name: Contender) => ({ name, rates: byName[name] });
  const comparisons = [
    compare({
      title: `fast mode, ${nodes} nodes`,
      operation: 'lookup',
      timeUnit: 'ns',
      subject: 'shardcache fast',
      contenders: [result('shardcache fast'), result('hashring cold'), result('xxhash32 (bare)')],
      targets: { 'hashring cold': TARGETS.fastVsHashringCold, 'xxhash32 (bare)': TARGETS.fastVsXxhash },
    }),
    compare({
      title: `ketama mode, ${nodes} nodes`,
      operation: 'lookup',
      timeUnit: 'ns',
      subject: 'shardcache ketama',
      contenders: [result('shardcache ketama'), result('hashring cold'), result('md5 node:crypto (bare)'), result('md5 js-md5 (bare)')],
      targets: { 'hashring cold': TARGETS.ketamaVsHashringCold },
    }),
    compare({
      title: `maglev mode, ${nodes} nodes`,
      operation: 'lookup',
      timeUnit: 'ns',
      subject: 'shardcache maglev',
      contenders: [result('shardcache maglev'), result('shardcache fast')],
      targets: { 'shardcache fast': TARGETS.maglevVsFast },
    }),
    compare({
      title: `fast mode warm, ${nodes} nodes`,
      operation: 'lookup',
      timeUnit: 'ns',
      subject: 'shardcache fast, warm set',
      contenders: [result('shardcache fast, warm set'), result('hashring warm (LRU hits)')],
    }),
    compare({
      title: `ketama mode warm, ${nodes} nodes`,
      operation: 'lookup',
      timeUnit: 'ns',
      subject: 'shardcache ketama, warm set',
      contenders: [result('shardcache ketama, warm set'), result('hashring warm (LRU hits)')],
    }),
  ];
  return { nodes, rates: byName, counts, comparisons };
}

function ns(rates: readonly number[]): string {
  const sorted = [...rates].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  const medianRate = sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  const value = 1e9 / medianRate;
  return value >= 100 ? value.toFixed(0) : value.toFixed(1);
}

function ratioCell(comparison: ComparisonResult, peer: string): string {
  const row = comparison.rows.find((r) => r.name === peer)!;
  const mark = row.met === undefined ? '' : row.met ? ' met' : ' MISSED';
  return `${formatRatio(row.ratio)} (${formatRatio(row.pairedMin)}–${formatRatio(row.pairedMax)}; CI ${formatInterval(row.interval)})${mark}`;
}

async function main(): Promise<void> {
  const started = performance.now();
  const h32 = await loadXxhash32();
  // hashring gets its own copy of the same keys: its LRU uses keys as
  // property names, which internalizes them (turning them into indirections,
  // ~30% slower to hash here), and that must not slow the other contenders.
  const keys = flatKeys(KEY_COUNT);
  const hashringKeys = flatKeys(KEY_COUNT);
  const warmKeys = Array.from({ length: KEY_COUNT }, (_, i) => keys[i % WARM_SET]!);
  const hashringWarmKeys = Array.from({ length: KEY_COUNT }, (_, i) => hashringKeys[i % WARM_SET]!);
  const results: SizeResult[] = [];
  for (const nodes of NODE_COUNTS) results.push(await measureSize(nodes, { keys, warmKeys, hashringKeys, hashringWarmKeys }, h32));

  const minCount = Math.min(...results.flatMap((r) => Object.values(r.counts)));
  const repeats = Math.min(...results.flatMap((r) => Object.values(r.rates).map((v) => v.length)));
  console.log(`\n## Ring lookup (${KEY_COUNT.toLocaleString('en-US')} distinct keys; ${repeats} interleaved repeats, medians; each pass ${KEY_COUNT.toLocaleString('en-US')} lookups or ${CAP_MS} ms, at least ${minCount.toLocaleString('en-US')} done)\n`);
  console.log('ns per lookup (median over repeats):\n');
  console.log(
    table(
      ['nodes', ...CONTENDERS],
      results.map((r) => [String(r.nodes), ...CONTENDERS.map((c) => ns(r.rates[c]))]),
    ),
  );
  console.log('\nratio = peer ns / shardcache ns (> 1: shardcache faster), median over repeats, with the min–max of the per-repeat ratios and the bootstrap 95% interval of the ratio:\n');
  console.log(
    table(
      ['nodes', 'maglev vs fast (≥ 1.00x)', 'fast vs hashring cold (≥ 15x)', 'fast vs xxhash32 floor (≥ 0.40x, i.e. ≤ 2.5x the hash)', 'ketama vs hashring cold (≥ 4x)', 'ketama vs md5 node:crypto', 'ketama vs js-md5', 'fast warm vs hashring warm', 'ketama warm vs hashring warm'],
      results.map((r) => {
        const [fast, ketama, maglev, fastWarm, ketamaWarm] = r.comparisons as [ComparisonResult, ComparisonResult, ComparisonResult, ComparisonResult, ComparisonResult];
        return [
          String(r.nodes),
          ratioCell(maglev, 'shardcache fast'),
          ratioCell(fast, 'hashring cold'),
          ratioCell(fast, 'xxhash32 (bare)'),
          ratioCell(ketama, 'hashring cold'),
          ratioCell(ketama, 'md5 node:crypto (bare)'),
          ratioCell(ketama, 'md5 js-md5 (bare)'),
          ratioCell(fastWarm, 'hashring warm (LRU hits)'),
          ratioCell(ketamaWarm, 'hashring warm (LRU hits)'),
        ];
      }),
    ),
  );
  const missed = missedTargets(results.flatMap((r) => r.comparisons));
  console.log('');
  printVerdict(missed, started);
  writeJson(ARGS.json, 'ring-lookup', { quick: QUICK, keys: KEY_COUNT, capMs: CAP_MS, warmSet: WARM_SET, results: results.map(({ nodes, rates, comparisons }) => ({ nodes, rates, comparisons })), missed });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
