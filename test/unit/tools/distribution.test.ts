import { describe, expect, it } from 'vitest';
import { distributionChart, roundTicks } from '../../../src/tools/chart.js';
import { analyze } from '../../../src/tools/distribution.js';
import { jumpHash } from '../../../src/tools/jump.js';
import { schemes } from '../../../src/tools/placements.js';

describe('jump hash', () => {
  it('stays in range and moves keys only onto a new last bucket', () => {
    for (let key = 0n; key < 2000n; key++) {
      const key64 = key * 0x9e3779b97f4a7c15n;
      for (const buckets of [1, 2, 7, 100]) {
        const bucket = jumpHash(key64, buckets);
        expect(bucket).toBeGreaterThanOrEqual(0);
        expect(bucket).toBeLessThan(buckets);
        const grown = jumpHash(key64, buckets + 1);
        if (grown !== bucket) expect(grown).toBe(buckets);
      }
    }
  });
});

describe('distribution analysis', () => {
  it('reports balance, moved shares near the ideal and no moves between other nodes', async () => {
    const rows = analyze(await schemes(160), { sizes: [3, 20], keys: 20_000, weights: 'equal' });
    expect(new Set(rows.map((r) => r.scheme))).toEqual(new Set(['ketama', 'fast', 'maglev', 'hashring', 'jump']));
    for (const row of rows) {
      expect(row.movedBetweenOthers).toBe(0);
      expect(Math.abs(row.movedOnRemove! - row.idealOnRemove!)).toBeLessThan(0.1);
      expect(Math.abs(row.movedOnAdd - row.idealOnAdd)).toBeLessThan(0.1);
      expect(row.cv).toBeGreaterThan(0);
      expect(row.maxOverMean).toBeGreaterThanOrEqual(1);
      expect(row.minOverMean).toBeLessThanOrEqual(1);
      expect(row.nsPerLookup).toBeGreaterThan(0);
    }
  });

  it('skips jump hash for weighted pools and measures load against each weight', async () => {
    const rows = analyze(await schemes(160), { sizes: [6], keys: 30_000, weights: [1, 3] });
    expect(rows.map((r) => r.scheme)).not.toContain('jump');
    const ketama = rows.find((r) => r.scheme === 'ketama')!;
    expect(ketama.maxOverMean).toBeLessThan(1.3);
    expect(ketama.idealOnRemove).toBeCloseTo(3 / 12);
  });

  it('shows maglev within 1.02 max/mean of exact weight shares where the continuum is not, moving about the ideal share', async () => {
    const rows = analyze(await schemes(160), { sizes: [10, 100], keys: 20_000, weights: [1, 2, 3] });
    for (const nodes of [10, 100]) {
      const maglev = rows.find((r) => r.scheme === 'maglev' && r.nodes === nodes)!;
      const fast = rows.find((r) => r.scheme === 'fast' && r.nodes === nodes)!;
      expect(maglev.exactMaxOverMean).toBeLessThanOrEqual(1.02);
      expect(fast.exactMaxOverMean).toBeGreaterThan(maglev.exactMaxOverMean!);
      expect(maglev.movedBetweenOthers).toBe(0);
      // Sampled on 20,000 keys: the ideal share with sampling slack.
      expect(maglev.movedOnRemove! / maglev.idealOnRemove!).toBeLessThan(1.35);
    }
    expect(rows.find((r) => r.scheme === 'hashring')?.exactMaxOverMean).toBeUndefined();
  });

  it('draws one line per scheme on each of the three panels', async () => {
    const rows = analyze(await schemes(160), { sizes: [2, 5], keys: 2_000, weights: 'equal' });
    const svg = distributionChart(rows, 'test <chart>');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('test &lt;chart&gt;');
    // Five schemes on three panels, and one dashed reference per panel (noise floor, perfect balance, ideal move).
    expect(svg).toContain('max/mean load');
    expect(svg.match(/<path /g)).toHaveLength(18);
    expect(svg.match(/stroke-dasharray/g)).toHaveLength(4);
    expect(svg).toContain('<title>sampling-noise floor</title>');
  });

  it('keeps the legend in its own row below the axis titles', async () => {
    const rows = analyze(await schemes(160), { sizes: [2, 5], keys: 2_000, weights: 'equal' });
    const svg = distributionChart(rows, 'layout');
    const axisTitleY = Math.max(...[...svg.matchAll(/<text [^>]*y="([\d.]+)"[^>]*>nodes in the ring/g)].map((m) => Number(m[1])));
    const legendYs = [...svg.matchAll(/<g transform="translate\([\d.]+,([\d.]+)\)">/g)].map((m) => Number(m[1]));
    expect(legendYs.length).toBeGreaterThanOrEqual(4);
    // 13 px legend text under a 12 px title: its baseline at least a line lower.
    for (const y of legendYs) expect(y).toBeGreaterThanOrEqual(axisTitleY + 16);
    expect(Math.max(...legendYs)).toBeLessThanOrEqual(Number(/height="(\d+)"/.exec(svg)![1]));
  });

  it('labels the y axis with round numbers, ending on one at or above the data', () => {
    expect(roundTicks(0.137)).toEqual([0, 0.05, 0.1, 0.15]);
    expect(roundTicks(2.51)).toEqual([0, 1, 2, 3]);
    expect(roundTicks(1)).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(roundTicks(0)).toEqual([0, 1]);
    for (const max of [0.0031, 0.77, 13, 420, 9999]) {
      const ticks = roundTicks(max);
      const step = ticks[1]!;
      const mantissa = step / 10 ** Math.floor(Math.log10(step));
      expect([1, 2, 2.5, 5]).toContain(Number(mantissa.toPrecision(6)));
      expect(ticks[ticks.length - 1]).toBeGreaterThanOrEqual(max);
      expect(ticks.length).toBeGreaterThanOrEqual(3);
      expect(ticks.length).toBeLessThanOrEqual(7);
    }
  });
});
