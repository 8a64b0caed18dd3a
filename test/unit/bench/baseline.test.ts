/** The benchmarks' bootstrap intervals of ratios and the `--compare` check against bench/baseline.json. */
import { describe, expect, it } from 'vitest';
import { compareToBaseline, parseBaseline, ratiosOf, type Baseline } from '../../../bench/lib/baseline.js';
import { bootstrapRatio } from '../../../bench/lib/stats.js';

describe('bootstrap interval of a ratio over paired repeats', () => {
  const subject = [7.1, 9.3, 10.2, 8.8, 12.0, 9.5, 8.1, 11.0, 9.9];
  const peer = [10, 10, 10.5, 9.5, 11, 10, 9, 10.2, 10.1];
  const ratioOfMedians = 9.5 / 10;

  it('brackets the ratio of medians, is reproducible, and narrows as repeats agree', () => {
    const interval = bootstrapRatio(subject, peer)!;
    expect(interval.low).toBeLessThanOrEqual(ratioOfMedians);
    expect(interval.high).toBeGreaterThanOrEqual(ratioOfMedians);
    expect(bootstrapRatio(subject, peer)).toEqual(interval);
    const steady = [9.9, 10, 10.1, 10, 9.95, 10.05, 10, 9.9, 10.1];
    const tight = bootstrapRatio(steady, peer.map(() => 10))!;
    expect(tight.high - tight.low).toBeLessThan(interval.high - interval.low);
    expect(tight.low).toBeLessThanOrEqual(1);
    expect(tight.high).toBeGreaterThanOrEqual(1);
  });

  it('keeps pairs together: a shared drift across repeats does not widen the interval', () => {
    // Both sides slow down together repeat by repeat (a neighbour's load); the ratio is 2 throughout.
    const drift = [1, 0.5, 1.5, 0.8, 1.2, 0.6, 1.4, 0.9, 1.1];
    const interval = bootstrapRatio(drift.map((d) => 2 * d), drift)!;
    expect(interval.low).toBeGreaterThan(1.5);
    expect(interval.high).toBeLessThan(2.5);
  });

  it('covers the true ratio about 95% of the time', () => {
    // Rates drawn uniformly from [0.5, 1.5] (median 1) for both sides, 21 repeats as the mget bench takes: true ratio 1.
    let seed = 99;
    const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
    let covered = 0;
    const trials = 200;
    for (let t = 0; t < trials; t++) {
      const a = Array.from({ length: 21 }, () => 0.5 + random());
      const b = Array.from({ length: 21 }, () => 0.5 + random());
      const interval = bootstrapRatio(a, b, { resamples: 500, seed: t + 1 })!;
      if (interval.low <= 1 && interval.high >= 1) covered++;
    }
    expect(covered / trials).toBeGreaterThan(0.88);
    expect(covered / trials).toBeLessThan(0.995);
  });

  it('gives the ratio itself for one repeat, and nothing without a usable pair', () => {
    expect(bootstrapRatio([1.3], [1])).toEqual({ low: 1.3, high: 1.3 });
    expect(bootstrapRatio([], [])).toBeUndefined();
    expect(bootstrapRatio([Number.NaN], [1])).toBeUndefined();
    expect(bootstrapRatio([1], [0])).toBeUndefined();
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
