/**
 * General drawing pieces for line charts (the end-to-end timeline draws
 * with them; chart.ts keeps the distribution chart's own layout): a panel of
 * line series on linear or log axes, with optional shaded bands (phases) and
 * vertical markers (events), a legend, and the SVG document around them.
 * Plain strings, no dependency: the output opens in any browser and diffs
 * as text. Values are escaped; a point without a value breaks its line.
 */

export const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];

export interface Series {
  readonly name: string;
  readonly points: readonly (readonly [number, number])[];
  readonly colour?: string;
}

export interface Axis {
  readonly label: string;
  /** Log10 scale: every value must be above 0 (others are dropped). */
  readonly log?: boolean;
  /** Bounds; by default from the data (0 or the smallest value to 110% of the largest). */
  readonly min?: number;
  readonly max?: number;
  /** Tick values; by default five even steps (linear) or the decades (log). */
  readonly ticks?: readonly number[];
  readonly format?: (value: number) => string;
}

export interface Panel {
  readonly left: number;
  readonly top: number;
  readonly width: number;
  readonly height: number;
  readonly title: string;
  readonly x: Axis;
  readonly y: Axis;
  readonly series: readonly Series[];
  /** Shaded spans of x, labelled at their top (alternate bands are shaded). */
  readonly bands?: readonly { readonly from: number; readonly to: number; readonly label?: string }[];
  /** Vertical dashed lines at x, with a short label at their top (close labels alternate between two rows). */
  readonly markers?: readonly { readonly x: number; readonly label?: string; readonly colour?: string }[];
}

interface Scale {
  readonly min: number;
  readonly max: number;
  readonly log: boolean;
  at(value: number): number;
}

function scale(axis: Axis, values: readonly number[], from: number, length: number, flip: boolean): Scale {
  const log = axis.log === true;
  const usable = values.filter((v) => Number.isFinite(v) && (!log || v > 0));
  const lowest = usable.reduce((min, v) => Math.min(min, v), Infinity);
  const highest = usable.reduce((max, v) => Math.max(max, v), -Infinity);
  const min = axis.min ?? (log ? (Number.isFinite(lowest) ? lowest : 1) : Math.min(0, Number.isFinite(lowest) ? lowest : 0));
  const max = axis.max ?? (Number.isFinite(highest) ? (log ? highest : highest * 1.1) : 1);
  const transform = (v: number) => (log ? Math.log10(v) : v);
  const span = transform(max) - transform(min) || 1;
  return {
    min,
    max,
    log,
    at: (value) => {
      const share = (transform(value) - transform(min)) / span;
      return flip ? from + length - share * length : from + share * length;
    },
  };
}

/** A step of 1, 2 or 5 times a power of ten, near a quarter of the span. */
function niceStep(span: number): number {
  const rough = span / 4;
  const power = 10 ** Math.floor(Math.log10(rough));
  return [1, 2, 5, 10].map((m) => m * power).find((step) => step >= rough) ?? rough;
}

function defaultTicks(s: Scale): number[] {
  if (!s.log) {
    const step = niceStep(s.max - s.min || 1);
    const ticks: number[] = [];
    for (let value = Math.ceil(s.min / step) * step; value <= s.max + step * 1e-9 && ticks.length < 12; value += step) ticks.push(value);
    return ticks;
  }
  const ticks: number[] = [];
  for (let decade = Math.floor(Math.log10(s.min)); decade <= Math.ceil(Math.log10(s.max)); decade++) {
    const value = 10 ** decade;
    if (value >= s.min * 0.999 && value <= s.max * 1.001) ticks.push(value);
  }
  return ticks.length > 0 ? ticks : [s.min, s.max];
}

const shortNumber = (value: number) => (Math.abs(value) >= 100 || Number.isInteger(value) ? String(Math.round(value)) : value.toPrecision(2));

export function linePanel(panel: Panel): string {
  const { left, top, width, height } = panel;
  const xs = scale(panel.x, panel.series.flatMap((s) => s.points.map(([x]) => x)), left, width, false);
  const ys = scale(panel.y, panel.series.flatMap((s) => s.points.map(([, y]) => y)), top, height, true);
  const inside = ([x, y]: readonly [number, number]) => Number.isFinite(x) && Number.isFinite(y) && (!xs.log || x > 0) && (!ys.log || y > 0);
  const clampY = (y: number) => Math.min(top + height, Math.max(top, ys.at(y)));
  const xFormat = panel.x.format ?? shortNumber;
  const yFormat = panel.y.format ?? shortNumber;
  const bottom = top + height;
  const parts: string[] = [];
  (panel.bands ?? []).forEach((band, i) => {
    const [from, to] = [xs.at(band.from), xs.at(band.to)];
    if (i % 2 === 1) parts.push(`<rect x="${from.toFixed(1)}" y="${top}" width="${(to - from).toFixed(1)}" height="${height}" fill="#f3f3f3"/>`);
    if (band.label) parts.push(`<text x="${((from + to) / 2).toFixed(1)}" y="${top + 12}" font-size="10" text-anchor="middle" fill="#555">${escape(band.label)}</text>`);
  });
  parts.push(
    `<text x="${left + width / 2}" y="${top - 8}" font-size="13" text-anchor="middle">${escape(panel.title)}</text>`,
    `<line x1="${left}" y1="${bottom}" x2="${left + width}" y2="${bottom}" stroke="#333"/>`,
    `<line x1="${left}" y1="${top}" x2="${left}" y2="${bottom}" stroke="#333"/>`,
    ...(panel.x.ticks ?? defaultTicks(xs)).map((t) => `<text x="${xs.at(t).toFixed(1)}" y="${bottom + 16}" font-size="11" text-anchor="middle">${escape(xFormat(t))}</text>`),
    `<text x="${left + width / 2}" y="${bottom + 34}" font-size="12" text-anchor="middle">${escape(panel.x.label)}</text>`,
    `<text transform="translate(${left - 48},${top + height / 2}) rotate(-90)" font-size="12" text-anchor="middle">${escape(panel.y.label)}</text>`,
    ...(panel.y.ticks ?? defaultTicks(ys)).map(
      (t) => `<g><line x1="${left}" x2="${left + width}" y1="${ys.at(t).toFixed(1)}" y2="${ys.at(t).toFixed(1)}" stroke="#e4e4e4"/><text x="${left - 6}" y="${(ys.at(t) + 4).toFixed(1)}" font-size="11" text-anchor="end">${escape(yFormat(t))}</text></g>`,
    ),
  );
  let previousLabel = { x: -Infinity, row: 1 };
  for (const marker of panel.markers ?? []) {
    const x = xs.at(marker.x);
    const colour = marker.colour ?? '#c00';
    parts.push(`<line x1="${x.toFixed(1)}" y1="${top}" x2="${x.toFixed(1)}" y2="${bottom}" stroke="${colour}" stroke-dasharray="4 3"/>`);
    if (!marker.label) continue;
    const row = x - previousLabel.x < 8 * marker.label.length + 4 ? 1 - previousLabel.row : 0;
    previousLabel = { x, row };
    parts.push(`<text x="${(x + 2).toFixed(1)}" y="${top + 24 + row * 12}" font-size="10" fill="${colour}">${escape(marker.label)}</text>`);
  }
  panel.series.forEach((s, i) => {
    const colour = s.colour ?? COLOURS[i % COLOURS.length]!;
    if (!s.points.some(inside)) return;
    // A point without a value (no data that second) breaks the line rather than being bridged.
    let broken = true;
    const path = s.points
      .map((point) => {
        if (!inside(point)) {
          broken = true;
          return '';
        }
        const step = `${broken ? 'M' : 'L'}${xs.at(point[0]).toFixed(1)},${clampY(point[1]).toFixed(1)}`;
        broken = false;
        return step;
      })
      .filter(Boolean)
      .join(' ');
    parts.push(`<path d="${path}" fill="none" stroke="${colour}" stroke-width="1.5"/>`);
  });
  return parts.join('\n');
}

/** One row of coloured keys, from (x, y). */
export function legend(entries: readonly { readonly name: string; readonly colour: string }[], x: number, y: number, step = 150): string {
  return entries
    .map(({ name, colour }, i) => `<g transform="translate(${x + i * step},${y})"><rect width="14" height="4" y="-4" fill="${colour}"/><text x="20" font-size="13">${escape(name)}</text></g>`)
    .join('');
}

export function svgDocument(width: number, height: number, title: string, body: readonly string[]): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
<text x="${width / 2}" y="24" font-size="16" text-anchor="middle">${escape(title)}</text>
${body.join('\n')}
</svg>
`;
}

export function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
