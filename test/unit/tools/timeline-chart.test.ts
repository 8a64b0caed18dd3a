/** The end-to-end timeline chart: three panels, phases as bands, faults as markers, gaps where there is no data. */
import { describe, expect, it } from 'vitest';
import { timelineChart, type TimelineSample } from '../../../src/tools/timeline-chart.js';

const sample = (t: number, hitRate: number): TimelineSample => ({ t, p50Ms: 1 + t / 10, p99Ms: 5 + t, maxMs: 20 + t, dbQueriesPerSecond: 100 - t, hitRate });

describe('timelineChart', () => {
  it('draws latency, database load and hit rate over the phases, with each fault marked in every panel', () => {
    const samples = [1, 2, 3, 4, 5, 6, 7].map((t) => sample(t, t <= 2 || t === 5 ? NaN : t / 7));
    const svg = timelineChart(
      samples,
      [
        { name: 'no cache', from: 0, to: 2 },
        { name: 'warm <cache>', from: 2, to: 7 },
      ],
      [
        { t: 4.5, label: 'node 127.0.0.1:6379 ejected', kind: 'observed' },
        { t: 4, label: 'SIGSTOP 127.0.0.1:6379' },
      ],
      'end to end & faults',
    );
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('end to end &amp; faults');
    expect(svg).toContain('warm &lt;cache&gt;');
    // p50, p99, max, database, hit rate: one line each.
    expect(svg.match(/<path /g)).toHaveLength(5);
    // Each event crosses all three panels, numbered in time order, fault red and observation grey,
    // and the list under the panels says once what each number was.
    expect(svg.match(/<line [^>]*stroke="#c00" stroke-dasharray/g)).toHaveLength(3);
    expect(svg.match(/<line [^>]*stroke="#888" stroke-dasharray/g)).toHaveLength(3);
    expect(svg.match(/SIGSTOP 127\.0\.0\.1:6379/g)).toEqual(['SIGSTOP 127.0.0.1:6379']);
    expect(svg).toContain('1. 4.0 s  SIGSTOP 127.0.0.1:6379');
    expect(svg).toContain('2. 4.5 s  node 127.0.0.1:6379 ejected');
    // Seconds without a hit rate (no cache, or no data) break its line: never bridged, never drawn as 0.
    const hitLine = svg.match(/<path d="([^"]+)" fill="none" stroke="#ff7f0e"/)![1]!;
    expect(hitLine.match(/[ML]/g)).toEqual(['M', 'L', 'M', 'L']);
    expect(svg).not.toContain('NaN');
  });

  it('gives an empty run an empty chart rather than failing', () => {
    const svg = timelineChart([], [], [], 'nothing');
    expect(svg).toContain('nothing');
    expect(svg).not.toContain('<path ');
    expect(svg).not.toContain('NaN');
  });
});
