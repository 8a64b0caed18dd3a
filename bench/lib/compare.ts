/**
 * Side-by-side measurement: contenders run interleaved (A B C, B C A, ...)
 * so drift (thermal, GC debt, a noisy neighbour) hits everyone alike; each
 * repeat gives one number per contender; the report shows medians over
 * repeats and shardcache's ratio against every peer.
 *
 * Conventions used by every speed benchmark:
 * - the measured quantity is a rate (operations per second, higher is
 *   better); tables also show the time per operation;
 * - ratio = shardcache's median rate / the peer's median rate, so > 1 means
 *   shardcache is faster, < 1 slower;
 * - "paired range" is the min..max over repeats of the ratio within one
 *   repeat (both measured back to back), a cheap read on the noise;
 * - "95% CI" is a bootstrap interval of the ratio, resampling whole
 *   repeats (each keeps its pair of rates; stats.ts): where the ratio would
 *   land on rerunning, and what `npm run bench -- --compare` checks against
 *   the recorded baseline;
 * - a target is a minimum ratio against one peer.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname } from 'node:path';
import { bootstrapRatio, type Interval, table } from './stats.js';
import { SUT_ORIGIN } from './sut.js';

export interface BenchArgs {
  readonly quick: boolean;
  /** Where to write the results as JSON, if asked (`--json` alone: bench/results/<name>.json). */
  readonly json: string | undefined;
}

export function parseArgs(name: string, argv: readonly string[] = process.argv.slice(2)): BenchArgs {
  const quick = argv.includes('--quick');
  let json: string | undefined;
  for (const arg of argv) {
    if (arg === '--json') json = new URL(`../results/${name}.json`, import.meta.url).pathname;
    else if (arg.startsWith('--json=')) json = arg.slice('--json='.length);
  }
  return { quick, json };
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Rejects if `promise` has not settled within `ms`; the timer is always cleared. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export interface Repeats {
  /** Repeats wanted. */
  readonly count: number;
  /** No new repeat starts after this much time (the ones done are reported). */
  readonly budgetMs: number;
}

/**
 * Runs `measure(name, repeat)` for each contender, `count` times over,
 * stopping early once `budgetMs` is spent (at least one full repeat always
 * runs). The order rotates by one each repeat (A B C, B C A, C A B, ...) so
 * no contender always follows the same one (and its garbage, its timers).
 * Returns each contender's rates, aligned by repeat.
 */
export async function interleave(names: readonly string[], repeats: Repeats, measure: (name: string, repeat: number) => Promise<number> | number): Promise<Map<string, number[]>> {
  const rates = new Map(names.map((name) => [name, [] as number[]]));
  const until = performance.now() + repeats.budgetMs;
  for (let repeat = 0; repeat < repeats.count; repeat++) {
    if (repeat > 0 && performance.now() > until) break;
    for (let i = 0; i < names.length; i++) {
      const name = names[(i + repeat) % names.length]!;
      rates.get(name)!.push(await measure(name, repeat));
    }
  }
  return rates;
}

export interface ContenderResult {
  readonly name: string;
  /** Operations per second, one per repeat. */
  readonly rates: readonly number[];
  /** Reads that came back empty while timed (a broken or overloaded client must not look fast). */
  readonly misses?: number;
  readonly note?: string;
}

export interface Comparison {
  readonly title: string;
  /** Names the operation in column headers: "GET", "lookup", "mget". */
  readonly operation: string;
  /** shardcache's row. */
  readonly subject: string;
  readonly contenders: readonly ContenderResult[];
  /** Minimum ratio per peer name. */
  readonly targets?: Readonly<Record<string, number>>;
  /** How the per-operation time is shown. */
  readonly timeUnit: 'ns' | 'us';
}

export interface ComparisonRow {
  readonly name: string;
  readonly medianRate: number;
  readonly timePerOp: number;
  readonly repeats: number;
  readonly misses: number | undefined;
  readonly ratio: number | undefined;
  readonly pairedMin: number | undefined;
  readonly pairedMax: number | undefined;
  /** Bootstrap 95% interval of `ratio`, resampling whole repeats. */
  readonly interval: Interval | undefined;
  readonly target: number | undefined;
  readonly met: boolean | undefined;
  /** The ratio cannot be trusted: shardcache or this peer returned misses for seeded keys while timed. */
  readonly void: boolean;
  readonly note: string | undefined;
}

export interface ComparisonResult {
  readonly title: string;
  readonly operation: string;
  readonly timeUnit: 'ns' | 'us';
  readonly subject: string;
  readonly rows: ComparisonRow[];
}

export function compare(comparison: Comparison): ComparisonResult {
  const subject = comparison.contenders.find((c) => c.name === comparison.subject);
  if (!subject) throw new Error(`no contender named ${comparison.subject}`);
  const subjectRate = median(subject.rates);
  const subjectMissed = (subject.misses ?? 0) > 0;
  const perOp = (rate: number) => (comparison.timeUnit === 'ns' ? 1e9 : 1e6) / rate;
  const rows = comparison.contenders.map((c): ComparisonRow => {
    const rate = median(c.rates);
    const isSubject = c === subject;
    const paired = isSubject ? [] : c.rates.map((r, i) => subject.rates[i]! / r).filter(Number.isFinite);
    const ratio = isSubject ? undefined : subjectRate / rate;
    const target = comparison.targets?.[c.name];
    const unreliable = !isSubject && (subjectMissed || (c.misses ?? 0) > 0);
    return {
      name: c.name,
      medianRate: rate,
      timePerOp: perOp(rate),
      repeats: c.rates.length,
      misses: c.misses,
      ratio,
      pairedMin: paired.length ? Math.min(...paired) : undefined,
      pairedMax: paired.length ? Math.max(...paired) : undefined,
      interval: isSubject ? undefined : bootstrapRatio(subject.rates, c.rates),
      target,
      met: target === undefined || ratio === undefined ? undefined : ratio >= target && !unreliable,
      void: unreliable,
      note: c.note,
    };
  });
  return { title: comparison.title, operation: comparison.operation, timeUnit: comparison.timeUnit, subject: comparison.subject, rows };
}

export function formatRate(rate: number): string {
  if (!Number.isFinite(rate)) return String(rate);
  if (rate >= 1e6) return `${(rate / 1e6).toFixed(2)} M`;
  if (rate >= 1e3) return `${(rate / 1e3).toFixed(1)} k`;
  return rate.toFixed(0);
}

function formatTime(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  return value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2);
}

export function formatRatio(ratio: number | undefined): string {
  if (ratio === undefined || !Number.isFinite(ratio)) return '';
  return `${ratio >= 10 ? ratio.toFixed(1) : ratio.toFixed(2)}x`;
}

export function formatInterval(interval: Interval | undefined): string {
  return interval === undefined ? '' : `${formatRatio(interval.low)}–${formatRatio(interval.high)}`;
}

/** The result as a markdown table (also readable in a terminal). */
export function render(result: ComparisonResult): string {
  const showMisses = result.rows.some((row) => row.misses !== undefined);
  const showNotes = result.rows.some((row) => row.note !== undefined);
  const headers = [
    'client',
    `${result.operation}/s`,
    `${result.timeUnit === 'ns' ? 'ns' : 'µs'}/${result.operation}`,
    ...(showMisses ? ['misses'] : []),
    `ratio`,
    'paired range',
    '95% CI',
    'target',
    '',
    ...(showNotes ? ['note'] : []),
  ];
  const rows = result.rows.map((row) => [
    row.name === result.subject ? `**${row.name}**` : row.name,
    formatRate(row.medianRate),
    formatTime(row.timePerOp),
    ...(showMisses ? [String(row.misses ?? '')] : []),
    row.ratio === undefined ? '' : formatRatio(row.ratio),
    row.pairedMin === undefined ? '' : `${formatRatio(row.pairedMin)}–${formatRatio(row.pairedMax)}`,
    formatInterval(row.interval),
    row.target === undefined ? '' : `≥ ${row.target.toFixed(2)}x`,
    row.void ? 'VOID (misses)' : row.met === undefined ? '' : row.met ? 'met' : 'MISSED',
    ...(showNotes ? [row.note ?? ''] : []),
  ]);
  return table(headers, rows);
}

export const RATIO_LEGEND =
  'ratio = shardcache rate / peer rate (> 1: shardcache faster); paired range = min–max of the per-repeat ratios; 95% CI = bootstrap interval of the ratio over the paired repeats; medians over repeats; ' +
  'misses = seeded keys read back empty while timed (VOID: a contender that answers misses is not comparable, the target counts as missed)';

export function missedTargets(results: readonly ComparisonResult[]): string[] {
  return results.flatMap((result) =>
    result.rows
      .filter((row) => row.met === false)
      .map((row) => `${result.title}: ${formatRatio(row.ratio)} vs ${row.name} (target ≥ ${row.target!.toFixed(2)}x${row.void ? '; void: misses while timed' : ''})`),
  );
}

export function writeJson(path: string | undefined, name: string, payload: unknown): void {
  if (path === undefined) return;
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify({ benchmark: name, node: process.version, date: new Date().toISOString(), ...(payload as object) }, null, 2)}\n`);
  console.log(`results written to ${path}`);
}

/** One line naming the environment, printed under every benchmark. */
/** The closing lines every benchmark prints: which targets were missed, then where and how long it ran. */
export function printVerdict(missed: readonly string[], startedMs: number): void {
  console.log(`targets: ${missed.length === 0 ? 'all met' : `MISSED: ${missed.join('; ')}`}`);
  console.log(`${environment()}; ${((performance.now() - startedMs) / 1000).toFixed(1)} s`);
}

export function environment(): string {
  return `shardcache from ${SUT_ORIGIN}; node ${process.version}, ${process.platform} ${process.arch}, load average now ${loadavg()[0]!.toFixed(2)}`;
}
