/**
 * Turns what the end-to-end run recorded (every response, counter samples,
 * phase bounds) into the per-phase table, the per-second timeline and the
 * database spike after a fault. Pure: no I/O.
 */
import type { TimelineSample } from '../../src/tools/timeline-chart.js';
import type { Recorder } from './e2e-load.js';
import { summarize } from './stats.js';

/** Cumulative counters read at one moment (ms on the run's clock). */
export interface CounterSample {
  readonly ms: number;
  /** Statements on the products table, as PostgreSQL counted them (pg_stat_statements). */
  readonly dbCalls: number;
  /** The cached service's `cache.stats().reads`; undefined when it could not be read. */
  readonly reads?: { readonly hits: number; readonly misses: number; readonly failures: number };
  /** Stale versions found so far (the ledger's count). */
  readonly stale: number;
}

export interface PhaseWindow {
  readonly name: string;
  readonly usesCache: boolean;
  readonly start: CounterSample;
  readonly end: CounterSample;
}

export interface PhaseRow {
  readonly name: string;
  readonly seconds: number;
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly httpErrors: number;
  readonly dbQueriesPerSecond: number;
  /** NaN without a cache. */
  readonly hitRate: number;
  /** Key reads answered as misses because a node failed (deadline, refused, breaker open). */
  readonly cacheReadFailures: number;
  readonly stale: number;
}

/** Index of the first entry of the ascending `values` that is >= `target`. */
function lowerBound(values: readonly number[], target: number): number {
  let [low, high] = [0, values.length];
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (values[mid]! < target) low = mid + 1;
    else high = mid;
  }
  return low;
}

function window(recorder: Recorder, fromMs: number, toMs: number): { latencies: number[]; failed: number } {
  const [first, last] = [lowerBound(recorder.at, fromMs), lowerBound(recorder.at, toMs)];
  let failed = lowerBound(recorder.errorsAt, toMs) - lowerBound(recorder.errorsAt, fromMs);
  for (let i = first; i < last; i++) if (!recorder.ok[i]) failed++;
  return { latencies: recorder.latencyMs.slice(first, last), failed };
}

function hitRate(start: CounterSample, end: CounterSample): number {
  if (start.reads === undefined || end.reads === undefined) return Number.NaN;
  const hits = end.reads.hits - start.reads.hits;
  const all = hits + end.reads.misses - start.reads.misses + end.reads.failures - start.reads.failures;
  return all > 0 ? hits / all : Number.NaN;
}

export function phaseRow(recorder: Recorder, phase: PhaseWindow): PhaseRow {
  const seconds = (phase.end.ms - phase.start.ms) / 1000;
  const { latencies, failed } = window(recorder, phase.start.ms, phase.end.ms);
  const latency = summarize(latencies);
  return {
    name: phase.name,
    seconds,
    requestsPerSecond: latency.count / seconds,
    p50Ms: latency.p50,
    p99Ms: latency.p99,
    maxMs: latency.max,
    httpErrors: failed,
    dbQueriesPerSecond: (phase.end.dbCalls - phase.start.dbCalls) / seconds,
    hitRate: phase.usesCache ? hitRate(phase.start, phase.end) : Number.NaN,
    cacheReadFailures: (phase.end.reads?.failures ?? 0) - (phase.start.reads?.failures ?? 0),
    stale: phase.end.stale - phase.start.stale,
  };
}

/** A timeline point and the start of the interval it covers (seconds). */
export interface TimelinePoint extends TimelineSample {
  readonly from: number;
}

/** One point per pair of consecutive samples (`cached(ms)`: whether the cached service was under load then). */
export function timeline(recorder: Recorder, samples: readonly CounterSample[], cached: (ms: number) => boolean): TimelinePoint[] {
  const points: TimelinePoint[] = [];
  for (let i = 1; i < samples.length; i++) {
    const [before, after] = [samples[i - 1]!, samples[i]!];
    const seconds = (after.ms - before.ms) / 1000;
    if (seconds <= 0) continue;
    const latency = summarize(window(recorder, before.ms, after.ms).latencies);
    points.push({
      from: before.ms / 1000,
      t: after.ms / 1000,
      p50Ms: latency.p50,
      p99Ms: latency.p99,
      maxMs: latency.max,
      dbQueriesPerSecond: (after.dbCalls - before.dbCalls) / seconds,
      hitRate: cached(after.ms) ? hitRate(before, after) : Number.NaN,
    });
  }
  return points;
}

export interface Spike {
  /** The highest one-second database load after the fault. */
  readonly peakPerSecond: number;
  /** Queries above the baseline's mean, summed over the phase. */
  readonly extraQueries: number;
  /** From the fault to the end of the last second above the baseline's highest second (0: none). */
  readonly seconds: number;
  /** Whether the load was back within the baseline's range by the end of the phase. */
  readonly settled: boolean;
  /** The baseline's mean and highest one-second load (the warm phase). */
  readonly baselineMean: number;
  readonly baselineMax: number;
}

/**
 * The database load after a fault at `faultS` within [faultS, endS], against
 * the points of [baseFromS, baseToS]; only points whose whole interval lies
 * inside count (a second straddling a boundary mixes two regimes).
 */
export function spike(points: readonly TimelinePoint[], base: readonly [number, number], faultS: number, endS: number): Spike {
  const inBase = points.filter((p) => p.from >= base[0] && p.t <= base[1]).map((p) => p.dbQueriesPerSecond);
  const baselineMean = inBase.reduce((sum, q) => sum + q, 0) / Math.max(1, inBase.length);
  const baselineMax = inBase.reduce((max, q) => Math.max(max, q), 0);
  const after = points.filter((p) => p.from >= faultS && p.t <= endS);
  let extraQueries = 0;
  let lastAbove = faultS;
  for (const point of after) {
    extraQueries += Math.max(0, point.dbQueriesPerSecond - baselineMean) * (point.t - point.from);
    if (point.dbQueriesPerSecond > baselineMax) lastAbove = point.t;
  }
  return {
    peakPerSecond: after.reduce((max, p) => Math.max(max, p.dbQueriesPerSecond), 0),
    extraQueries,
    seconds: lastAbove - faultS,
    settled: after.length > 0 && after.at(-1)!.dbQueriesPerSecond <= baselineMax,
    baselineMean,
    baselineMax,
  };
}
