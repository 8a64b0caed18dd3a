import { describe, expect, it } from 'vitest';
import { chunksOf, entryChunksOf } from '../../../src/backends/chunks.js';

describe('chunksOf', () => {
  it('cuts a list into consecutive pieces of at most the given size, in order', () => {
    const items = Array.from({ length: 10 }, (_, i) => i);
    expect(chunksOf(items, 4)).toEqual([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]);
    expect(chunksOf(items, 10)).toEqual([items]);
    expect(chunksOf([], 4)).toEqual([]);
  });

  it('handles a list far past what a call could take as spread arguments', () => {
    const items = Array.from({ length: 500_000 }, (_, i) => i);
    const pieces = chunksOf(items);
    expect(pieces.flat()).toEqual(items);
    expect(Math.max(...pieces.map((piece) => piece.length))).toBeLessThanOrEqual(8192);
  });
});

describe('entryChunksOf', () => {
  const entry = (key: string, bytes: number) => [key, { bytes: Buffer.alloc(bytes), flags: 0 }] as const;

  it('closes a piece at the entry count or before the value bytes would pass the limit', () => {
    const entries = [entry('a', 40), entry('b', 40), entry('c', 40), entry('d', 10), entry('e', 10), entry('f', 10)];
    expect(entryChunksOf(entries, 100, 100).map((piece) => piece.map(([key]) => key))).toEqual([['a', 'b'], ['c', 'd', 'e', 'f']]);
    expect(entryChunksOf(entries, 2, 1000).map((piece) => piece.map(([key]) => key))).toEqual([['a', 'b'], ['c', 'd'], ['e', 'f']]);
  });

  it('gives an entry larger than the byte limit a piece of its own', () => {
    const entries = [entry('small', 1), entry('huge', 500), entry('tail', 1)];
    expect(entryChunksOf(entries, 100, 100).map((piece) => piece.map(([key]) => key))).toEqual([['small'], ['huge'], ['tail']]);
  });
});
