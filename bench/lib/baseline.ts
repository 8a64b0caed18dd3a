/**
 * The recorded ratios (bench/baseline.json, the run BENCHMARKS.md reports)
 * and the check `npm run bench -- --compare` makes against them: a ratio
 * regressed when its whole 95% interval now lies below the recorded one
 * (now.high < recorded.low). Intervals that overlap are noise on this
 * machine, not a finding; run-to-run spread of up to 0.25x is common here.
 *
 * Ratios are read from each benchmark's `--json` output: any object shaped
 * like a ComparisonResult (title, subject, rows), wherever it sits.
 */
export interface RecordedRatio {
  readonly ratio: number;
  readonly low: number;
  readonly high: number;
}

export interface Baseline {
  /** When and how the recorded run was made (BENCHMARKS.md names it). */
  readonly recorded: string;
  readonly quick: boolean;
  /** `benchmark | comparison title | peer` -> the ratio and its interval. */
  readonly ratios: Readonly<Record<string, RecordedRatio>>;
}

export interface Finding {
  readonly key: string;
  readonly recorded: RecordedRatio;
  readonly now: RecordedRatio;
}

export interface Verdict {
  /** Whole interval below the recorded one. */
  readonly regressed: readonly Finding[];
  /** Whole interval above the recorded one. */
  readonly improved: readonly Finding[];
  /** Overlapping intervals. */
  readonly steady: readonly Finding[];
  /** Recorded but not measured now (a benchmark not run, or a peer missing). */
  readonly missing: readonly string[];
  /** Measured now but never recorded. */
  readonly unrecorded: readonly string[];
}

interface RowLike {
  readonly name: string;
  readonly ratio?: number;
  readonly interval?: { readonly low: number; readonly high: number };
}

/** Every ratio with an interval in one benchmark's JSON output, keyed `benchmark | title | peer`. */
export function ratiosOf(benchmark: string, output: unknown): Record<string, RecordedRatio> {
  const found: Record<string, RecordedRatio> = {};
  const visit = (value: unknown, depth: number): void => {
    if (depth > 8 || value === null || typeof value !== 'object') return;
    if (Array.isArray(value)) return value.forEach((item) => visit(item, depth + 1));
    const object = value as Record<string, unknown>;
    if (typeof object['title'] === 'string' && typeof object['subject'] === 'string' && Array.isArray(object['rows'])) {
      for (const row of object['rows'] as RowLike[]) {
        if (typeof row.ratio !== 'number' || row.interval === undefined) continue;
        found[`${benchmark} | ${object['title']} | ${row.name}`] = { ratio: row.ratio, low: row.interval.low, high: row.interval.high };
      }
      return;
    }
    for (const child of Object.values(object)) visit(child, depth + 1);
  };
  visit(output, 0);
  return found;
}

export function compareToBaseline(baseline: Baseline, now: Readonly<Record<string, RecordedRatio>>): Verdict {
  const regressed: Finding[] = [];
  const improved: Finding[] = [];
  const steady: Finding[] = [];
  for (const [key, recorded] of Object.entries(baseline.ratios)) {
    const current = now[key];
    if (current === undefined) continue;
    const finding = { key, recorded, now: current };
    if (current.high < recorded.low) regressed.push(finding);
    else if (current.low > recorded.high) improved.push(finding);
    else steady.push(finding);
  }
  return {
    regressed,
    improved,
    steady,
    missing: Object.keys(baseline.ratios).filter((key) => now[key] === undefined),
    unrecorded: Object.keys(now).filter((key) => baseline.ratios[key] === undefined),
  };
}

export function parseBaseline(text: string): Baseline {
  const parsed = JSON.parse(text) as Partial<Baseline>;
  if (typeof parsed.recorded !== 'string' || typeof parsed.quick !== 'boolean' || parsed.ratios === null || typeof parsed.ratios !== 'object') {
    throw new Error('baseline: expected { recorded: string, quick: boolean, ratios: { ... } }');
  }
  for (const [key, value] of Object.entries(parsed.ratios)) {
    if (![value?.ratio, value?.low, value?.high].every((n) => typeof n === 'number' && Number.isFinite(n)) || value.low > value.high) {
      throw new Error(`baseline: ratio ${JSON.stringify(key)} needs finite ratio, low and high with low <= high`);
    }
  }
  return parsed as Baseline;
}

/** The verdict as lines for the terminal: regressions first, each with both intervals. */
export function describeVerdict(verdict: Verdict, baseline: Baseline, quickNow: boolean): string[] {
  const interval = (r: RecordedRatio) => `${r.ratio.toFixed(2)}x [${r.low.toFixed(2)}–${r.high.toFixed(2)}]`;
  const line = (f: Finding) => `  ${f.key}: now ${interval(f.now)}, recorded ${interval(f.recorded)}`;
  return [
    `compared with bench/baseline.json (${baseline.recorded}${baseline.quick ? ', a quick run' : ''})${baseline.quick === quickNow ? '' : `; note: this run is ${quickNow ? 'quick' : 'full'}, the baseline ${baseline.quick ? 'quick' : 'full'}: intervals differ in width`}`,
    `${verdict.regressed.length} regressed (whole 95% interval below the recorded one), ${verdict.improved.length} improved, ${verdict.steady.length} within noise, ${verdict.missing.length} not measured, ${verdict.unrecorded.length} new`,
    ...(verdict.regressed.length > 0 ? ['REGRESSED:', ...verdict.regressed.map(line)] : []),
    ...(verdict.improved.length > 0 ? ['improved:', ...verdict.improved.map(line)] : []),
  ];
}
