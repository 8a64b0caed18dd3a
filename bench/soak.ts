/**
 * Soak (issue 10): mixed load (get, mget, set, del, getOrLoad; 95% of
 * operations on 1% of the keys) on a Redis cache and a Memcached cache at
 * once, each over 3 real nodes on loopback, for `--minutes` (default 10),
 * with a real fault every 20 s, in turn over the six nodes: SIGSTOP then
 * SIGCONT, or SIGKILL then restart, the node held down for 8 s.
 *
 * Every value read (get, every key of an mget, getOrLoad, and a final pass
 * over every key once the nodes are back) is checked against a model of the
 * writes (lib/soak-model.ts): it must be the last acknowledged write or one
 * whose outcome is in doubt, never a value superseded before the read
 * started. A miss is never wrong. getOrLoad: a call whose loader ran must
 * answer that loader's value (a new unique value, recorded as a write-back
 * of unknown outcome); a call that joined another call of the same key in
 * flight shares its cache read (documented), so it is judged from that
 * call's start.
 *
 * Targets: 0 wrong values, 0 rejected reads, 0 unhandled rejections; RSS and
 * heap (after a full GC, sampled every 5 s) flat within 10% after the
 * warm-up minute; handles and timers back to the baseline after `close()`.
 * The event-loop delay p99 is reported. Exits 1 when a target is missed.
 *
 *   cd bench && npm run soak                          # 10 minutes
 *   cd bench && npm run soak -- --minutes 1           # quick run
 *   npm run bench -- soak --minutes 1                 # from the repo root, through run-all
 *   flags: --minutes N  --rate OPS_PER_S_PER_CACHE  --json[=path]
 *          --max-ejected-fraction F (experiments only; default shardcache's 0.5)
 *
 * Not in the default `npm run bench` (it would add 10 minutes); run-all runs
 * it when named.
 *
 * Options: shardcache's defaults (GET/SET deadline 10 ms, batch 50 ms,
 * ejection after 2 consecutive failures, at most 1 of 3 nodes out, breaker
 * at 50% over 10 s) except faster health timers, so that each fault's
 * ejection, probes and return fit in its 20 s: retryTimeoutMs 3000,
 * maxRetryTimeoutMs 6000, breaker resetTimeoutMs 5000.
 */
import { createHistogram, monitorEventLoopDelay, type IntervalHistogram, type RecordableHistogram } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { cpus, loadavg, totalmem } from 'node:os';
import { spawnSync } from 'node:child_process';
import type { ShardedCache } from '../src/index.js';
import { createCache, DEFAULTS, nodesOf, type ShardcacheOptions } from './lib/sut.js';
import { startMemcached, startRedis, stopAll, type ServerProcess } from '../test/harness/servers.js';
import { parseArgs, printVerdict, withTimeout, writeJson } from './lib/compare.js';
import { table } from './lib/stats.js';
import { seededRandom } from './lib/seeded-random.js';
import { headOf, SoakModel, soakValue, type Verdict, type WriteHandle, type WriteInfo } from './lib/soak-model.js';

// ---------------------------------------------------------------------------
// Parameters

type Backend = 'redis' | 'memcached';
type Op = 'get' | 'mget' | 'set' | 'del' | 'getOrLoad';
const OPS: readonly Op[] = ['get', 'mget', 'set', 'del', 'getOrLoad'];
/** Share of operations by kind. */
const MIX: Readonly<Record<Op, number>> = { get: 0.35, mget: 0.15, set: 0.25, del: 0.05, getOrLoad: 0.2 };

const ARGS = parseArgs('soak');
const argv = process.argv.slice(2);
const MINUTES = numberFlag('--minutes', ARGS.quick ? 1 : 10);
/** Target operations per second per cache (paced; workers fall behind rather than burst). */
const RATE = numberFlag('--rate', 1_000);
const DURATION_MS = Math.round(MINUTES * 60_000);
/** RSS and heap are judged after this; a full minute unless the run is too short for it. */
const WARMUP_MS = Math.min(60_000, Math.round(DURATION_MS / 3));
const NODES = 3;
const KEYS = 10_000;
const HOT_KEYS = 100;
const HOT_SHARE = 0.95;
const MGET_KEYS = 10;
const TTL_SECONDS = 300;
/** Concurrent workers per cache: operations in flight are bounded by this. */
const WORKERS = 16;
/** Hard bound on operations per cache (pacing keeps the count near RATE x duration). */
const MAX_OPS = Math.ceil(RATE * (DURATION_MS / 1000) * 1.5) + 1_000;
const FAULT_EVERY_MS = 20_000;
const FAULT_HOLD_MS = 8_000;
/** An operation that has not settled after this is counted as stuck and its worker moves on. */
const OP_LIMIT_MS = 5_000;
const SAMPLE_EVERY_MS = 5_000;
/** Superseded writes are forgotten this long after (reads are bounded well below it). */
const PRUNE_AFTER_MS = 10_000;
/** After the load: how long the nodes get to be back on the ring before the final pass. */
const SETTLE_LIMIT_MS = 30_000;
const MAX_EXAMPLES = 8;
const MAX_TIMELINE = 5_000;

/** For experiments only (the default run keeps shardcache's 0.5): `--max-ejected-fraction F`. */
const MAX_EJECTED_FRACTION = numberFlag('--max-ejected-fraction', DEFAULTS.health.maxEjectedFraction);
const CACHE_OPTIONS = {
  health: { retryTimeoutMs: 3_000, maxRetryTimeoutMs: 6_000, maxEjectedFraction: MAX_EJECTED_FRACTION },
  breaker: { resetTimeoutMs: 5_000 },
} satisfies Partial<ShardcacheOptions>;

function numberFlag(name: string, fallback: number): number {
  let raw: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === name) raw = argv[i + 1];
    else if (argv[i]!.startsWith(`${name}=`)) raw = argv[i]!.slice(name.length + 1);
  }
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} takes a positive number, got ${raw}`);
  return value;
}

// ---------------------------------------------------------------------------
// State

const startedMs = performance.now();
/** Milliseconds since the load started (before: negative). */
let loadStartMs = Number.POSITIVE_INFINITY;
const sinceLoad = () => performance.now() - loadStartMs;
let stopping = false;

interface OpStats {
  count: number;
  /** Writes: rejected (in doubt). Reads: rejected (a target). */
  failed: number;
  stuck: number;
  readonly latencyUs: RecordableHistogram;
}

interface WrongValue {
  readonly backend: Backend;
  readonly op: string;
  readonly key: string;
  readonly value: string;
  readonly reason: string;
  readonly startMs: number;
  readonly endMs: number;
  readonly ownerNow: string;
  readonly write: string;
  readonly acceptable: string[];
  readonly issuedDuringRead: string[];
  readonly faultAtStart: string;
  readonly recentEvents: string[];
  readonly diagnosis: string;
}

interface TimelineEvent {
  readonly ms: number;
  readonly backend: Backend;
  readonly event: string;
  readonly node: string;
  readonly detail: string;
}

interface Fault {
  readonly index: number;
  readonly backend: Backend;
  readonly nodeIndex: number;
  readonly address: string;
  readonly kind: 'SIGSTOP' | 'SIGKILL';
  readonly atMs: number;
  /** The node's state in the cache when the fault began (it may already be out, ejected for slowness). */
  readonly stateBefore: string;
  /** How long applying the fault took (pause() waits, synchronously, until every thread of the server is stopped). */
  applyMs: number;
  recoveredMs: number | undefined;
  error: string | undefined;
}

interface Lane {
  startedMs: number;
  op: Op;
  escape: () => void;
}

class Soak {
  readonly model: SoakModel;
  readonly ops = new Map<Op, OpStats>(OPS.map((op) => [op, { count: 0, failed: 0, stuck: 0, latencyUs: createHistogram() }]));
  readonly writeErrors = new Map<string, number>();
  readonly rejectedExamples: string[] = [];
  readonly wrong: WrongValue[] = [];
  wrongCount = 0;
  /** Wrong values by the first words of their diagnosis. */
  readonly wrongByDiagnosis = new Map<string, number>();
  finalWrong = 0;
  unverifiable = 0;
  loaderCalls = 0;
  getOrLoadMismatch = 0;
  /**
   * getOrLoad answers superseded when the call started but not when the call
   * it joined (single flight) started: allowed (one shared read), counted.
   */
  coalescedOlder = 0;
  /** getOrLoad calls in flight per key: the first one's start tick (what a joining call shares) and how many. */
  readonly #loadsInFlight = new Map<string, { started: number; startMs: number; calls: number }>();
  /** Values the soak itself saw (keys): hits and misses as read. */
  seenHits = 0;
  seenMisses = 0;
  finalHits = 0;
  finalMisses = 0;
  totalOps = 0;
  readonly lanes: Lane[] = [];
  #rng: () => number;

  constructor(
    readonly backend: Backend,
    readonly cache: ShardedCache,
    readonly servers: ServerProcess[],
    seed: number,
  ) {
    this.model = new SoakModel({ keyPrefix: `soak:${backend}:`, keyCount: KEYS, pruneAfterMs: PRUNE_AFTER_MS, now: sinceLoad });
    this.#rng = seededRandom(seed);
  }

  keyOf(i: number): string {
    return `soak:${this.backend}:${i}`;
  }

  pickKey(): string {
    const r = this.#rng();
    return this.keyOf(r < HOT_SHARE ? Math.floor((r / HOT_SHARE) * HOT_KEYS) : HOT_KEYS + Math.floor(this.#rng() * (KEYS - HOT_KEYS)));
  }

  pickOp(): Op {
    let r = this.#rng();
    for (const op of OPS) {
      r -= MIX[op];
      if (r < 0) return op;
    }
    return 'get';
  }

  /** Every key written once, acknowledged, so the model holds every key from the start (its size stays flat). */
  async seed(): Promise<void> {
    for (let i = 0; i < KEYS; i += 500) {
      const entries: [string, string][] = [];
      const records: WriteHandle[] = [];
      for (let j = i; j < Math.min(KEYS, i + 500); j++) {
        const key = this.keyOf(j);
        const record = this.model.issue(key, 'seed', this.cache.nodeFor(key));
        entries.push([key, soakValue(key, this.model.seq(record), 'seed')]);
        records.push(record);
      }
      await withTimeout(this.cache.mset(entries, { ttl: TTL_SECONDS }), 10_000, `seeding ${this.backend}`);
      for (const record of records) this.model.acked(record);
    }
  }

  async worker(lane: Lane, endMs: number): Promise<void> {
    const intervalMs = (WORKERS / RATE) * 1000;
    let next = performance.now() + this.#rng() * intervalMs;
    while (!stopping && this.totalOps < MAX_OPS) {
      const now = performance.now();
      if (now >= endMs) break;
      if (next > now) await sleep(next - now);
      else if (now - next > 1_000) next = now; // fell behind: carry on at the pace, no burst
      next += intervalMs;
      if (stopping) break;
      this.totalOps++;
      const op = this.pickOp();
      const work = this.#run(op);
      lane.op = op;
      lane.startedMs = performance.now();
      await new Promise<void>((resolve) => {
        lane.escape = resolve;
        work.then(resolve, resolve);
      });
      lane.startedMs = 0;
    }
  }

  /** Called every second: an operation in flight for longer than OP_LIMIT_MS is counted as stuck and its worker moves on. */
  watch(): void {
    const now = performance.now();
    for (const lane of this.lanes) {
      if (lane.startedMs !== 0 && now - lane.startedMs > OP_LIMIT_MS) {
        this.ops.get(lane.op)!.stuck++;
        lane.startedMs = 0;
        lane.escape();
      }
    }
  }

  #run(op: Op): Promise<void> {
    const stats = this.ops.get(op)!;
    stats.count++;
    const began = performance.now();
    const done = () => stats.latencyUs.record(Math.max(1, Math.round((performance.now() - began) * 1000)));
    switch (op) {
      case 'get': {
        const key = this.pickKey();
        const started = this.model.tick();
        const startMs = sinceLoad();
        return this.cache.get<string>(key).then(
          (value) => {
            done();
            this.#check('get', key, value, started, startMs, began);
          },
          (error: unknown) => this.#rejectedRead(stats, 'get', key, error),
        );
      }
      case 'mget': {
        const keys = Array.from({ length: MGET_KEYS }, () => this.pickKey());
        const started = this.model.tick();
        const startMs = sinceLoad();
        return this.cache.mget<string>(keys).then(
          (values) => {
            done();
            for (let i = 0; i < keys.length; i++) this.#check('mget', keys[i]!, values[i], started, startMs, began);
          },
          (error: unknown) => this.#rejectedRead(stats, 'mget', keys.join(','), error),
        );
      }
      case 'set':
      case 'del': {
        const key = this.pickKey();
        const record = this.model.issue(key, op, this.cache.nodeFor(key));
        const write = op === 'set' ? this.cache.set(key, soakValue(key, this.model.seq(record), 'set'), { ttl: TTL_SECONDS }) : this.cache.del(key);
        return (write as Promise<unknown>).then(
          () => {
            done();
            this.model.acked(record);
          },
          (error: unknown) => {
            done();
            stats.failed++;
            this.model.inDoubt(record);
            const code = `${op}: ${(error as { code?: string }).code ?? (error as Error).name}`;
            this.writeErrors.set(code, (this.writeErrors.get(code) ?? 0) + 1);
          },
        );
      }
      case 'getOrLoad': {
        const key = this.pickKey();
        const started = this.model.tick();
        const startMs = sinceLoad();
        let loaded: WriteHandle | undefined;
        // A call made while another for the key is in flight joins it (single flight): note the first one's start.
        let flight = this.#loadsInFlight.get(key);
        const joined = flight !== undefined;
        if (flight) flight.calls++;
        else this.#loadsInFlight.set(key, (flight = { started, startMs, calls: 1 }));
        const leave = () => {
          if (--flight.calls === 0 && this.#loadsInFlight.get(key) === flight) this.#loadsInFlight.delete(key);
        };
        const loader = () => {
          this.loaderCalls++;
          loaded = this.model.issue(key, 'load', this.cache.nodeFor(key));
          return soakValue(key, this.model.seq(loaded), 'load');
        };
        return this.cache.getOrLoad<string>(key, loader, { ttl: TTL_SECONDS }).then(
          (value) => {
            done();
            leave();
            if (loaded !== undefined) {
              // This call's own loader ran: its answer must be that value, and the cache has sent it back.
              const own = soakValue(key, this.model.seq(loaded), 'load');
              this.model.unknown(loaded);
              if (value !== own) {
                this.getOrLoadMismatch++;
                this.#wrong('getOrLoad', key, value, started, startMs, { kind: 'wrong', reason: `not the value its own loader returned (${headOf(own)})`, write: undefined });
              }
              return;
            }
            // Documented: concurrent getOrLoad calls of one key share one cache read. A call that
            // joined one in flight is that read, so it is judged from when that call started.
            if (joined && flight.started < started && this.model.judge(key, value, started, false).kind === 'wrong') {
              if (this.model.judge(key, value, flight.started, false).kind === 'ok') this.coalescedOlder++;
              this.#check('getOrLoad', key, value, flight.started, flight.startMs, began);
              return;
            }
            this.#check('getOrLoad', key, value, started, startMs, began);
          },
          (error: unknown) => {
            leave();
            this.#rejectedRead(stats, 'getOrLoad', key, error);
          },
        );
      }
    }
  }

  #check(op: string, key: string, value: unknown, started: number, startMs: number, began: number): void {
    const late = performance.now() - began > PRUNE_AFTER_MS;
    const verdict = this.model.judge(key, value, started, late);
    if (verdict.kind === 'miss') this.seenMisses++;
    else if (verdict.kind === 'ok') this.seenHits++;
    else if (verdict.kind === 'unverifiable') this.unverifiable++;
    else this.#wrong(op, key, value, started, startMs, verdict);
  }

  #wrong(op: string, key: string, value: unknown, started: number, startMs: number, verdict: Extract<Verdict, { kind: 'wrong' }>): void {
    this.wrongCount++;
    const { category: path, detail: diagnosis } = diagnose(this.backend, verdict.write, sinceLoad());
    const category = verdict.write?.supersededBy ? path : verdict.reason;
    this.wrongByDiagnosis.set(category, (this.wrongByDiagnosis.get(category) ?? 0) + 1);
    if (this.wrong.length >= MAX_EXAMPLES) return;
    const describe = (w: WriteInfo) =>
      `#${w.seq} ${w.kind} to ${w.node} issued ${ms(w.issuedMs)} ${w.outcome}${w.completed ? ` ${ms(w.completedMs)}` : ''}` +
      (w.supersededBy ? `, superseded ${ms(w.supersededMs)} by #${w.supersededBy.seq} ${w.supersededBy.kind} to ${w.supersededBy.node} (issued ${ms(w.supersededBy.issuedMs)}, acked ${ms(w.supersededBy.completedMs)})` : '');
    this.wrong.push({
      backend: this.backend,
      op,
      key,
      value: headOf(value),
      reason: verdict.reason,
      startMs,
      endMs: sinceLoad(),
      ownerNow: this.cache.nodeFor(key),
      write: verdict.write ? describe(verdict.write) : '(none)',
      acceptable: this.model.acceptableAt(key, started).map(describe),
      issuedDuringRead: this.model.issuedSince(key, started).map(describe),
      faultAtStart: faultAt(startMs),
      recentEvents: eventsBetween(this.backend, (verdict.write?.issuedMs ?? startMs) - 1_000, sinceLoad())
        .filter((e) => !verdict.write || e.node === verdict.write.node || !NOISY.has(e.event))
        .slice(-10)
        .map((e) => `${ms(e.ms)} ${e.event} ${e.node}${e.detail ? ` ${e.detail}` : ''}`),
      diagnosis,
    });
  }

  #rejectedRead(stats: OpStats, op: string, key: string, error: unknown): void {
    stats.failed++;
    if (this.rejectedExamples.length < MAX_EXAMPLES) this.rejectedExamples.push(`${ms(sinceLoad())} ${op}(${key}): ${(error as Error).name}: ${(error as Error).message}`);
  }

  /** After the load, once the nodes are back: every key read once (mget, 100 at a time) and judged. */
  async finalPass(): Promise<void> {
    const stats = this.ops.get('mget')!;
    for (let i = 0; i < KEYS; i += 100) {
      const keys = Array.from({ length: Math.min(100, KEYS - i) }, (_, j) => this.keyOf(i + j));
      const started = this.model.tick();
      const startMs = sinceLoad();
      let values: (string | undefined)[];
      try {
        values = await withTimeout(this.cache.mget<string>(keys), OP_LIMIT_MS, `final mget of ${this.backend}`);
      } catch (error) {
        this.#rejectedRead(stats, 'final mget', `${keys[0]}..`, error);
        continue;
      }
      for (let j = 0; j < keys.length; j++) {
        const verdict = this.model.judge(keys[j]!, values[j], started, false);
        if (verdict.kind === 'miss') this.finalMisses++;
        else if (verdict.kind === 'ok') this.finalHits++;
        else if (verdict.kind === 'wrong') {
          this.finalWrong++;
          this.#wrong('final pass', keys[j]!, values[j], started, startMs, verdict);
        }
      }
    }
  }
}


/**
 * Names the path behind a superseded value, from the kept events: what
 * happened to the value's node (and to the node of the write that
 * superseded it) between the value's write and the read.
 */
function diagnose(backend: Backend, write: WriteInfo | undefined, readEndMs: number): { category: string; detail: string } {
  const by = write?.supersededBy;
  if (!write || !by) return { category: 'not a superseded write', detail: '' };
  const between = eventsBetween(backend, write.issuedMs, by.issuedMs).filter((e) => e.node === write.node);
  const replaced = between.filter((e) => e.event === 'connection-replaced');
  const ejected = between.some((e) => e.event === 'ejected');
  const sentThenLost = write.outcome === 'in-doubt' || write.outcome === 'unknown';
  const what = write.outcome === 'unknown' ? 'getOrLoad write-back' : write.outcome === 'in-doubt' ? 'in-doubt write' : 'acknowledged write';
  if (sentThenLost && by.node === write.node && replaced.length > 0 && !ejected) {
    return {
      category: 'reordered across a connection replacement',
      detail:
        `${what} reordered after a newer one across a connection replacement: ${write.node} stayed on the ring ` +
        `(${between.filter((e) => e.event === 'ejection-refused').length} refused ejections kept), its connection was replaced at ${replaced.map((e) => ms(e.ms)).join(', ')}, ` +
        `and the server applied the write sent on the old connection after the newer write sent on the new one`,
    };
  }
  if (by.node !== write.node) {
    const important = (e: TimelineEvent) => !NOISY.has(e.event) && (e.node === write.node || e.node === by.node);
    const story = eventsBetween(backend, write.issuedMs - 2_000, readEndMs).filter(important);
    return {
      category: 'stale copy on another node (ring changed)',
      detail:
        `the value's ${what} went to ${write.node}, the superseding write to ${by.node}; the read was answered from ${write.node}'s copy. ` +
        `Events of both nodes from 2 s before the write to the read: ${story.map((e) => `${ms(e.ms)} ${e.event} ${e.node}${e.detail ? ` ${e.detail}` : ''}`).join('; ') || 'none kept'}`,
    };
  }
  return { category: `same node, ${what}`, detail: `same node, ${between.length ? between.map((e) => e.event).join(', ') : 'no membership event'} between the write and the one that superseded it` };
}

function ms(value: number): string {
  return `${(value / 1000).toFixed(3)} s`;
}

// ---------------------------------------------------------------------------
// Faults

/** Faults, ejections, returns, probes, breakers: tens per fault, kept (bounded by MAX_TIMELINE). */
const timeline: TimelineEvent[] = [];
/**
 * Refused ejections and connection replacements can come by the thousand:
 * the last RECENT_EVENTS of them, and counts. The ring starts full (of
 * placeholders the size of an event) so that filling it does not read as
 * growth of the client's heap.
 */
const RECENT_EVENTS = 2_048;
const recent: TimelineEvent[] = Array.from({ length: RECENT_EVENTS }, (_, i) => ({
  ms: Number.NEGATIVE_INFINITY,
  backend: 'redis',
  event: 'placeholder',
  node: '',
  detail: `(up, ${i} consecutive failures)`.padEnd(40),
}));
let recentNext = 0;
const noisyCounts = new Map<string, number>();
const NOISY = new Set(['ejection-refused', 'connection-replaced']);
const faults: Fault[] = [];

function note(backend: Backend, event: string, node: string, detail = ''): void {
  const entry = { ms: sinceLoad(), backend, event, node, detail };
  if (NOISY.has(event)) {
    noisyCounts.set(`${backend} ${event}`, (noisyCounts.get(`${backend} ${event}`) ?? 0) + 1);
    recent[recentNext] = entry;
    recentNext = (recentNext + 1) % RECENT_EVENTS;
  } else if (timeline.length < MAX_TIMELINE) {
    timeline.push(entry);
  }
}

/** Every kept event of `backend` between `fromMs` and `toMs`, in time order. */
function eventsBetween(backend: Backend, fromMs: number, toMs: number): TimelineEvent[] {
  return [...timeline, ...recent]
    .filter((e) => e.backend === backend && e.ms >= fromMs && e.ms <= toMs)
    .sort((a, b) => a.ms - b.ms);
}

function faultAt(atMs: number): string {
  const fault = faults.find((f) => f.atMs <= atMs && (f.recoveredMs === undefined || f.recoveredMs >= atMs));
  if (fault) return `${fault.kind} ${fault.backend} ${fault.address} since ${ms(fault.atMs)}`;
  const last = [...faults].reverse().find((f) => f.atMs <= atMs);
  return last ? `none (last: ${last.kind} ${last.backend} ${last.address}, recovered ${ms(last.recoveredMs ?? 0)})` : 'none yet';
}

/**
 * Fault i, in a cycle of 12 that gives every node both faults: node
 * floor(i / 4) % 3, then by i % 4: redis SIGSTOP, memcached SIGKILL,
 * memcached SIGSTOP, redis SIGKILL. A 1-minute run has two faults (at 20 s
 * and 40 s): redis SIGSTOP and memcached SIGKILL, so it still sees both
 * backends and both kinds.
 */
function planFault(i: number): { backend: Backend; nodeIndex: number; kind: 'SIGSTOP' | 'SIGKILL' } {
  const step = i % 4;
  return {
    backend: step === 0 || step === 3 ? 'redis' : 'memcached',
    nodeIndex: Math.floor(i / 4) % NODES,
    kind: step === 0 || step === 2 ? 'SIGSTOP' : 'SIGKILL',
  };
}

async function injectFaults(soaks: Record<Backend, Soak>, endMs: number): Promise<void> {
  for (let i = 0; ; i++) {
    const at = loadStartMs + (i + 1) * FAULT_EVERY_MS;
    // Only faults whose node is back well before the load ends.
    if (at + FAULT_HOLD_MS + 5_000 > endMs) return;
    if (!(await sleepUntil(at))) return;
    const plan = planFault(i);
    const server = soaks[plan.backend].servers[plan.nodeIndex]!;
    const stateBefore = soaks[plan.backend].cache.stats().nodes.find((n) => n.address === server.address)?.state ?? '?';
    const fault: Fault = { index: i + 1, ...plan, address: server.address, atMs: sinceLoad(), stateBefore, applyMs: 0, recoveredMs: undefined, error: undefined };
    faults.push(fault);
    try {
      const applying = performance.now();
      if (plan.kind === 'SIGSTOP') server.pause();
      else await server.kill();
      fault.applyMs = performance.now() - applying;
      note(plan.backend, plan.kind, server.address);
      await sleepUntil(at + FAULT_HOLD_MS, true);
      if (plan.kind === 'SIGSTOP') server.resume();
      else await server.restart();
      fault.recoveredMs = sinceLoad();
      note(plan.backend, plan.kind === 'SIGSTOP' ? 'SIGCONT' : 'restarted', server.address);
    } catch (error) {
      fault.error = (error as Error).message;
      if (server.paused) server.resume();
      if (!server.running) await server.restart().catch(() => {});
      fault.recoveredMs = sinceLoad();
    }
  }
}

/** Sleeps until `atMs` (performance.now() time); false if the soak is stopping (unless `evenIfStopping`). */
async function sleepUntil(atMs: number, evenIfStopping = false): Promise<boolean> {
  while (performance.now() < atMs) {
    if (stopping && !evenIfStopping) return false;
    await sleep(Math.min(250, atMs - performance.now()));
  }
  return !stopping || evenIfStopping;
}

// ---------------------------------------------------------------------------
// Resources

interface MemorySample {
  readonly ms: number;
  readonly rss: number;
  readonly heapUsed: number;
  readonly heapTotal: number;
  /** Memory of Buffers and other objects outside the V8 heap (includes the model's typed arrays, fixed). */
  readonly external: number;
  /** heapUsed before the forced GC. */
  readonly heapRaw: number;
  readonly modelRecords: number;
}

const forceGc = (globalThis as { gc?: () => void }).gc;

function sampleMemory(soaks: readonly Soak[]): MemorySample {
  const raw = process.memoryUsage().heapUsed;
  forceGc?.();
  const { rss, heapUsed, heapTotal, external } = process.memoryUsage();
  return { ms: sinceLoad(), rss, heapUsed, heapTotal, external, heapRaw: raw, modelRecords: soaks.reduce((n, s) => n + s.model.size, 0) };
}

function spread(values: readonly number[]): { min: number; max: number; mean: number; spreadPct: number } {
  const min = Math.min(...values);
  const max = Math.max(...values);
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return { min, max, mean, spreadPct: ((max - min) / mean) * 100 };
}

function handleCounts(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const type of process.getActiveResourcesInfo()) counts[type] = (counts[type] ?? 0) + 1;
  return counts;
}

const MB = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MB`;
const pct = (value: number) => `${value.toFixed(1)}%`;
const ELD_RESOLUTION_MS = 10;
/** Node's histogram records the time between its timer's ticks; the delay is what exceeds the timer's interval. */
const eldMs = (h: IntervalHistogram, p?: number) => Math.max(0, (p === undefined ? h.max : h.percentile(p)) / 1e6 - ELD_RESOLUTION_MS).toFixed(1);

// ---------------------------------------------------------------------------
// Main

let unhandled = 0;
const unhandledExamples: string[] = [];
process.on('unhandledRejection', (reason) => {
  unhandled++;
  if (unhandledExamples.length < MAX_EXAMPLES) unhandledExamples.push(String((reason as Error)?.stack ?? reason).split('\n').slice(0, 4).join(' | '));
});

async function main(): Promise<void> {
  const command = `cd bench && npm run soak -- --minutes ${MINUTES}${RATE !== 1_000 ? ` --rate ${RATE}` : ''}${MAX_EJECTED_FRACTION !== DEFAULTS.health.maxEjectedFraction ? ` --max-ejected-fraction ${MAX_EJECTED_FRACTION}` : ''}`;
  const machine = cpus();
  console.log(`# soak: ${MINUTES} min of mixed load, a fault every ${FAULT_EVERY_MS / 1000} s, ${new Date().toISOString()}`);
  console.log(`command: ${command}`);
  console.log(`${machine.length} x ${machine[0]?.model ?? 'unknown CPU'}, ${MB(totalmem())} RAM; node ${process.version}; ${version('redis-server', '--version')}; ${version('memcached', '-V')}`);
  console.log(
    `load per cache: ${RATE} ops/s paced over ${WORKERS} workers (at most ${WORKERS} in flight, at most ${MAX_OPS} ops), ` +
      `mix ${OPS.map((op) => `${op} ${MIX[op] * 100}%`).join(', ')}; mget of ${MGET_KEYS} keys; ${KEYS} keys, ${HOT_SHARE * 100}% of picks on ${HOT_KEYS} hot keys; TTL ${TTL_SECONDS} s`,
  );
  const d = DEFAULTS;
  console.log(
    `options: defaults (getMs ${d.timeouts.getMs}, setMs ${d.timeouts.setMs}, batchMs ${d.timeouts.batchMs}, getRetries ${d.timeouts.getRetries}, failureLimit ${d.health.failureLimit}, ` +
      `maxEjectedFraction ${MAX_EJECTED_FRACTION}${MAX_EJECTED_FRACTION !== d.health.maxEjectedFraction ? ' (NOT the default)' : ''}, probeTimeoutMs ${d.health.probeTimeoutMs}, failoverTtlSeconds ${d.health.failoverTtlSeconds}, ` +
      `breaker ${d.breaker.errorThresholdPercentage}% over ${d.breaker.rollingCountTimeoutMs} ms, volume ${d.breaker.volumeThreshold}) ` +
      `except retryTimeoutMs ${CACHE_OPTIONS.health.retryTimeoutMs}, maxRetryTimeoutMs ${CACHE_OPTIONS.health.maxRetryTimeoutMs}, breaker resetTimeoutMs ${CACHE_OPTIONS.breaker.resetTimeoutMs}`,
  );
  console.log(`faults: every ${FAULT_EVERY_MS / 1000} s, held ${FAULT_HOLD_MS / 1000} s; warm-up ${WARMUP_MS / 1000} s; memory sampled every ${SAMPLE_EVERY_MS / 1000} s${forceGc ? ' after a full GC' : ' (no --expose-gc: raw heap)'}`);

  const servers: Record<Backend, ServerProcess[]> = {
    redis: await Promise.all(Array.from({ length: NODES }, () => startRedis())),
    memcached: await Promise.all(Array.from({ length: NODES }, () => startMemcached())),
  };
  await sleep(200); // let the harness's own start-up handles settle before the baseline
  const handlesBefore = handleCounts();

  const soaks = {} as Record<Backend, Soak>;
  for (const [i, backend] of (['redis', 'memcached'] as const).entries()) {
    const cache = await createCache({ ...CACHE_OPTIONS, backend, nodes: servers[backend].map((s) => s.address) }, { env: {} });
    const soak = new Soak(backend, cache, servers[backend], 0x5eed + i);
    soaks[backend] = soak;
    cache.events.on('node:ejected', ({ node }) => note(backend, 'ejected', node));
    cache.events.on('node:ejection-refused', ({ node, ejectedNodes }) => note(backend, 'ejection-refused', node, `(${ejectedNodes} out)`));
    cache.events.on('node:readmitted', ({ node, outMs, invalidatedKeys, flushed }) => note(backend, 'readmitted', node, `after ${(outMs / 1000).toFixed(1)} s out, ${invalidatedKeys} keys invalidated${flushed ? ', flushed' : ''}`));
    cache.events.on('node:probe-failed', ({ node, attempt, nextProbeMs, error }) => note(backend, 'probe-failed', node, `#${attempt} (${(error as Error)?.message ?? String(error)}), next in ${nextProbeMs} ms`));
    cache.events.on('breaker:open', ({ node }) => note(backend, 'breaker-open', node));
    cache.events.on('breaker:half-open', ({ node }) => note(backend, 'breaker-half-open', node));
    cache.events.on('breaker:closed', ({ node }) => note(backend, 'breaker-closed', node));
    // Diagnostics only (internals, behaviour unchanged): when a node's connection is replaced.
    for (const node of nodesOf(cache) ?? []) {
      const reset = node.backend.reset.bind(node.backend);
      node.backend.reset = () => {
        note(backend, 'connection-replaced', node.address, `(${node.state}, ${node.consecutiveFailures} consecutive failures)`);
        reset();
      };
    }
  }
  const all = [soaks.redis, soaks.memcached];
  loadStartMs = performance.now();
  await Promise.all(all.map((soak) => soak.seed()));
  console.log(`seeded ${KEYS} keys per cache in ${(sinceLoad() / 1000).toFixed(1)} s`);

  // The load: everything below is bounded by END (and MAX_OPS), faults stop 13 s before it.
  loadStartMs = performance.now();
  const cpuBefore = process.cpuUsage();
  const endMs = loadStartMs + DURATION_MS;
  const eldAll = monitorEventLoopDelay({ resolution: ELD_RESOLUTION_MS });
  const eldSteady = monitorEventLoopDelay({ resolution: ELD_RESOLUTION_MS });
  eldAll.enable();
  const samples: MemorySample[] = [];
  const sampler = setInterval(() => samples.push(sampleMemory(all)), SAMPLE_EVERY_MS);
  const watchdog = setInterval(() => {
    for (const soak of all) {
      soak.watch();
      soak.model.sweep();
    }
  }, 1_000);
  // Stalls of this process (GC, a starved CPU, the harness's synchronous wait for a SIGSTOP to take hold):
  // any gap over 100 ms between 50 ms ticks, with when it ended (the first 50 kept).
  const stalls: { atMs: number; gapMs: number }[] = [];
  let stallsSeen = 0;
  let lastTick = performance.now();
  const stallWatch = setInterval(() => {
    const now = performance.now();
    if (now - lastTick > 150) {
      stallsSeen++;
      if (stalls.length < 50) stalls.push({ atMs: sinceLoad(), gapMs: now - lastTick - 50 });
    }
    lastTick = now;
  }, 50);
  const steady = setTimeout(() => eldSteady.enable(), WARMUP_MS);
  const progress = setInterval(() => {
    const line = all.map((s) => `${s.backend} ${s.totalOps} ops, ${s.wrongCount} wrong`).join('; ');
    console.log(`  ${(sinceLoad() / 1000).toFixed(0)} s: ${line}; ${faultAt(sinceLoad())}`);
  }, 60_000);
  const faulting = injectFaults(soaks, endMs);
  const workers = all.flatMap((soak) =>
    Array.from({ length: WORKERS }, () => {
      const lane: Lane = { startedMs: 0, op: 'get', escape: () => {} };
      soak.lanes.push(lane);
      return soak.worker(lane, endMs);
    }),
  );
  await Promise.all(workers);
  const loadMs = sinceLoad();
  const cpu = process.cpuUsage(cpuBefore);
  const loadAverage = loadavg();
  stopping = true;
  clearInterval(progress);
  clearTimeout(steady);
  await faulting;
  eldAll.disable();
  eldSteady.disable();
  clearInterval(sampler);
  const statsAfterLoad = Object.fromEntries(all.map((s) => [s.backend, s.cache.stats()])) as Record<Backend, ReturnType<ShardedCache['stats']>>;

  // Every node back on the ring (bounded), then a final pass over every key.
  const settleUntil = performance.now() + SETTLE_LIMIT_MS;
  const allUp = () => all.every((s) => s.cache.stats().nodes.every((n) => n.state === 'up'));
  while (!allUp() && performance.now() < settleUntil) await sleep(200);
  const settledUp = allUp();
  const notUp = all.flatMap((s) =>
    s.cache
      .stats()
      .nodes.filter((n) => n.state !== 'up')
      .map((n) => {
        const history = timeline.filter((e) => e.backend === s.backend && e.node === n.address).slice(-12);
        return `${s.backend} ${n.address}: ${n.state}, breaker ${n.breaker}, ${n.consecutiveFailures} consecutive failures; its last events: ${history.map((e) => `${ms(e.ms)} ${e.event}${e.detail ? ` ${e.detail}` : ''}`).join('; ')}`;
      }),
  );
  for (const soak of all) await soak.finalPass();
  clearInterval(watchdog);
  clearInterval(stallWatch);

  for (const soak of all) await withTimeout(soak.cache.close(), 10_000, `close() of ${soak.backend}`);
  // Sockets release their handles a few ticks after destroy(): wait (bounded) as test/harness/handles.ts does.
  let handlesAfter = handleCounts();
  for (let tick = 0; tick < 100; tick++) {
    if ((handlesAfter.TCPSocketWrap ?? 0) <= (handlesBefore.TCPSocketWrap ?? 0) && (handlesAfter.Timeout ?? 0) <= (handlesBefore.Timeout ?? 0)) break;
    await sleep(20);
    handlesAfter = handleCounts();
  }
  await stopAll();

  // -------------------------------------------------------------------------
  // Report
  const seconds = loadMs / 1000;
  console.log(`\n## load (${seconds.toFixed(0)} s)\n`);
  console.log(
    table(
      ['backend', 'ops/s', ...OPS.map((op) => `${op}/s`), 'key reads (hit/miss/failed)', 'wrong', 'rejected reads', 'stuck ops', 'writes in doubt', 'loader calls'],
      all.map((s) => {
        const st = statsAfterLoad[s.backend];
        const count = (op: Op) => s.ops.get(op)!.count;
        const reads = (['get', 'mget', 'getOrLoad'] as const).reduce((n, op) => n + s.ops.get(op)!.failed, 0);
        const stuck = OPS.reduce((n, op) => n + s.ops.get(op)!.stuck, 0);
        const doubt = s.ops.get('set')!.failed + s.ops.get('del')!.failed;
        return [
          s.backend,
          (OPS.reduce((n, op) => n + count(op), 0) / seconds).toFixed(0),
          ...OPS.map((op) => (count(op) / seconds).toFixed(0)),
          `${st.reads.hits} / ${st.reads.misses} / ${st.reads.failures}`,
          String(s.wrongCount - s.finalWrong),
          String(reads),
          String(stuck),
          String(doubt),
          String(s.loaderCalls),
        ];
      }),
    ),
  );
  console.log('\nLatency by operation (ms, whole run, faults included):\n');
  console.log(
    table(
      ['backend', 'op', 'count', 'p50', 'p99', 'p99.9', 'max', 'failed'],
      all.flatMap((s) =>
        OPS.map((op) => {
          const o = s.ops.get(op)!;
          const at = (p: number) => (o.count ? (o.latencyUs.percentile(p) / 1000).toFixed(2) : '');
          return [s.backend, op, String(o.count), at(50), at(99), at(99.9), o.count ? (o.latencyUs.max / 1000).toFixed(1) : '', String(o.failed)];
        }),
      ),
    ),
  );
  console.log(
    `\ngetOrLoad answers older than the call (it joined a call of the same key in flight, whose shared read is judged from that call's start): ${all.map((s) => `${s.backend} ${s.coalescedOlder}`).join(', ')}`,
  );
  const errorList = all.flatMap((s) => [...s.writeErrors].map(([code, n]) => `${s.backend} ${code} x${n}`));
  if (errorList.length) console.log(`\nwrites in doubt by error: ${errorList.join(', ')}`);

  console.log(`\n## faults\n`);
  console.log(
    table(
      ['#', 'at', 'backend', 'node', 'fault', 'took', 'back at', 'ejected after', 'readmitted after recovery', 'invalidated keys', 'probe failures'],
      faults.map((f) => {
        const next = faults.find((g) => g.index === f.index + 1)?.atMs ?? Number.POSITIVE_INFINITY;
        const events = timeline.filter((e) => e.backend === f.backend && e.node === f.address && e.ms >= f.atMs && e.ms < next);
        const ejected = events.find((e) => e.event === 'ejected');
        const readmitted = events.find((e) => e.event === 'readmitted' && e.ms >= (f.recoveredMs ?? 0));
        return [
          String(f.index),
          `${(f.atMs / 1000).toFixed(0)} s`,
          f.backend,
          `${f.nodeIndex} (${f.address})`,
          f.kind + (f.error ? ` (error: ${f.error})` : ''),
          `${f.applyMs.toFixed(0)} ms`,
          f.recoveredMs === undefined ? '' : `${(f.recoveredMs / 1000).toFixed(1)} s`,
          ejected ? `${(ejected.ms - f.atMs).toFixed(0)} ms` : f.stateBefore === 'up' ? 'not ejected' : `already ${f.stateBefore}`,
          readmitted ? `${((readmitted.ms - f.recoveredMs!) / 1000).toFixed(1)} s` : 'not readmitted',
          readmitted ? (/(\d+) keys invalidated/.exec(readmitted.detail)?.[1] ?? '') + (readmitted.detail.includes('flushed') ? ' (flushed)' : '') : '',
          String(events.filter((e) => e.event === 'probe-failed').length),
        ];
      }),
    ),
  );
  const faulted = new Set(faults.map((f) => `${f.backend} ${f.address}`));
  const collateral = timeline.filter((e) => e.event === 'ejected' && !faulted.has(`${e.backend} ${e.node}`));
  const faultedEjections = timeline.filter((e) => e.event === 'ejected');
  const healthyEjections = faultedEjections.filter((e) => {
    const f = faults.find((g) => g.backend === e.backend && g.address === e.node && g.atMs <= e.ms && e.ms <= (g.recoveredMs ?? Number.POSITIVE_INFINITY) + 2_000);
    return !f;
  });
  const count = (event: string) => (NOISY.has(event) ? all.reduce((n, s) => n + (noisyCounts.get(`${s.backend} ${event}`) ?? 0), 0) : timeline.filter((e) => e.event === event).length);
  console.log(
    `\nevents: ${count('ejected')} ejections (${healthyEjections.length} of a node not under fault${collateral.length ? `, ${collateral.length} of a node never faulted` : ''}), ` +
      `${count('readmitted')} readmissions, ${count('probe-failed')} failed probes, ${count('ejection-refused')} ejections refused, ` +
      `${count('breaker-open')} breaker openings, ${all.map((s) => `${noisyCounts.get(`${s.backend} connection-replaced`) ?? 0} ${s.backend}`).join(' and ')} connection replacements; nodes all back on the ring before the final pass: ${settledUp ? 'yes' : 'NO'}`,
  );
  if (notUp.length) console.log(`nodes still out ${SETTLE_LIMIT_MS / 1000} s after the load:\n${notUp.map((line) => `- ${line}`).join('\n')}`);
  if (healthyEjections.length) console.log(`ejections of nodes not under fault: ${healthyEjections.slice(0, 8).map((e) => `${ms(e.ms)} ${e.backend} ${e.node}`).join('; ')}`);

  console.log(`\n## final pass over every key (nodes back, load stopped)\n`);
  console.log(all.map((s) => `${s.backend}: ${s.finalHits} hits, ${s.finalMisses} misses, ${s.finalWrong} wrong`).join('; '));

  const steadySamples = samples.filter((s) => s.ms >= WARMUP_MS);
  const rss = steadySamples.length >= 2 ? spread(steadySamples.map((s) => s.rss)) : undefined;
  const heap = steadySamples.length >= 2 ? spread(steadySamples.map((s) => s.heapUsed)) : undefined;
  const heapRaw = steadySamples.length >= 2 ? spread(steadySamples.map((s) => s.heapRaw)) : undefined;
  const records = steadySamples.length >= 2 ? spread(steadySamples.map((s) => s.modelRecords)) : undefined;
  const heapTotal = steadySamples.length >= 2 ? spread(steadySamples.map((s) => s.heapTotal)) : undefined;
  const external = steadySamples.length >= 2 ? spread(steadySamples.map((s) => s.external)) : undefined;
  console.log(`\n## resources\n`);
  const row = (name: string, s: ReturnType<typeof spread> | undefined, target: string, fmt = MB) =>
    s ? [name, fmt(s.min), fmt(s.max), fmt(s.mean), pct(s.spreadPct), target, target ? (s.spreadPct <= 10 ? 'met' : 'MISSED') : ''] : [name, 'n/a', '', '', '', target, 'not measured'];
  console.log(
    table(
      ['after warm-up', 'min', 'max', 'mean', 'spread (max-min)/mean', 'target', ''],
      [
        row(`RSS (${steadySamples.length} samples)`, rss, '<= 10%'),
        row(`heap used${forceGc ? ', after full GC' : ''}`, heap, '<= 10%'),
        row('heap used before that GC (sawtooth)', heapRaw, ''),
        row('heap total (V8 reserved)', heapTotal, ''),
        row('external (Buffers, typed arrays)', external, ''),
        row('model records (the soak itself, in fixed typed arrays)', records, '', (n) => n.toFixed(0)),
      ],
    ),
  );
  const first = samples[0];
  if (first) console.log(`first sample (${ms(first.ms)}): RSS ${MB(first.rss)}, heap ${MB(first.heapUsed)}; last: RSS ${MB(samples.at(-1)!.rss)}, heap ${MB(samples.at(-1)!.heapUsed)}`);
  console.log(
    `soak process CPU during the load: ${(((cpu.user + cpu.system) / 1e3 / loadMs) * 100).toFixed(0)}% of one core; machine load average at the end of the load ${loadAverage.map((n) => n.toFixed(2)).join(' / ')} (1 / 5 / 15 min) on ${machine.length} CPUs`,
  );
  console.log(
    `stalls of the soak process over 100 ms: ${stallsSeen}${stalls.length ? ` (${stalls
      .slice(0, 12)
      .map((st) => `${(st.gapMs).toFixed(0)} ms at ${ms(st.atMs)}`)
      .join(', ')}${stallsSeen > 12 ? ', ...' : ''})` : ''}`,
  );
  console.log(`event-loop delay (beyond the ${ELD_RESOLUTION_MS} ms sampling timer): whole run p50 ${eldMs(eldAll, 50)} ms, p99 ${eldMs(eldAll, 99)} ms, max ${eldMs(eldAll)} ms; after warm-up p99 ${eldMs(eldSteady, 99)} ms, max ${eldMs(eldSteady)} ms`);
  const types = [...new Set([...Object.keys(handlesBefore), ...Object.keys(handlesAfter)])].sort();
  const listHandles = (counts: Record<string, number>) => types.map((t) => `${t} ${counts[t] ?? 0}`).join(', ') || 'none';
  console.log(`active handles and requests (process.getActiveResourcesInfo) before the caches: ${listHandles(handlesBefore)}; after close(): ${listHandles(handlesAfter)}`);

  const wrong = all.flatMap((s) => s.wrong);
  if (wrong.length) {
    console.log(`\n## wrong values (first ${wrong.length})\n`);
    console.log(all.map((s) => `${s.backend}: ${s.wrongCount} wrong (${[...s.wrongByDiagnosis].map(([c, n]) => `${c}: ${n}`).join(', ') || 'none'}; ${s.finalWrong} of them in the final pass)`).join('\n') + '\n');
    for (const w of wrong) {
      console.log(`- ${w.backend} ${w.op} ${w.key} read ${w.value} (${w.reason}); read ${ms(w.startMs)}..${ms(w.endMs)}, owner now ${w.ownerNow}; fault at read start: ${w.faultAtStart}`);
      console.log(`    value's write: ${w.write}`);
      console.log(`    acceptable at read start: ${w.acceptable.join(' | ') || '(only a miss)'}`);
      if (w.issuedDuringRead.length) console.log(`    issued since: ${w.issuedDuringRead.join(' | ')}`);
      console.log(`    events: ${w.recentEvents.join('; ') || '(none)'}`);
      if (w.diagnosis) console.log(`    diagnosis: ${w.diagnosis}`);
    }
  }
  const rejected = all.flatMap((s) => s.rejectedExamples);
  if (rejected.length) console.log(`\nrejected reads (first ${rejected.length}):\n${rejected.map((r) => `- ${r}`).join('\n')}`);
  if (unhandledExamples.length) console.log(`\nunhandled rejections (first ${unhandledExamples.length}):\n${unhandledExamples.map((r) => `- ${r}`).join('\n')}`);

  // -------------------------------------------------------------------------
  // Targets
  const totalWrong = all.reduce((n, s) => n + s.wrongCount, 0);
  const rejectedReads = all.reduce((n, s) => n + (['get', 'mget', 'getOrLoad'] as const).reduce((m, op) => m + s.ops.get(op)!.failed, 0), 0);
  const stuckReads = all.reduce((n, s) => n + (['get', 'mget', 'getOrLoad'] as const).reduce((m, op) => m + s.ops.get(op)!.stuck, 0), 0);
  const missed: string[] = [];
  if (totalWrong > 0) missed.push(`${totalWrong} wrong values (target 0)`);
  if (rejectedReads > 0) missed.push(`${rejectedReads} rejected reads (target 0)`);
  if (stuckReads > 0) missed.push(`${stuckReads} reads unsettled after ${OP_LIMIT_MS / 1000} s`);
  if (unhandled > 0) missed.push(`${unhandled} unhandled rejections (target 0)`);
  if (!rss || rss.spreadPct > 10) missed.push(rss ? `RSS spread ${pct(rss.spreadPct)} after warm-up (target <= 10%)` : 'RSS not measured (run too short)');
  if (!heap || heap.spreadPct > 10) missed.push(heap ? `heap spread ${pct(heap.spreadPct)} after warm-up (target <= 10%)` : 'heap not measured (run too short)');
  for (const type of ['TCPSocketWrap', 'Timeout']) {
    if ((handlesAfter[type] ?? 0) > (handlesBefore[type] ?? 0)) missed.push(`${type} ${handlesAfter[type]} after close(), ${handlesBefore[type] ?? 0} before the caches`);
  }
  if (!settledUp) missed.push(`a node was not back on the ring ${SETTLE_LIMIT_MS / 1000} s after the load`);
  const unavailableFaults = faults.filter((f) => f.error);
  if (unavailableFaults.length) missed.push(`${unavailableFaults.length} faults could not be applied or recovered`);

  const leaked = ['TCPSocketWrap', 'Timeout'].filter((type) => (handlesAfter[type] ?? 0) > (handlesBefore[type] ?? 0));
  const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');
  console.log(`\n## targets\n`);
  console.log(
    table(
      ['target', 'result', ''],
      [
        ['wrong values: 0', `${totalWrong} (${all.map((s) => `${s.backend} ${s.wrongCount}`).join(', ')}; final pass included)`, verdict(totalWrong === 0)],
        ['rejected reads: 0', `${rejectedReads}${stuckReads ? `, and ${stuckReads} reads unsettled after ${OP_LIMIT_MS / 1000} s` : ''}`, verdict(rejectedReads === 0 && stuckReads === 0)],
        ['unhandled rejections: 0', String(unhandled), verdict(unhandled === 0)],
        ['RSS after warm-up flat within 10%', rss ? pct(rss.spreadPct) : 'not measured', verdict(!!rss && rss.spreadPct <= 10)],
        ['heap after warm-up flat within 10%', heap ? pct(heap.spreadPct) : 'not measured', verdict(!!heap && heap.spreadPct <= 10)],
        ['event-loop delay p99: reported', `${eldMs(eldSteady, 99)} ms after warm-up (${eldMs(eldAll, 99)} ms whole run)`, ''],
        ['handles and timers back to the baseline after close()', `sockets ${handlesAfter.TCPSocketWrap ?? 0} (before ${handlesBefore.TCPSocketWrap ?? 0}), timers ${handlesAfter.Timeout ?? 0} (before ${handlesBefore.Timeout ?? 0})`, verdict(leaked.length === 0)],
        ['every node back on the ring after the load', settledUp ? 'yes' : 'NO', verdict(settledUp)],
      ],
    ),
  );

  writeJson(ARGS.json, 'soak', {
    minutes: MINUTES,
    rate: RATE,
    command,
    perBackend: all.map((s) => ({
      backend: s.backend,
      ops: Object.fromEntries(OPS.map((op) => [op, { count: s.ops.get(op)!.count, failed: s.ops.get(op)!.failed, stuck: s.ops.get(op)!.stuck, p99Ms: s.ops.get(op)!.latencyUs.percentile(99) / 1000 }])),
      reads: statsAfterLoad[s.backend].reads,
      wrong: s.wrongCount,
      finalWrong: s.finalWrong,
      loaderCalls: s.loaderCalls,
    })),
    faults,
    memory: { rss, heap, heapRaw, samples },
    eventLoopDelayMs: { p99: Number(eldMs(eldAll, 99)), steadyP99: Number(eldMs(eldSteady, 99)), max: Number(eldMs(eldAll)) },
    handlesBefore,
    handlesAfter,
    stalls,
    notUp,
    timeline,
    unhandled,
    wrong,
    missed,
  });
  printVerdict(missed, startedMs);
  if (missed.length > 0) process.exitCode = 1;
}

function version(command: string, flag: string): string {
  const result = spawnSync(command, [flag], { encoding: 'utf8', timeout: 5_000 });
  if (result.error) return `${command}: not found`;
  return `${result.stdout}${result.stderr}`.trim().split('\n')[0]!;
}

main()
  .catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(() => stopAll().catch(() => {}));
