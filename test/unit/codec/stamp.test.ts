/**
 * The refresh-ahead entry format (codec/stamp.ts): a 20-byte header before
 * the codec's bytes, and nothing the default codec writes can be taken for it.
 */
import { describe, expect, it } from 'vitest';
import { defaultCodec, type Codec } from '../../../src/codec/codec.js';
import { decodeStored, encodeStamped, Stamped } from '../../../src/codec/stamp.js';

describe('stamped entries', () => {
  it('round-trip value, expiry and load time, with the documented header', () => {
    const bytes = encodeStamped(new Stamped({ id: 7 }, 1_764_600_000_123.5, 42.25), defaultCodec.encode({ id: 7 }));
    expect([...bytes.subarray(0, 4)]).toEqual([0x03, 0x72, 0x61, 0x01]);
    expect(bytes.readDoubleBE(4)).toBe(1_764_600_000_123.5);
    expect(bytes.readDoubleBE(12)).toBe(42.25);
    expect(bytes.subarray(20)).toEqual(defaultCodec.encode({ id: 7 }));
    expect(decodeStored(bytes, defaultCodec)).toEqual(new Stamped({ id: 7 }, 1_764_600_000_123.5, 42.25));
  });

  it('reads plain entries through the codec as they are', () => {
    for (const value of ['plain', { a: 1 }, Buffer.from([3, 0x72, 0x61, 1]), 0]) {
      expect(decodeStored(defaultCodec.encode(value), defaultCodec)).toEqual(value);
    }
  });

  it('never takes a string the default codec wrote for a stamped entry, even one spelling the header', () => {
    const lookalike = '\x03ra\x01' + 'x'.repeat(40);
    const encoded = defaultCodec.encode(lookalike);
    expect(encoded[0]).toBe(0x02);
    expect(decodeStored(encoded, defaultCodec)).toBe(lookalike);
  });

  it('passes bytes too short for a header to the codec', () => {
    const raw: Codec = { encode: (value) => value as Buffer, decode: (bytes) => bytes.toString('latin1') };
    expect(decodeStored(Buffer.from([0x03, 0x72, 0x61, 0x01, 0x00]), raw)).toBe('\x03ra\x01\x00');
  });
});
