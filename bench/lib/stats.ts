/** Percentiles over recorded samples, bootstrap intervals, and a fixed-width table. */
import { seededRandom } from './seeded-random.js';

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
 * Percentile bootstrap interval (Efron) of a ratio of medians over paired
 * repeats: repeat i measured `subject[i]` and `peer[i]` back to back, so a
 * resample draws repeat indexes with replacement and keeps each pair
 * together; each resample gives median(subject) / median(peer), and the
 * interval is the middle `confidence` of those. Seeded, so the same repeats
 * always give the same interval. One repeat gives its own ratio: a single
 * pair says nothing about the spread.
 */
export function bootstrapRatio(subject: readonly number[], peer: readonly number[], { resamples = RESAMPLES, confidence = CONFIDENCE, seed = 1 } = {}): Interval | undefined {
  const pairs = subject.flatMap((s, i) => (Number.isFinite(s) && Number.isFinite(peer[i]) && peer[i]! > 0 ? [[s, peer[i]!] as const] : []));
  if (pairs.length === 0) return undefined;
  const random = seededRandom(seed);
  const a = new Float64Array(pairs.length);
  const b = new Float64Array(pairs.length);
  const ratios = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < pairs.length; i++) {
      const [s, p] = pairs[Math.floor(random() * pairs.length)]!;
      a[i] = s;
      b[i] = p;
    }
    ratios[r] = medianOf(a.sort()) / medianOf(b.sort());
  }
  ratios.sort();
  const tail = (1 - confidence) / 2;
  return { low: ratios[Math.floor(tail * (resamples - 1))]!, high: ratios[Math.ceil((1 - tail) * (resamples - 1))]! };
}

function medianOf(sorted: Float64Array): number {
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

