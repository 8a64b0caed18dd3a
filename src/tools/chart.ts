/**
 * A self-contained SVG of the distribution report: balance (coefficient of
 * variation), max/mean load and moved share (relative to the ideal) against ring size, one
 * line per scheme, ring size on a log axis. No dependency, viewable in any
 * browser.
 *
 * Layout rules that must stay true: the legend has its own row under the
 * axis titles (never over them); y ticks are round numbers (steps of 1, 2,
 * 2.5 or 5 times a power of ten) and the axis ends on one; dashed grey
 * references are drawn under the data: the sampling-noise floor on the
 * balance panel (the CV a perfect scheme still shows with that many keys per
 * node), and the ideal 1 on the max/mean and moved panels.
 */
import type { DistributionRow } from './distribution.js';

const WIDTH = 1260;
const HEIGHT = 450;
const PANEL = { top: 50, bottom: 90, left: 70, gap: 80 };
/** Baselines below the plot area: tick labels, axis title, legend row. */
const BELOW = { ticks: 16, title: 34, legend: 66 };
const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];
const REFERENCE = '#888';

interface Series {
  readonly name: string;
  readonly points: readonly [number, number][];
}

interface Reference {
  readonly label: string;
  readonly points: readonly [number, number][];
}

export function distributionChart(rows: readonly DistributionRow[], title: string): string {
  const schemes = [...new Set(rows.map((row) => row.scheme))];
  const series = (value: (row: DistributionRow) => number | undefined): Series[] =>
    schemes.map((name) => ({
      name,
      points: rows.filter((row) => row.scheme === name && value(row) !== undefined).map((row) => [row.nodes, value(row)!] as [number, number]),
    }));
  const sizes = [...new Set(rows.map((row) => row.nodes))].sort((a, b) => a - b);
  const noiseFloor: Reference = {
    label: 'sampling-noise floor',
    points: sizes.map((nodes) => [nodes, rows.find((row) => row.nodes === nodes)!.samplingNoiseCv]),
  };
  const ideal: Reference = { label: 'ideal', points: sizes.map((nodes) => [nodes, 1]) };
  const panelWidth = (WIDTH - PANEL.left * 2 - PANEL.gap * 2) / 3;
  const at = (index: number) => PANEL.left + index * (panelWidth + PANEL.gap);
  const balance = panel(series((row) => row.cv), noiseFloor, at(0), panelWidth, 'balance: CV of keys per node (lower is better)');
  // The exact share where the scheme can tell: sampled max/mean sits above 1 by chance alone.
  const peak = panel(series((row) => row.exactMaxOverMean ?? row.maxOverMean), { ...ideal, label: 'perfect balance' }, at(1), panelWidth, 'max/mean load (exact share where known; 1 is perfect)');
  const moved = panel(
    series((row) => (row.movedOnRemove === undefined ? undefined : row.movedOnRemove / row.idealOnRemove!)),
    ideal,
    at(2),
    panelWidth,
    'keys moved when one node leaves / ideal (1 is ideal)',
  );
  const legendY = PANEL.top + plotHeight() + BELOW.legend;
  const legend = [
    ...schemes.map((name, i) => `<g transform="translate(${PANEL.left + i * 130},${legendY})"><rect width="14" height="4" y="-4" fill="${COLOURS[i % COLOURS.length]}"/><text x="20" font-size="13">${escape(name)}</text></g>`),
    `<g transform="translate(${PANEL.left + schemes.length * 130},${legendY})"><line x1="0" x2="14" y1="-2" y2="-2" stroke="${REFERENCE}" stroke-width="2" stroke-dasharray="4 3"/><text x="20" font-size="13">sampling-noise floor / ideal</text></g>`,
  ].join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
<text x="${WIDTH / 2}" y="24" font-size="16" text-anchor="middle">${escape(title)}</text>
${balance}
${peak}
${moved}
${legend}
</svg>
`;
}

function plotHeight(): number {
  return HEIGHT - PANEL.top - PANEL.bottom;
}

function panel(series: readonly Series[], reference: Reference, left: number, width: number, label: string): string {
  const all = series.flatMap((s) => s.points);
  if (all.length === 0) return '';
  const xs = all.map(([x]) => Math.log10(x));
  const [xMin, xMax] = [xs.reduce((min, x) => Math.min(min, x)), xs.reduce((max, x) => Math.max(max, x)) || 1];
  const yTicks = roundTicks([...all, ...reference.points].reduce((max, [, y]) => Math.max(max, y), 0));
  const yMax = yTicks[yTicks.length - 1]!;
  const height = plotHeight();
  const bottom = PANEL.top + height;
  const x = (value: number) => left + ((Math.log10(value) - xMin) / (xMax - xMin || 1)) * width;
  const y = (value: number) => bottom - (value / yMax) * height;
  const ticks = [...new Set(all.map(([value]) => value))].sort((a, b) => a - b);
  const decimals = decimalsOf(yTicks[1]! - yTicks[0]!);
  const pathOf = (points: readonly [number, number][]) => points.map(([px, py], j) => `${j === 0 ? 'M' : 'L'}${x(px).toFixed(1)},${y(py).toFixed(1)}`).join(' ');
  return [
    `<text x="${left + width / 2}" y="${PANEL.top - 8}" font-size="13" text-anchor="middle">${escape(label)}</text>`,
    ...yTicks.map((t) => `<g><line x1="${left}" x2="${left + width}" y1="${y(t).toFixed(1)}" y2="${y(t).toFixed(1)}" stroke="#eee"/><text x="${left - 6}" y="${(y(t) + 4).toFixed(1)}" font-size="11" text-anchor="end">${t.toFixed(decimals)}</text></g>`),
    `<line x1="${left}" y1="${bottom}" x2="${left + width}" y2="${bottom}" stroke="#333"/>`,
    `<line x1="${left}" y1="${PANEL.top}" x2="${left}" y2="${bottom}" stroke="#333"/>`,
    ...ticks.map((t) => `<text x="${x(t).toFixed(1)}" y="${bottom + BELOW.ticks}" font-size="11" text-anchor="middle">${t}</text>`),
    `<text x="${left + width / 2}" y="${bottom + BELOW.title}" font-size="12" text-anchor="middle">nodes in the ring (log scale)</text>`,
    `<path d="${pathOf(reference.points)}" fill="none" stroke="${REFERENCE}" stroke-width="2" stroke-dasharray="4 3"><title>${escape(reference.label)}</title></path>`,
    ...series.map((s, i) => {
      const colour = COLOURS[i % COLOURS.length];
      return `<path d="${pathOf(s.points)}" fill="none" stroke="${colour}" stroke-width="2"/>${s.points.map(([px, py]) => `<circle cx="${x(px).toFixed(1)}" cy="${y(py).toFixed(1)}" r="3" fill="${colour}"/>`).join('')}`;
    }),
  ].join('\n');
}

/** Ticks from 0 to the first round value at or above `max`, 4 to 6 of them, a step of 1, 2, 2.5 or 5 times a power of ten. */
export function roundTicks(max: number): number[] {
  if (!(max > 0)) return [0, 1];
  const rough = max / 4;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((candidate) => candidate >= rough)!;
  const count = Math.ceil(max / step - 1e-9);
  return Array.from({ length: count + 1 }, (_, i) => Number((i * step).toPrecision(12)));
}

/** Decimals needed to print multiples of `step` exactly (0.025 -> 3). */
function decimalsOf(step: number): number {
  for (let decimals = 0; decimals < 10; decimals++) if (Math.abs(Number(step.toFixed(decimals)) - step) < 1e-12) return decimals;
  return 10;
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
