import { describe, expect, it } from 'vitest';
import { gather, scatter } from '../../../src/cache/scatter.js';

describe('scatter/gather', () => {
  const owner = (key: string) => key[0]!;

  it('makes one batch per node and restores the caller order', () => {
    const keys = ['a1', 'b1', 'a2', 'c1', 'b2'];
    const batches = scatter(keys, owner);
    expect(batches.map((b) => [b.node, b.keys])).toEqual([['a', ['a1', 'a2']], ['b', ['b1', 'b2']], ['c', ['c1']]]);
    const out: string[] = new Array(keys.length);
    for (const batch of batches) gather(batch, batch.keys.map((k) => k.toUpperCase()), out);
    expect(out).toEqual(['A1', 'B1', 'A2', 'C1', 'B2']);
  });

  it('asks for a repeated key once and answers every position', () => {
    const keys = ['a1', 'a1', 'b1', 'a1'];
    const batches = scatter(keys, owner);
    expect(batches.map((b) => b.keys)).toEqual([['a1'], ['b1']]);
    const out: number[] = new Array(keys.length);
    for (const batch of batches) gather(batch, batch.keys.map((k) => k.length), out);
    expect(out).toEqual([2, 2, 2, 2]);
  });

  it('handles no keys', () => {
    expect(scatter([], owner)).toEqual([]);
  });
});
