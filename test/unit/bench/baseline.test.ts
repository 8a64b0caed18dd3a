/** The benchmarks' bootstrap intervals and the `--compare` check against bench/baseline.json. */
import { describe, expect, it } from 'vitest';
import { compareToBaseline, parseBaseline, ratiosOf, type Baseline } from '../../../bench/lib/baseline.js';
import { bootstrapMedian } from '../../../bench/lib/stats.js';

describe('bootstrap interval of the median', () => {
  it('brackets the median, is reproducible, and narrows as repeats agree', () => {
    const noisy = [0.71, 0.93, 1.02, 0.88, 1.2, 0.95, 0.81, 1.1, 0.99];
    const interval = bootstrapMedian(noisy)!;
    expect(interval.low).toBeLessThanOrEqual(0.95);
    expect(interval.high).toBeGreaterThanOrEqual(0.95);
    expect(interval.low).toBeGreaterThanOrEqual(Math.min(...noisy));
    expect(interval.high).toBeLessThanOrEqual(Math.max(...noisy));
    expect(bootstrapMedian(noisy)).toEqual(interval);
    const tight = bootstrapMedian([0.99, 1.0, 1.01, 1.0, 0.995, 1.005, 1.0, 0.99, 1.01])!;
    expect(tight.high - tight.low).toBeLessThan(interval.high - interval.low);
  });

  it('covers the true median of the sampled distribution about 95% of the time', () => {
    // Draws from a uniform distribution on [0.5, 1.5] (median 1), 21 repeats each, as the mget bench takes.
    let seed = 99;
    const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
    let covered = 0;
    const trials = 200;
    for (let t = 0; t < trials; t++) {
      const values = Array.from({ length: 21 }, () => 0.5 + random());
      const interval = bootstrapMedian(values, { resamples: 500, seed: t + 1 })!;
      if (interval.low <= 1 && interval.high >= 1) covered++;
    }
    expect(covered / trials).toBeGreaterThan(0.88);
    expect(covered / trials).toBeLessThan(0.995);
  });

  it('gives the value itself for one repeat, and nothing for none', () => {
    expect(bootstrapMedian([1.3])).toEqual({ low: 1.3, high: 1.3 });
    expect(bootstrapMedian([])).toBeUndefined();
    expect(bootstrapMedian([Number.NaN])).toBeUndefined();
  });
});

describe('comparison with the recorded baseline', () => {
  const baseline: Baseline = {
    recorded: 'run of 2026-12-01',
    quick: false,
    ratios: {
      'mget | mget of 10 keys | ideal': { ratio: 0.9, low: 0.85, high: 0.95 },
      'mget | mget of 10 keys | twemproxy': { ratio: 1.2, low: 1.1, high: 1.3 },
      'ring-lookup | maglev mode, 10 nodes | shardcache fast': { ratio: 1.1, low: 1.0, high: 1.2 },
      'single-get | one GET | raw ioredis': { ratio: 0.95, low: 0.9, high: 1.0 },
    },
  };

  it('flags a ratio only when its whole interval is below the recorded one', () => {
    const verdict = compareToBaseline(baseline, {
      'mget | mget of 10 keys | ideal': { ratio: 0.8, low: 0.75, high: 0.84 }, // below: regressed
      'mget | mget of 10 keys | twemproxy': { ratio: 1.05, low: 0.95, high: 1.1 }, // touches the recorded low: noise
      'ring-lookup | maglev mode, 10 nodes | shardcache fast': { ratio: 1.4, low: 1.25, high: 1.5 }, // above: improved
      'concurrent-gets | 1000 GETs | twemproxy': { ratio: 2, low: 1.8, high: 2.2 },
    });
    expect(verdict.regressed.map((f) => f.key)).toEqual(['mget | mget of 10 keys | ideal']);
    expect(verdict.improved.map((f) => f.key)).toEqual(['ring-lookup | maglev mode, 10 nodes | shardcache fast']);
    expect(verdict.steady.map((f) => f.key)).toEqual(['mget | mget of 10 keys | twemproxy']);
    expect(verdict.missing).toEqual(['single-get | one GET | raw ioredis']);
    expect(verdict.unrecorded).toEqual(['concurrent-gets | 1000 GETs | twemproxy']);
  });

  it('reads ratios from any comparison in a benchmark`s JSON, wherever it is nested', () => {
    const output = {
      benchmark: 'ring-lookup',
      results: [
        {
          nodes: 10,
          comparisons: [
            {
              title: 'maglev mode, 10 nodes',
              subject: 'shardcache maglev',
              rows: [
                { name: 'shardcache maglev' },
                { name: 'shardcache fast', ratio: 1.1, interval: { low: 1.0, high: 1.2 } },
                { name: 'a peer without repeats', ratio: 2 },
              ],
            },
          ],
        },
      ],
    };
    expect(ratiosOf('ring-lookup', output)).toEqual({ 'ring-lookup | maglev mode, 10 nodes | shardcache fast': { ratio: 1.1, low: 1.0, high: 1.2 } });
  });

  it('refuses a malformed baseline file', () => {
    expect(parseBaseline(JSON.stringify(baseline))).toEqual(baseline);
    expect(() => parseBaseline('{"recorded": "x", "quick": false}')).toThrow(/expected/);
    expect(() => parseBaseline(JSON.stringify({ ...baseline, ratios: { k: { ratio: 1, low: 1.2, high: 1.1 } } }))).toThrow(/low <= high/);
  });
});
