import { fc, test } from '@fast-check/vitest';
import memjs from 'memjs';
import { describe, expect, it } from 'vitest';
import { KeyFrameCursor, keyFrames } from '../../../src/backends/memcached-frames.js';

const EMPTY = Buffer.alloc(0);
const memjsFrame = (opcode: number, key: string, opaque: number) => memjs.Utils.makeRequestBuffer(opcode, key, EMPTY, EMPTY, opaque);

describe('key-only request frames', () => {
  it('are byte for byte what memjs builds, for ASCII and multi-byte keys', () => {
    const keys = ['a', 'user:42:profile', '键:値', 'x'.repeat(250)];
    for (const key of keys) expect(keyFrames(0x00, [key], 7)).toEqual(memjsFrame(0x00, key, 7));
  });

  it('concatenate a batch and end it with a keyless trailer', () => {
    const keys = ['k1', 'ключ', 'k3'];
    const expected = Buffer.concat([...keys.map((key) => memjsFrame(0x0d, key, 0xfffffffe)), memjsFrame(0x0a, '', 0xfffffffe)]);
    expect(keyFrames(0x0d, keys, 0xfffffffe, 0x0a)).toEqual(expected);
  });
});

describe('KeyFrameCursor', () => {
  /** What the cursor replaces: decode the answered key, find it at or after the last match. */
  function byIndexOf(keys: readonly string[], answers: readonly string[]): number[] {
    let next = 0;
    return answers.map((answer) => {
      const index = keys.indexOf(answer, next);
      if (index !== -1) next = index + 1;
      return index;
    });
  }

  function byCursor(keys: readonly string[], answers: readonly string[]): number[] {
    const cursor = new KeyFrameCursor(keyFrames(0x0d, keys, 1, 0x0a), keys.length);
    return answers.map((answer) => cursor.advanceTo(Buffer.from(answer, 'utf8')));
  }

  it('places the hits of a batch with misses and repeats, and refuses an answer out of order', () => {
    const keys = ['a:1', 'a:2', 'ключ', 'a:1', 'a:10'];
    expect(byCursor(keys, ['a:2', 'a:1', 'a:10'])).toEqual([1, 3, 4]);
    expect(byCursor(keys, ['a:1', 'a:1', 'a:1'])).toEqual([0, 3, -1]);
    expect(byCursor(keys, ['ключ', 'a:2'])).toEqual([2, -1]);
    expect(byCursor(keys, ['a:3'])).toEqual([-1]);
  });

  // Keys from a small alphabet, so answers often share prefixes, suffixes and lengths with other keys.
  const key = fc.string({ unit: fc.constantFrom('a', 'b', ':', 'é', '键'), minLength: 1, maxLength: 4 });

  test.prop([fc.array(key, { maxLength: 30 }), fc.array(key, { maxLength: 30 })])('agrees with indexOf on the decoded key, for any keys and answers', (keys, answers) => {
    expect(byCursor(keys, answers)).toEqual(byIndexOf(keys, answers));
  });

  test.prop([fc.array(key, { minLength: 1, maxLength: 30 }).chain((keys) => fc.tuple(fc.constant(keys), fc.subarray(keys.map((_, i) => i))))])(
    'places every hit of an in-order answer run at its own key',
    ([keys, hits]) => {
      const placed = byCursor(keys, hits.map((i) => keys[i]!));
      // A repeated key answers at its first unanswered occurrence: same key, maybe an earlier position.
      expect(placed.every((index, n) => index !== -1 && keys[index] === keys[hits[n]!] && index <= hits[n]!)).toBe(true);
    },
  );
});
