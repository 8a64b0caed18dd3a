/**
 * A self-contained SVG of the distribution report: balance (coefficient of
 * variation) and moved share (relative to the ideal) against ring size, one
 * line per scheme, ring size on a log axis. Drawn with svg-plot.ts, which
 * the end-to-end benchmark's timeline (timeline-chart.ts) shares.
 */
import type { DistributionRow } from './distribution.js';
import { COLOURS, legend, linePanel, svgDocument, type Series } from './svg-plot.js';

const WIDTH = 960;
const HEIGHT = 420;
const PANEL = { top: 50, bottom: 60, left: 70, gap: 80 };

export function distributionChart(rows: readonly DistributionRow[], title: string): string {
  const schemes = [...new Set(rows.map((row) => row.scheme))];
  const series = (value: (row: DistributionRow) => number | undefined): Series[] =>
    schemes.map((name, i) => ({
      name,
      colour: COLOURS[i % COLOURS.length]!,
      dots: true,
      points: rows.filter((row) => row.scheme === name && value(row) !== undefined).map((row) => [row.nodes, value(row)!] as const),
    }));
  const width = (WIDTH - PANEL.left * 2 - PANEL.gap) / 2;
  const height = HEIGHT - PANEL.top - PANEL.bottom;
  const sizes = [...new Set(rows.map((row) => row.nodes))].sort((a, b) => a - b);
  const x = { label: 'nodes in the ring (log scale)', log: true, ticks: sizes };
  const y = { label: '', format: (value: number) => value.toFixed(2) };
  const balance = linePanel({ left: PANEL.left, top: PANEL.top, width, height, x, y, title: 'balance: CV of keys per node (lower is better)', series: series((row) => row.cv) });
  const moved = linePanel({
    left: PANEL.left + width + PANEL.gap,
    top: PANEL.top,
    width,
    height,
    x,
    y,
    title: 'keys moved when one node leaves / ideal (1 is ideal)',
    series: series((row) => (row.movedOnRemove === undefined ? undefined : row.movedOnRemove / row.idealOnRemove!)),
  });
  const keys = legend(schemes.map((name, i) => ({ name, colour: COLOURS[i % COLOURS.length]! })), PANEL.left, HEIGHT - 18);
  return svgDocument(WIDTH, HEIGHT, title, [balance, moved, keys]);
}
