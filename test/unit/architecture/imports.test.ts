/**
 * The layout's rules, read off the import graph of src/:
 * - no cycle between files, nor between folders (a root file counts as a
 *   folder of its own);
 * - layers import one way, outer to inner: cache -> loader -> routing ->
 *   node -> backends, and routing -> ring;
 * - nothing in the core imports observability/, which only reads counters:
 *   only the composition root (create-cache.ts) and the public entry points
 *   wire it in. Type-only imports are allowed (they are erased at run time),
 *   so the facade can name the report shapes it returns.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../../../src/', import.meta.url));
/** Outer to inner: a folder may import folders after it in this list, never before. */
const LAYERS = ['cache', 'loader', 'routing', 'node', 'backends'];
/** Files allowed to import observability/ at run time. */
const ROOTS = new Set(['create-cache.ts', 'index.ts', 'testing.ts', 'cli.ts']);

interface Edge {
  readonly from: string;
  readonly to: string;
  readonly typeOnly: boolean;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') && !path.endsWith('.d.ts') ? [path] : [];
  });
}

const IMPORT = /^\s*(?:import|export)\s+(type\s+)?(?:[^'";]*?\s+from\s+)?'(\.{1,2}\/[^']+)'/gm;

function edges(): Edge[] {
  const found: Edge[] = [];
  for (const file of sourceFiles(SRC)) {
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(IMPORT)) {
      const target = resolve(dirname(file), match[2]!.replace(/\.js$/, '.ts'));
      found.push({ from: relative(SRC, file), to: relative(SRC, target), typeOnly: match[1] !== undefined });
    }
  }
  return found;
}

/** A folder, or a root-level file as its own unit. */
function unitOf(file: string): string {
  const dir = dirname(file);
  return dir === '.' ? file : dir.split('/')[0]!;
}

function findCycle(graph: Map<string, Set<string>>): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (node: string): string[] | undefined => {
    if (state.get(node) === 'done') return undefined;
    if (state.get(node) === 'open') return [...path.slice(path.indexOf(node)), node];
    state.set(node, 'open');
    path.push(node);
    for (const next of graph.get(node) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    path.pop();
    state.set(node, 'done');
    return undefined;
  };
  for (const node of graph.keys()) {
    const cycle = visit(node);
    if (cycle) return cycle;
  }
  return undefined;
}

function graphOf(pairs: readonly [string, string][]): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const [from, to] of pairs) {
    if (from === to) continue;
    if (!graph.has(from)) graph.set(from, new Set());
    graph.get(from)!.add(to);
  }
  return graph;
}

describe('the import graph of src/', () => {
  const all = edges();

  it('is read (the parser finds the imports it is meant to judge)', () => {
    expect(all.length).toBeGreaterThan(100);
    expect(all).toContainEqual({ from: 'create-cache.ts', to: 'routing/router.ts', typeOnly: false });
  });

  it('has no cycle between files', () => {
    expect(findCycle(graphOf(all.map((edge) => [edge.from, edge.to])))).toBeUndefined();
  });

  it('has no cycle between folders', () => {
    expect(findCycle(graphOf(all.map((edge) => [unitOf(edge.from), unitOf(edge.to)])))).toBeUndefined();
  });

  it('points from outer layers to inner ones only', () => {
    const inward = all.filter((edge) => {
      const from = LAYERS.indexOf(unitOf(edge.from));
      const to = LAYERS.indexOf(unitOf(edge.to));
      return from !== -1 && to !== -1 && to < from;
    });
    expect(inward).toEqual([]);
  });

  it('keeps observability/ out of the core at run time', () => {
    const intoObservability = all.filter((edge) => unitOf(edge.to) === 'observability' && unitOf(edge.from) !== 'observability' && !edge.typeOnly && !ROOTS.has(edge.from));
    expect(intoObservability).toEqual([]);
  });
});
