/**
 * The latencies of a node's last requests, for `cache.stats()` percentiles.
 *
 * A fixed ring of the last `capacity` samples (duration and end time, two
 * Float64Arrays): recording is two stores and an index bump, with no
 * allocation, so it runs on every request whether or not anyone reads it.
 * Percentiles are computed only when asked, over the samples that ended
 * within the last `windowMs`, so a node that went quiet an hour ago does not
 * report its old latencies as current.
 */
export interface LatencySummary {
  /** Nearest-rank percentiles in milliseconds; `null` when there is no sample in the window. */
  readonly p50: number | null;
  readonly p95: number | null;
  readonly p99: number | null;
  /** Samples the percentiles were computed from. */
  readonly samples: number;
}

export const LATENCY_WINDOW_SAMPLES = 1024;
export const LATENCY_WINDOW_MS = 60_000;

export class LatencyWindow {
  readonly #durations: Float64Array;
  readonly #endedAt: Float64Array;
  #next = 0;
  #size = 0;

  constructor(capacity = LATENCY_WINDOW_SAMPLES) {
    this.#durations = new Float64Array(capacity);
    this.#endedAt = new Float64Array(capacity);
  }

  record(durationMs: number, endedAt: number): void {
    this.#durations[this.#next] = durationMs;
    this.#endedAt[this.#next] = endedAt;
    this.#next = this.#next + 1 === this.#durations.length ? 0 : this.#next + 1;
    if (this.#size < this.#durations.length) this.#size++;
  }

  /** Copies the durations of samples that ended at or after `since` into `into`, from `offset`; returns the new offset. */
  collect(since: number, into: Float64Array, offset: number): number {
    let at = offset;
    for (let i = 0; i < this.#size; i++) {
      if (this.#endedAt[i]! >= since) into[at++] = this.#durations[i]!;
    }
    return at;
  }

  get size(): number {
    return this.#size;
  }
}

/** Percentiles over the recent samples of one or more windows (several: a cache-wide figure). */
export function summarize(windows: readonly LatencyWindow[], now: number, windowMs = LATENCY_WINDOW_MS): LatencySummary {
  let capacity = 0;
  for (const window of windows) capacity += window.size;
  const values = new Float64Array(capacity);
  const count = windows.reduce((offset, window) => window.collect(now - windowMs, values, offset), 0);
  if (count === 0) return { p50: null, p95: null, p99: null, samples: 0 };
  const sorted = values.subarray(0, count).sort();
  return { p50: rank(sorted, 0.5), p95: rank(sorted, 0.95), p99: rank(sorted, 0.99), samples: count };
}

/** Nearest-rank percentile, rounded to microseconds. */
function rank(sorted: Float64Array, quantile: number): number {
  const value = sorted[Math.max(0, Math.ceil(quantile * sorted.length) - 1)]!;
  return Math.round(value * 1000) / 1000;
}
