#!/usr/bin/env node
/**
 * `shardcache dist`: how evenly each placement spreads keys across ring
 * sizes, how many keys move when a node leaves or joins, and lookup speed.
 * Prints a table (or JSON), and writes an SVG chart when asked.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { distributionChart } from './tools/chart.js';
import { analyze, type DistributionRow } from './tools/distribution.js';
import { schemes } from './tools/placements.js';

const USAGE = `usage: shardcache dist [options]

  --sizes 2,5,10,...   ring sizes (default 2,3,5,10,20,50,100,200,500,1000)
  --keys N             keys placed per ring (default 100000)
  --points N           points per server in fast mode (default 160)
  --weights LIST       'equal' or weights cycled over the nodes, e.g. 1,2,3 (default equal)
  --schemes LIST       any of ketama,fast,maglev,hashring,jump (default all available)
  --json               print JSON instead of a table
  --svg FILE           also write a chart of balance and moved share
  --quiet              no progress on stderr`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command !== 'dist') {
    process.stderr.write(`${USAGE}\n`);
    return command === undefined || command === '--help' || command === '-h' ? 0 : 2;
  }
  const { values } = parseArgs({
    args: rest,
    options: {
      sizes: { type: 'string', default: '2,3,5,10,20,50,100,200,500,1000' },
      keys: { type: 'string', default: '100000' },
      points: { type: 'string', default: '160' },
      weights: { type: 'string', default: 'equal' },
      schemes: { type: 'string' },
      json: { type: 'boolean', default: false },
      svg: { type: 'string' },
      quiet: { type: 'boolean', default: false },
    },
  });
  const sizes = positiveIntegers(values.sizes, '--sizes', 100_000);
  const [keys] = positiveIntegers(values.keys, '--keys', 10_000_000);
  const [points] = positiveIntegers(values.points, '--points', 10_000);
  const weights = values.weights === 'equal' ? 'equal' : positiveIntegers(values.weights, '--weights', 1_000_000);
  const available = await schemes(points!);
  const wanted = values.schemes?.split(',');
  const unknown = wanted?.filter((name) => !available.some((scheme) => scheme.name === name));
  if (unknown?.length) throw new UsageError(`--schemes: unknown or unavailable ${unknown.join(', ')} (available: ${available.map((s) => s.name).join(', ')})`);
  const chosen = wanted ? available.filter((scheme) => wanted.includes(scheme.name)) : available;

  const rows = analyze(chosen, {
    sizes,
    keys: keys!,
    weights,
    onStep: values.quiet ? undefined : (step, steps, scheme, size) => process.stderr.write(`\r[${step}/${steps}] ${scheme} with ${size} nodes`.padEnd(48)),
  });
  if (!values.quiet) process.stderr.write('\r'.padEnd(49) + '\r');

  if (values.json) {
    process.stdout.write(`${JSON.stringify({ keys, weights, points, schemes: chosen.map((s) => ({ name: s.name, description: s.description })), rows }, null, 2)}\n`);
  } else {
    process.stdout.write(`${keys} keys per ring; weights ${weights === 'equal' ? 'equal' : weights.join(',')}\n`);
    for (const scheme of chosen) process.stdout.write(`  ${scheme.name.padEnd(9)} ${scheme.description}\n`);
    process.stdout.write(`${renderTable(rows)}\n`);
  }
  if (values.svg) {
    writeFileSync(values.svg, distributionChart(rows, `Key distribution, ${keys} keys, weights ${weights === 'equal' ? 'equal' : weights.join(',')}`));
    if (!values.quiet) process.stderr.write(`chart written to ${values.svg}\n`);
  }
  return 0;
}

function renderTable(rows: readonly DistributionRow[]): string {
  const percent = (value: number | undefined) => (value === undefined ? '-' : `${(value * 100).toFixed(2)}%`);
  const header = ['scheme', 'nodes', 'CV', 'noise floor', 'max/mean', 'min/mean', 'max/mean exact', 'moved (remove)', 'ideal', 'between others', 'moved (add)', 'ideal', 'ns/lookup'];
  const body = rows.map((row) => [
    row.scheme,
    String(row.nodes),
    row.cv.toFixed(4),
    row.samplingNoiseCv.toFixed(4),
    row.maxOverMean.toFixed(3),
    row.minOverMean.toFixed(3),
    row.exactMaxOverMean === undefined ? '-' : row.exactMaxOverMean.toFixed(4),
    percent(row.movedOnRemove),
    percent(row.idealOnRemove),
    row.movedBetweenOthers === undefined ? '-' : String(row.movedBetweenOthers),
    percent(row.movedOnAdd),
    percent(row.idealOnAdd),
    row.nsPerLookup.toFixed(0),
  ]);
  const widths = header.map((_, i) => Math.max(header[i]!.length, ...body.map((cells) => cells[i]!.length)));
  const line = (cells: string[]) => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
  return [line(header), ...body.map(line)].join('\n');
}

class UsageError extends Error {}

function positiveIntegers(text: string, option: string, max: number): number[] {
  const values = text.split(',').map((part) => Number(part.trim()));
  if (values.length === 0 || values.some((value) => !Number.isInteger(value) || value < 1 || value > max)) {
    throw new UsageError(`${option}: expected positive integers up to ${max}, got ${JSON.stringify(text)}`);
  }
  return values;
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof UsageError ? `${error.message}\n\n${USAGE}` : String(error)}\n`);
    process.exitCode = error instanceof UsageError ? 2 : 1;
  },
);
