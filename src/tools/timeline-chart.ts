/**
 * The end-to-end benchmark's timeline as one SVG: three panels over the
 * same seconds (HTTP latency percentiles on a log axis, database queries per
 * second, cache hit rate), each phase a labelled band and each fault a red
 * marker, so a reader sees what every fault did to the service at a glance.
 */
import { escape, legend, linePanel, svgDocument, type Axis } from './svg-plot.js';

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
  /** `fault`: something done to the system (red); `observed`: something it reported, such as a node ejected (grey). */
  readonly kind?: 'fault' | 'observed';
}

const WIDTH = 1100;
const PANEL_HEIGHT = 170;
const GAP = 70;
const MARGIN = { top: 60, left: 80, right: 30, bottom: 50 };
const LATENCY = { p50: '#2ca02c', p99: '#1f77b4', max: '#d62728' };
const EVENT_COLOUR = { fault: '#c00', observed: '#888' };
const LIST_COLUMNS = 2;
const LIST_LINE = 15;

export function timelineChart(samples: readonly TimelineSample[], phases: readonly TimelinePhase[], events: readonly TimelineEvent[], title: string): string {
  const width = WIDTH - MARGIN.left - MARGIN.right;
  const start = Math.min(phases[0]?.from ?? 0, samples[0]?.t ?? 0);
  const end = Math.max(phases.at(-1)?.to ?? 0, samples.at(-1)?.t ?? 0, start + 1);
  const x: Axis = { label: 'seconds since the start of the run', min: Math.floor(start), max: Math.ceil(end) };
  const bands = phases.map((phase) => ({ from: phase.from, to: phase.to, label: phase.name }));
  // Markers carry a number; the list under the panels says what each was.
  const ordered = [...events].sort((a, b) => a.t - b.t);
  const markers = ordered.map((event, i) => ({ x: event.t, label: String(i + 1), colour: EVENT_COLOUR[event.kind ?? 'fault'] }));
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
    legend([{ name: 'p50', colour: LATENCY.p50 }, { name: 'p99', colour: LATENCY.p99 }, { name: 'max', colour: LATENCY.max }], MARGIN.left + width - 260, top(0) - 8, 80),
    linePanel({ ...common, top: top(1), title: 'database queries per second (PostgreSQL\'s count)', y: { label: 'queries/s' }, series: [{ name: 'db', colour: '#9467bd', points: series((s) => s.dbQueriesPerSecond) }] }),
    linePanel({
      ...common,
      top: top(2),
      title: 'cache hit rate per second',
      y: { label: 'hits / key reads', min: 0, max: 1, format: (v) => v.toFixed(2) },
      series: [{ name: 'hit rate', colour: '#ff7f0e', points: series((s) => s.hitRate) }],
    }),
  ];
  const listTop = top(3) - GAP + MARGIN.bottom;
  const columnWidth = width / LIST_COLUMNS;
  const rows = Math.ceil(ordered.length / LIST_COLUMNS);
  ordered.forEach((event, i) => {
    const [column, row] = [Math.floor(i / rows), i % rows];
    const colour = EVENT_COLOUR[event.kind ?? 'fault'];
    body.push(`<text x="${MARGIN.left + column * columnWidth}" y="${listTop + row * LIST_LINE}" font-size="11" fill="${colour}">${escape(`${i + 1}. ${event.t.toFixed(1)} s  ${event.label}`)}</text>`);
  });
  return svgDocument(WIDTH, listTop + rows * LIST_LINE + 10, title, body);
}
