/**
 * README.md's configuration table is the reference users read; it must not
 * drift from the code. Parsed here and compared both ways with:
 * - the `SHARDCACHE_*` variables src/config/env.ts reads, and the option each
 *   one sets;
 * - the option names validation accepts;
 * - the defaults in DEFAULTS, where the table gives a literal.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ENV_VARIABLE_NAMES, optionsFromEnv } from '../../../src/config/env.js';
import { DEFAULTS } from '../../../src/config/options.js';
import { OPTION_NAMES } from '../../../src/config/validate.js';

const readme = readFileSync(fileURLToPath(new URL('../../../README.md', import.meta.url)), 'utf8');
const envSource = readFileSync(fileURLToPath(new URL('../../../src/config/env.ts', import.meta.url)), 'utf8');

interface Row {
  option: string;
  defaultCell: string;
  variables: string[];
}

/** The table whose header is `| option | default | meaning | environment |`. */
function configurationTable(): Row[] {
  const lines = readme.split('\n');
  const start = lines.findIndex((line) => /^\|\s*option\s*\|\s*default\s*\|\s*meaning\s*\|\s*environment\s*\|\s*$/.test(line));
  expect(start, 'README.md has no "| option | default | meaning | environment |" table').toBeGreaterThanOrEqual(0);
  const rows: Row[] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    // Cells split on unescaped pipes; no cell of this table holds a pipe.
    const cells = line.slice(1, -1).split('|').map((cell) => cell.trim());
    expect(cells, line).toHaveLength(4);
    const option = /^`([^`]+)`$/.exec(cells[0]!)?.[1];
    expect(option, `option cell ${cells[0]}`).toBeDefined();
    rows.push({ option: option!, defaultCell: cells[1]!, variables: cells[3]!.match(/SHARDCACHE_[A-Z0-9_]+/g) ?? [] });
  }
  return rows;
}

/** The dotted option path a variable sets, found by setting it. */
function optionSetBy(variable: string): string[] {
  const paths: string[] = [];
  const walk = (value: unknown, prefix: string) => {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      for (const [key, inner] of Object.entries(value)) walk(inner, prefix === '' ? key : `${prefix}.${key}`);
    } else paths.push(prefix);
  };
  walk(optionsFromEnv({ [variable]: '1' }), '');
  return paths;
}

const rows = configurationTable();

describe('README configuration table', () => {
  it('lists every SHARDCACHE_* variable env.ts reads, and none that it does not', () => {
    const documented = rows.flatMap((row) => row.variables).sort();
    const read = [...ENV_VARIABLE_NAMES].sort();
    expect({ missingFromReadme: read.filter((v) => !documented.includes(v)), notReadByEnvTs: documented.filter((v) => !read.includes(v)) }).toEqual({ missingFromReadme: [], notReadByEnvTs: [] });
    expect(new Set(documented).size, 'a variable listed twice').toBe(documented.length);
  });

  it('ENV_VARIABLE_NAMES is every variable named in env.ts', () => {
    const named = [...new Set(envSource.match(/SHARDCACHE_[A-Z0-9]+(?:_[A-Z0-9]+)*/g) ?? [])].sort();
    expect(named).toEqual([...ENV_VARIABLE_NAMES].sort());
  });

  it.each(rows.filter((row) => row.variables.length > 0).map((row) => [row.variables[0]!, row] as const))('%s sets the option of its row', (variable, row) => {
    expect(row.variables).toHaveLength(1);
    expect(optionSetBy(variable)).toEqual([row.option]);
  });

  it('lists every option validation accepts, and none that it refuses', () => {
    const documented = rows.map((row) => row.option).sort();
    const accepted = [...OPTION_NAMES].sort();
    expect({ missingFromReadme: accepted.filter((o) => !documented.includes(o)), unknownOptions: documented.filter((o) => !accepted.includes(o)) }).toEqual({ missingFromReadme: [], unknownOptions: [] });
  });

  it('gives the defaults DEFAULTS holds, where it writes a literal; required options say so', () => {
    for (const { option, defaultCell } of rows) {
      if (option === 'backend' || option === 'nodes') {
        expect(defaultCell, option).toBe('required');
        continue;
      }
      const literal = /^`([^`]+)`/.exec(defaultCell)?.[1];
      if (literal === undefined) continue;
      let value: unknown;
      try {
        value = JSON.parse(literal.replace(/'/g, '"'));
      } catch {
        continue; // an elided list such as [0.0001 … 1]
      }
      const fallback = option.split('.').reduce<unknown>((at, part) => (at as Record<string, unknown>)?.[part], DEFAULTS);
      expect(value, `${option}: README says ${literal}`).toEqual(fallback);
    }
  });
});
