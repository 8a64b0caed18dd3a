/** Percentiles over recorded samples, bootstrap intervals, and a fixed-width table. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export function summarize(samples: readonly number[]): { count: number; p50: number; p99: number; max: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  return { count: sorted.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.at(-1) ?? Number.NaN };
}

export function table(headers: string[], rows: (string | number)[][]): string {
  const cells = [headers, ...rows.map((row) => row.map((cell) => (typeof cell === 'number' ? format(cell) : cell)))];
  const widths = headers.map((_, i) => Math.max(...cells.map((row) => String(row[i]).length)));
  const line = (row: (string | number)[]) => `| ${row.map((cell, i) => String(cell).padEnd(widths[i]!)).join(' | ')} |`;
  return [line(cells[0]!), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...cells.slice(1).map(line)].join('\n');
}

function format(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  return value >= 100 ? value.toFixed(0) : value.toFixed(2);
}

export interface Interval {
  readonly low: number;
  readonly high: number;
}

/** Confidence level of every interval the benchmarks print. */
export const CONFIDENCE = 0.95;
const RESAMPLES = 2_000;

/**
 * Percentile bootstrap interval of the median of `values` (Efron): resample
 * the values with replacement `resamples` times, take each resample's
 * median, and report the middle `confidence` of those medians. Seeded, so a
 * given set of values always gives the same interval. With one value the
 * interval is that value: a single repeat says nothing about the spread.
 */
export function bootstrapMedian(values: readonly number[], { resamples = RESAMPLES, confidence = CONFIDENCE, seed = 1 } = {}): Interval | undefined {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return undefined;
  const random = mulberry32(seed);
  const sample = new Float64Array(finite.length);
  const medians = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < finite.length; i++) sample[i] = finite[Math.floor(random() * finite.length)]!;
    medians[r] = medianOf(sample.sort());
  }
  medians.sort();
  const tail = (1 - confidence) / 2;
  return { low: medians[Math.floor(tail * (resamples - 1))]!, high: medians[Math.ceil((1 - tail) * (resamples - 1))]! };
}

function medianOf(sorted: Float64Array): number {
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** A small seeded generator (mulberry32): reproducible resamples, no dependency. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
