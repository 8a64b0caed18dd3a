/**
 * The refresh-ahead entry format (codec/stamp.ts): a 24-byte header before
 * the value format's bytes, flags kept, and nothing another format writes
 * taken for it.
 */
import { describe, expect, it } from 'vitest';
import { valueFormat, type Codec } from '../../../src/codec/codec.js';
import { decodeStored, encodeStamped, Stamped } from '../../../src/codec/stamp.js';

const typed = valueFormat('default', true);
const marked = valueFormat('default', false);

describe('stamped entries', () => {
  it('round-trip value, flags, expiry and load time, with the documented header', () => {
    for (const format of [typed, marked, valueFormat('raw', true), valueFormat('legacy', true)]) {
      const inner = format.encode('hello');
      const stored = encodeStamped(new Stamped('hello', 1_764_600_000_123.5, 42.25), inner);
      expect(stored.bytes.subarray(0, 8).toString('latin1')).toBe('\xC1refresh');
      expect(stored.bytes.readDoubleBE(8)).toBe(1_764_600_000_123.5);
      expect(stored.bytes.readDoubleBE(16)).toBe(42.25);
      expect(stored.bytes.subarray(24)).toEqual(inner.bytes);
      expect(stored.flags).toBe(inner.flags);
      expect(decodeStored(stored, format)).toEqual(new Stamped('hello', 1_764_600_000_123.5, 42.25));
    }
  });

  it('reads plain entries through the format as they are, on both default formats', () => {
    for (const format of [typed, marked]) {
      for (const value of ['plain', '\u00c1refresh and more text', { a: 1 }, [1, 2], 0, Buffer.from('\xC1re', 'latin1')]) {
        expect(decodeStored(format.encode(value), format)).toEqual(value);
      }
    }
  });

  it('never takes text for a stamped entry: 0xC1 starts no UTF-8, and strings with control characters are marked on Redis', () => {
    const lookalike = '\u00c1refresh' + 'x'.repeat(40);
    expect(decodeStored(typed.encode(lookalike), typed)).toBe(lookalike);
    expect(decodeStored(marked.encode(lookalike), marked)).toBe(lookalike);
  });

  it('takes bytes for a stamped entry only with the whole header and a finite expiry and load time', () => {
    const raw: Codec = { encode: (value) => value as Buffer, decode: (bytes) => bytes.toString('latin1') };
    const format = valueFormat(raw, true);
    const short = Buffer.concat([Buffer.from('\xC1refresh', 'latin1'), Buffer.alloc(8)]);
    expect(decodeStored({ bytes: short, flags: 0 }, format)).toBe(short.toString('latin1'));
    const notFinite = Buffer.concat([Buffer.from('\xC1refresh', 'latin1'), Buffer.alloc(16, 0xff), Buffer.from('v')]);
    expect(decodeStored({ bytes: notFinite, flags: 0 }, format)).toBe(notFinite.toString('latin1'));
  });
});
