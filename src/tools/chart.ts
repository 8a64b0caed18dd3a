/**
 * A self-contained SVG of the distribution report: balance (coefficient of
 * variation), max/mean load and moved share (relative to the ideal) against ring size, one
 * line per scheme, ring size on a log axis. No dependency, viewable in any
 * browser.
 */
import type { DistributionRow } from './distribution.js';

const WIDTH = 1260;
const HEIGHT = 420;
const PANEL = { top: 50, bottom: 60, left: 70, gap: 80 };
const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];

interface Series {
  readonly name: string;
  readonly points: readonly [number, number][];
}

export function distributionChart(rows: readonly DistributionRow[], title: string): string {
  const schemes = [...new Set(rows.map((row) => row.scheme))];
  const series = (value: (row: DistributionRow) => number | undefined): Series[] =>
    schemes.map((name) => ({
      name,
      points: rows.filter((row) => row.scheme === name && value(row) !== undefined).map((row) => [row.nodes, value(row)!] as [number, number]),
    }));
  const panelWidth = (WIDTH - PANEL.left * 2 - PANEL.gap * 2) / 3;
  const at = (index: number) => PANEL.left + index * (panelWidth + PANEL.gap);
  const balance = panel(series((row) => row.cv), at(0), panelWidth, 'balance: CV of keys per node (lower is better)');
  // The exact share where the scheme can tell: sampled max/mean sits above 1 by chance alone.
  const peak = panel(series((row) => row.exactMaxOverMean ?? row.maxOverMean), at(1), panelWidth, 'max/mean load (exact share where known; 1 is perfect)');
  const moved = panel(
    series((row) => (row.movedOnRemove === undefined ? undefined : row.movedOnRemove / row.idealOnRemove!)),
    at(2),
    panelWidth,
    'keys moved when one node leaves / ideal (1 is ideal)',
  );
  const legend = schemes
    .map((name, i) => `<g transform="translate(${PANEL.left + i * 150},${HEIGHT - 18})"><rect width="14" height="4" y="-4" fill="${COLOURS[i % COLOURS.length]}"/><text x="20" font-size="13">${escape(name)}</text></g>`)
    .join('');
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

function panel(series: readonly Series[], left: number, width: number, label: string): string {
  const all = series.flatMap((s) => s.points);
  if (all.length === 0) return '';
  const xs = all.map(([x]) => Math.log10(x));
  const [xMin, xMax] = [xs.reduce((min, x) => Math.min(min, x)), xs.reduce((max, x) => Math.max(max, x)) || 1];
  const yMax = all.reduce((max, [, y]) => Math.max(max, y), -Infinity) * 1.1 || 1;
  const height = HEIGHT - PANEL.top - PANEL.bottom;
  const x = (value: number) => left + ((Math.log10(value) - xMin) / (xMax - xMin || 1)) * width;
  const y = (value: number) => PANEL.top + height - (value / yMax) * height;
  const ticks = [...new Set(all.map(([value]) => value))].sort((a, b) => a - b);
  const yTicks = [0, 0.25, 0.5, 0.75, 1].map((f) => f * yMax);
  return [
    `<text x="${left + width / 2}" y="${PANEL.top - 8}" font-size="13" text-anchor="middle">${escape(label)}</text>`,
    `<line x1="${left}" y1="${PANEL.top + height}" x2="${left + width}" y2="${PANEL.top + height}" stroke="#333"/>`,
    `<line x1="${left}" y1="${PANEL.top}" x2="${left}" y2="${PANEL.top + height}" stroke="#333"/>`,
    ...ticks.map((t) => `<text x="${x(t)}" y="${PANEL.top + height + 16}" font-size="11" text-anchor="middle">${t}</text>`),
    `<text x="${left + width / 2}" y="${PANEL.top + height + 34}" font-size="12" text-anchor="middle">nodes in the ring (log scale)</text>`,
    ...yTicks.map((t) => `<g><line x1="${left}" x2="${left + width}" y1="${y(t)}" y2="${y(t)}" stroke="#eee"/><text x="${left - 6}" y="${y(t) + 4}" font-size="11" text-anchor="end">${t.toFixed(2)}</text></g>`),
    ...series.map((s, i) => {
      const colour = COLOURS[i % COLOURS.length];
      const path = s.points.map(([px, py], j) => `${j === 0 ? 'M' : 'L'}${x(px).toFixed(1)},${y(py).toFixed(1)}`).join(' ');
      return `<path d="${path}" fill="none" stroke="${colour}" stroke-width="2"/>${s.points.map(([px, py]) => `<circle cx="${x(px).toFixed(1)}" cy="${y(py).toFixed(1)}" r="3" fill="${colour}"/>`).join('')}`;
    }),
  ].join('\n');
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
