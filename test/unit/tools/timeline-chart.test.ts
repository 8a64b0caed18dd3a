/** The end-to-end timeline chart: three panels, phases as bands, faults as markers, gaps where there is no data. */
import { describe, expect, it } from 'vitest';
import { timelineChart, type TimelineSample } from '../../../src/tools/timeline-chart.js';

const sample = (t: number, hitRate: number): TimelineSample => ({ t, p50Ms: 1 + t / 10, p99Ms: 5 + t, maxMs: 20 + t, dbQueriesPerSecond: 100 - t, hitRate });

describe('timelineChart', () => {
  it('draws latency, database load and hit rate over the phases, with each fault marked in every panel', () => {
    const samples = [1, 2, 3, 4, 5, 6].map((t) => sample(t, t <= 2 ? NaN : t / 6));
    const svg = timelineChart(
      samples,
      [
        { name: 'no cache', from: 0, to: 2 },
        { name: 'warm <cache>', from: 2, to: 6 },
      ],
      [{ t: 4, label: 'SIGSTOP 127.0.0.1:6379' }],
      'end to end & faults',
    );
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('end to end &amp; faults');
    expect(svg).toContain('warm &lt;cache&gt;');
    // p50, p99, max, database, hit rate: one line each.
    expect(svg.match(/<path /g)).toHaveLength(5);
    // The marker crosses all three panels and is labelled in each.
    expect(svg.match(/stroke="#c00"/g)).toHaveLength(3);
    expect(svg.match(/SIGSTOP 127\.0\.0\.1:6379/g)).toHaveLength(3);
    // Seconds without a hit rate (no cache) are left out of its line, not drawn as 0.
    const hitLine = svg.match(/<path d="([^"]+)" fill="none" stroke="#ff7f0e"/)![1]!;
    expect(hitLine.split(/[ML]/).filter(Boolean)).toHaveLength(4);
    expect(svg).not.toContain('NaN');
  });

  it('gives an empty run an empty chart rather than failing', () => {
    const svg = timelineChart([], [], [], 'nothing');
    expect(svg).toContain('nothing');
    expect(svg).not.toContain('<path ');
    expect(svg).not.toContain('NaN');
  });
});
