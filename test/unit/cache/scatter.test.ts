import { describe, expect, it } from 'vitest';
import { scatter } from '../../../src/cache/scatter.js';

describe('scatter', () => {
  const owner = (key: string) => key[0]!;

  it('makes one batch per node, keys in first-seen order', () => {
    const batches = scatter(['a1', 'b1', 'a2', 'c1', 'b2'], owner);
    expect(batches.map((b) => [b.node, b.keys])).toEqual([['a', ['a1', 'a2']], ['b', ['b1', 'b2']], ['c', ['c1']]]);
  });

  it('asks for a repeated key once', () => {
    expect(scatter(['a1', 'a1', 'b1', 'a1'], owner).map((b) => b.keys)).toEqual([['a1'], ['b1']]);
  });

  it('handles no keys', () => {
    expect(scatter([], owner)).toEqual([]);
  });
});
