import { describe, expect, it } from 'vitest';
import { defaultCodec } from '../../../src/codec/codec.js';
import { InvalidValueError } from '../../../src/errors.js';

const roundTrip = (value: unknown) => defaultCodec.decode(defaultCodec.encode(value));

describe('default codec', () => {
  it('round-trips JSON values, strings and Buffers with their types', () => {
    for (const value of [{ a: [1, 'x', null] }, [1, 2], 42, 0, -1.5, true, false, null, 'text', '', '42', '{"a":1}', 'ключ 键']) {
      expect(roundTrip(value)).toEqual(value);
    }
    const bytes = Buffer.from([0, 1, 2, 255]);
    expect(roundTrip(bytes)).toEqual(bytes);
    expect(Buffer.isBuffer(roundTrip(Buffer.from('text')))).toBe(true);
  });

  it('stores strings as their UTF-8 bytes, readable by other clients', () => {
    expect(defaultCodec.encode('hello')).toEqual(Buffer.from('hello'));
    expect(defaultCodec.decode(Buffer.from('written by pylibmc'))).toBe('written by pylibmc');
  });

  it('escapes strings that start with a marker byte', () => {
    for (const value of ['\u0000x', '\u0001', '\u0002y']) expect(roundTrip(value)).toBe(value);
  });

  it('rejects values JSON cannot hold with a typed error', () => {
    expect(() => defaultCodec.encode(10n)).toThrow(InvalidValueError);
    expect(() => defaultCodec.encode(() => 1)).toThrow(InvalidValueError);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => defaultCodec.encode(cyclic)).toThrow(InvalidValueError);
  });

  it('throws on corrupt JSON, which the cache turns into a miss', () => {
    expect(() => defaultCodec.decode(Buffer.from([0, 0x7b]))).toThrow();
  });
});
