import { describe, expect, it } from 'vitest';
import { scatter } from '../../../src/routing/scatter.js';

describe('scatter', () => {
  const owner = (key: string) => key[0]!;

  it('makes one batch per node, keys in first-seen order, with their places in the list', () => {
    const { batches, repeats } = scatter(['a1', 'b1', 'a2', 'c1', 'b2'], owner);
    expect(batches.map((b) => [b.node, b.keys, b.positions])).toEqual([
      ['a', ['a1', 'a2'], [0, 2]],
      ['b', ['b1', 'b2'], [1, 4]],
      ['c', ['c1'], [3]],
    ]);
    expect(repeats).toEqual([]);
  });

  it('asks for a repeated key once and reports where its copies go', () => {
    const { batches, repeats } = scatter(['a1', 'a1', 'b1', 'a1'], owner);
    expect(batches.map((b) => b.keys)).toEqual([['a1'], ['b1']]);
    expect(repeats).toEqual([
      { at: 1, sameAs: 0 },
      { at: 3, sameAs: 0 },
    ]);
  });

  it('keeps the caller-given places of a subset', () => {
    const { batches } = scatter(['b2', 'a9'], owner, [7, 3]);
    expect(batches.map((b) => [b.keys, b.positions])).toEqual([
      [['b2'], [7]],
      [['a9'], [3]],
    ]);
  });

  it('reports a repeat within a subset by its caller-given place', () => {
    const { batches, repeats } = scatter(['b2', 'a9', 'b2'], owner, [7, 3, 5]);
    expect(batches.map((b) => [b.keys, b.positions])).toEqual([
      [['b2'], [7]],
      [['a9'], [3]],
    ]);
    expect(repeats).toEqual([{ at: 5, sameAs: 7 }]);
  });

  it('handles no keys', () => {
    expect(scatter([], owner)).toEqual({ batches: [], repeats: [] });
  });
});
