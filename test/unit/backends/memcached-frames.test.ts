import memjs from 'memjs';
import { describe, expect, it } from 'vitest';
import { keyFrames } from '../../../src/backends/memcached-frames.js';

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
