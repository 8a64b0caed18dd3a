import { describe, expect, it } from 'vitest';
import { LatencyWindow, summarize } from '../../../src/node/latency-window.js';

describe('latency window', () => {
  it('nearest-rank percentiles over the samples in the window', () => {
    const window = new LatencyWindow(1000);
    for (let i = 1; i <= 100; i++) window.record(i, 10);
    expect(summarize([window], 10)).toEqual({ p50: 50, p95: 95, p99: 99, samples: 100 });
  });

  it('keeps only the last `capacity` samples', () => {
    const window = new LatencyWindow(4);
    for (const duration of [100, 100, 100, 1, 2, 3, 4]) window.record(duration, 0);
    expect(summarize([window], 0)).toEqual({ p50: 2, p95: 4, p99: 4, samples: 4 });
  });

  it('leaves out samples that ended before the time window, and reports none as null', () => {
    const window = new LatencyWindow(8);
    window.record(500, 0);
    window.record(1, 59_000);
    expect(summarize([window], 61_000, 60_000)).toEqual({ p50: 1, p95: 1, p99: 1, samples: 1 });
    expect(summarize([window], 200_000, 60_000)).toEqual({ p50: null, p95: null, p99: null, samples: 0 });
    expect(summarize([], 0)).toEqual({ p50: null, p95: null, p99: null, samples: 0 });
  });

  it('merges several windows for a cache-wide figure, rounded to microseconds', () => {
    const fast = new LatencyWindow(8);
    const slow = new LatencyWindow(8);
    for (let i = 0; i < 3; i++) fast.record(0.12345, 1);
    slow.record(9.87654, 1);
    expect(summarize([fast, slow], 1)).toEqual({ p50: 0.123, p95: 9.877, p99: 9.877, samples: 4 });
  });
});
