import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { scatter, type Placement } from '../../../src/routing/scatter.js';

const nodeOf = (key: string) => key[0]!;
/** A string hash as the ring's would be: equal keys, equal hashes. */
function stringHash(key: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

const PLACEMENTS: [string, Placement<string>][] = [
  ['by key (repeats found with a Set)', { ownerOf: nodeOf }],
  ['by hash (repeats found in the hash table)', { hashOf: stringHash, ownerOf: (key) => nodeOf(key) }],
  ['by a hash every key shares (a hash tag)', { hashOf: () => 7, ownerOf: (key) => nodeOf(key) }],
];

describe.each(PLACEMENTS)('scatter, %s', (_name, placement) => {
  it('makes one batch per node, keys in first-seen order, with their places in the list', () => {
    const { batches, repeats } = scatter(['a1', 'b1', 'a2', 'c1', 'b2'], placement);
    expect(batches.map((b) => [b.node, b.keys, b.positions])).toEqual([
      ['a', ['a1', 'a2'], [0, 2]],
      ['b', ['b1', 'b2'], [1, 4]],
      ['c', ['c1'], [3]],
    ]);
    expect(repeats).toEqual([]);
  });

  it('asks for a repeated key once and reports where its copies go', () => {
    const { batches, repeats } = scatter(['a1', 'a1', 'b1', 'a1'], placement);
    expect(batches.map((b) => b.keys)).toEqual([['a1'], ['b1']]);
    expect(repeats).toEqual([
      { at: 1, sameAs: 0 },
      { at: 3, sameAs: 0 },
    ]);
  });

  it('keeps the caller-given places of a subset', () => {
    const { batches } = scatter(['b2', 'a9'], placement, [7, 3]);
    expect(batches.map((b) => [b.keys, b.positions])).toEqual([
      [['b2'], [7]],
      [['a9'], [3]],
    ]);
  });

  it('reports a repeat within a subset by its caller-given place', () => {
    const { batches, repeats } = scatter(['b2', 'a9', 'b2'], placement, [7, 3, 5]);
    expect(batches.map((b) => [b.keys, b.positions])).toEqual([
      [['b2'], [7]],
      [['a9'], [3]],
    ]);
    expect(repeats).toEqual([{ at: 5, sameAs: 7 }]);
  });

  it('handles no keys', () => {
    expect(scatter([], placement)).toEqual({ batches: [], repeats: [] });
  });
});

describe('scatter by hash: the same answer as by key', () => {
  const key = fc.tuple(fc.constantFrom('a', 'b', 'c'), fc.nat(40)).map(([node, n]) => `${node}${n}`);
  // A hash of few bits makes different keys share hashes, as hash tags and plain collisions do.
  const hashes = fc.constantFrom<[string, (key: string) => number]>(['full', stringHash], ['4 bits', (k) => stringHash(k) & 0xf], ['one value', () => 0]);

  test.prop([fc.array(fc.array(key, { maxLength: 120 }), { minLength: 1, maxLength: 4 }), hashes], { numRuns: 500 })('for any lists, one call after another', (lists, [, hashOf]) => {
    // Several calls in a row: the table is reused, and each call must see only its own keys.
    for (const keys of lists) expect(scatter(keys, { hashOf, ownerOf: (k) => nodeOf(k) })).toEqual(scatter(keys, { ownerOf: nodeOf }));
  });

  it('past the table size (more than 32,768 keys), with repeats', () => {
    const keys = Array.from({ length: 40_000 }, (_, i) => `${'abc'[i % 3]}${i % 39_000}`);
    expect(scatter(keys, { hashOf: stringHash, ownerOf: (k) => nodeOf(k) })).toEqual(scatter(keys, { ownerOf: nodeOf }));
  });
});
