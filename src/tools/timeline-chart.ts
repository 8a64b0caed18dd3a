/**
 * The end-to-end benchmark's timeline as one SVG: three panels over the
 * same seconds (HTTP latency percentiles on a log axis, database queries per
 * second, cache hit rate), each phase a labelled band and each fault a red
 * marker, so a reader sees what every fault did to the service at a glance.
 */
import { legend, linePanel, svgDocument, type Axis } from './svg-plot.js';

export interface TimelineSample {
  /** Seconds since the run started (the end of this sample's second). */
  readonly t: number;
  /** HTTP latency of the responses in this second, in milliseconds (NaN when none). */
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly dbQueriesPerSecond: number;
  /** Cache hits / key reads in this second, 0 to 1 (NaN without a cache or without reads). */
  readonly hitRate: number;
}

export interface TimelinePhase {
  readonly name: string;
  readonly from: number;
  readonly to: number;
}

export interface TimelineEvent {
  readonly t: number;
  readonly label: string;
}

const WIDTH = 1100;
const PANEL_HEIGHT = 170;
const GAP = 70;
const MARGIN = { top: 60, left: 80, right: 30, bottom: 50 };
const LATENCY = { p50: '#2ca02c', p99: '#1f77b4', max: '#d62728' };

export function timelineChart(samples: readonly TimelineSample[], phases: readonly TimelinePhase[], events: readonly TimelineEvent[], title: string): string {
  const width = WIDTH - MARGIN.left - MARGIN.right;
  const end = Math.max(phases.at(-1)?.to ?? 0, samples.at(-1)?.t ?? 0, 1);
  const x: Axis = { label: 'seconds since the start of the run', min: 0, max: end };
  const bands = phases.map((phase) => ({ from: phase.from, to: phase.to, label: phase.name }));
  const markers = events.map((event) => ({ x: event.t, label: event.label }));
  const top = (row: number) => MARGIN.top + row * (PANEL_HEIGHT + GAP);
  const common = { left: MARGIN.left, width, height: PANEL_HEIGHT, x, bands, markers };
  const series = (value: (s: TimelineSample) => number) => samples.map((s) => [s.t, value(s)] as const);
  const latencyMax = samples.reduce((max, s) => (Number.isFinite(s.maxMs) ? Math.max(max, s.maxMs) : max), 1);
  const body = [
    linePanel({
      ...common,
      top: top(0),
      title: 'HTTP latency per second (log scale)',
      y: { label: 'ms', log: true, min: 0.1, max: Math.max(10, latencyMax * 1.2) },
      series: [
        { name: 'p50', colour: LATENCY.p50, points: series((s) => s.p50Ms) },
        { name: 'p99', colour: LATENCY.p99, points: series((s) => s.p99Ms) },
        { name: 'max', colour: LATENCY.max, points: series((s) => s.maxMs) },
      ],
    }),
    legend([{ name: 'p50', colour: LATENCY.p50 }, { name: 'p99', colour: LATENCY.p99 }, { name: 'max', colour: LATENCY.max }], MARGIN.left + width - 300, top(0) - 24, 100),
    linePanel({ ...common, top: top(1), title: 'database queries per second (PostgreSQL\'s count)', y: { label: 'queries/s' }, series: [{ name: 'db', colour: '#9467bd', points: series((s) => s.dbQueriesPerSecond) }] }),
    linePanel({
      ...common,
      top: top(2),
      title: 'cache hit rate per second',
      y: { label: 'hits / key reads', min: 0, max: 1, format: (v) => v.toFixed(2) },
      series: [{ name: 'hit rate', colour: '#ff7f0e', points: series((s) => s.hitRate) }],
    }),
  ];
  return svgDocument(WIDTH, top(3) - GAP + MARGIN.bottom, title, body);
}
