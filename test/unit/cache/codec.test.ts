import { fc, test } from '@fast-check/vitest';
import { isUtf8 } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { valueFormat, type Codec } from '../../../src/codec/codec.js';
import { decodeTyped, encodeTyped, FLAGS } from '../../../src/codec/flags.js';
import { decodeLegacy, encodeLegacy } from '../../../src/codec/legacy.js';
import { decodeMarked, encodeMarked, MARKER } from '../../../src/codec/marked-bytes.js';
import { utf8TextOf } from '../../../src/codec/utf8.js';
import { InvalidValueError } from '../../../src/errors.js';

const TYPED_VALUES: unknown[] = [{ a: [1, 'x', null] }, [1, 2], 42, 0, -1.5, 2 ** 60, true, false, null, 'text', '', '42', '{"a":1}', 'ключ 键', '\u0000x', '\u0001', 'a\tb\r\n', 'lone \ud800', 10n ** 30n];

describe('default codec on memcached: the type in the flags', () => {
  it('round-trips JSON values, strings, integers, BigInts and Buffers with their types', () => {
    for (const value of TYPED_VALUES) {
      const { bytes, flags } = encodeTyped(value);
      expect(decodeTyped(bytes, flags)).toStrictEqual(value);
    }
    const buffer = Buffer.from([0, 1, 2, 255]);
    const stored = encodeTyped(buffer);
    expect(stored).toEqual({ bytes: buffer, flags: FLAGS.bytes });
    expect(decodeTyped(stored.bytes, stored.flags)).toEqual(buffer);
  });

  it('stores the value alone, with no marker byte', () => {
    expect(encodeTyped('\u0000x')).toEqual({ bytes: Buffer.from('\u0000x'), flags: 16 });
    expect(encodeTyped(42)).toEqual({ bytes: Buffer.from('42'), flags: 4 });
    expect(encodeTyped(true)).toEqual({ bytes: Buffer.from('1'), flags: 2 });
    expect(encodeTyped({ a: 1 })).toEqual({ bytes: Buffer.from('{"a":1}'), flags: 0x10000 });
    expect(encodeTyped(1.5)).toEqual({ bytes: Buffer.from('1.5'), flags: 0x10000 });
  });

  it('reads small integers as numbers and the rest as BigInts, never rounded', () => {
    expect(decodeTyped(Buffer.from('9007199254740991'), 4)).toBe(9007199254740991);
    expect(decodeTyped(Buffer.from('9007199254740993'), 4)).toBe(9007199254740993n);
    expect(decodeTyped(Buffer.from('-9007199254740993'), 4)).toBe(-9007199254740993n);
  });

  it('reads unknown flags, and bytes that do not fit their flag, as a Buffer of the exact bytes', () => {
    const odd = Buffer.from([0x80, 0x04, 0x95, 0xff]);
    for (const flags of [1, 4, 8, 16 | 8, 48, 80, 0x20000, 0xffffffff, FLAGS.json, 2, 3]) {
      const read = decodeTyped(odd, flags);
      expect(Buffer.isBuffer(read), `flags ${flags}`).toBe(true);
      expect(read).toEqual(odd);
    }
    expect(decodeTyped(Buffer.from('{"a":'), FLAGS.json)).toEqual(Buffer.from('{"a":'));
  });

  it('copies what it hands out: the bytes may be a view into a connection buffer', () => {
    const chunk = Buffer.from('xxABCxx');
    const read = decodeTyped(chunk.subarray(2, 5), 0) as Buffer;
    chunk.fill(0);
    expect(read.toString()).toBe('ABC');
  });

  it('rejects values JSON cannot hold with a typed error', () => {
    expect(() => encodeTyped(() => 1)).toThrow(InvalidValueError);
    expect(() => encodeTyped(Symbol('s'))).toThrow(InvalidValueError);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => encodeTyped(cyclic)).toThrow(InvalidValueError);
  });
});

describe('default codec on Redis: text bare, everything else behind a marker no text starts with', () => {
  it('round-trips every value with its type', () => {
    for (const value of [...TYPED_VALUES, Buffer.from([0, 1, 2, 255]), Buffer.alloc(0)]) expect(decodeMarked(encodeMarked(value))).toStrictEqual(value);
  });

  it('stores plain text as its UTF-8 bytes alone, and marks the rest with 0xC1 "sc" and the memcached flags', () => {
    expect(encodeMarked('hello\tthere\n')).toEqual(Buffer.from('hello\tthere\n'));
    expect(encodeMarked(42)).toEqual(Buffer.concat([MARKER, Buffer.from([0, 0, 0, 4]), Buffer.from('42')]));
    expect(encodeMarked('\u0000x')).toEqual(Buffer.concat([MARKER, Buffer.from([0, 0, 0, 16]), Buffer.from('\u0000x')]));
  });

  it('reads bytes it did not write intact: text as a string, anything else as a Buffer of the exact bytes', () => {
    expect(decodeMarked(Buffer.from('written by redis-cli'))).toBe('written by redis-cli');
    for (const foreign of [[0x01, 0x02, 0x72, 0x61, 0x77, 0xff], [0x00, 0x61], [0x02, 0x7b, 0x7d], [0x80, 0x04, 0x95], [0xc1], [0xc1, 0x73, 0x63]]) {
      const bytes = Buffer.from(foreign);
      expect(decodeMarked(bytes), Buffer.from(foreign).toString('hex')).toEqual(bytes);
    }
  });

  // The plain-text check reads eight bytes at a time: it must agree with the
  // rule as written, at every length and at any offset in a larger buffer
  // (reply values are views into a connection's buffer).
  const PLAIN_TEXT_RULE = /^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]*$/;
  const textLike = fc.uint8Array({ maxLength: 40 }).map((bytes) => bytes.map((byte) => (byte % 4 === 0 ? byte : 0x20 + (byte % 0x5f))));
  const awkward = fc.constantFrom(0x00, 0x09, 0x0a, 0x0d, 0x1f, 0x20, 0x7e, 0x7f, 0x80, 0xc3, 0xa9, 0xe2, 0xff);
  test.prop([fc.nat(7), textLike, fc.array(fc.tuple(fc.nat(), awkward), { maxLength: 3 })], { numRuns: 2000 })('reads text as a string exactly when it is UTF-8 without control characters other than tab, CR and LF', (offset, body, changes) => {
    const host = Buffer.alloc(offset + body.length + 3, 0x41);
    const bytes = host.subarray(offset, offset + body.length);
    bytes.set(body);
    for (const [at, byte] of changes) if (bytes.length > 0) bytes[at % bytes.length] = byte;
    if (bytes[0] === MARKER[0]) return;
    const isText = isUtf8(bytes) && PLAIN_TEXT_RULE.test(bytes.toString('utf8'));
    expect(decodeMarked(bytes)).toEqual(isText ? bytes.toString('utf8') : Buffer.from(bytes));
  });
});

describe('UTF-8 text, decoded first and checked after', () => {
  it('tells text that holds U+FFFD from bytes that decode to it', () => {
    expect(utf8TextOf(Buffer.from('plain ascii'))).toBe('plain ascii');
    expect(utf8TextOf(Buffer.from('ключ \uFFFD 键'))).toBe('ключ \uFFFD 键');
    for (const invalid of [[0xff], [0x61, 0x80], [0xc3], [0xed, 0xa0, 0x80], [0xef, 0xbf]]) expect(utf8TextOf(Buffer.from(invalid)), String(invalid)).toBeUndefined();
  });
});

describe("codec: 'raw'", () => {
  const raw = valueFormat('raw', true);
  it('stores bare bytes with flags 0 and reads UTF-8 as strings, other bytes as Buffers', () => {
    expect(raw.encode('héllo')).toEqual({ bytes: Buffer.from('héllo'), flags: 0 });
    expect(raw.encode(42)).toEqual({ bytes: Buffer.from('42'), flags: 0 });
    expect(raw.encode(10n)).toEqual({ bytes: Buffer.from('10'), flags: 0 });
    expect(raw.encode({ a: 1 })).toEqual({ bytes: Buffer.from('{"a":1}'), flags: 0 });
    expect(raw.decode(Buffer.from('42'), 0)).toBe('42');
    expect(raw.decode(Buffer.from([0xff, 0x00]), 4)).toEqual(Buffer.from([0xff, 0x00]));
    expect(() => raw.encode('lone \ud800')).toThrow(InvalidValueError);
  });
});

describe("codec: 'legacy' (before flags)", () => {
  it('writes and reads the marker-byte format', () => {
    expect(encodeLegacy({ a: 1 })).toEqual({ bytes: Buffer.from('\u0000{"a":1}'), flags: 0 });
    expect(encodeLegacy(Buffer.from('x'))).toEqual({ bytes: Buffer.from('\u0001x'), flags: 0 });
    expect(encodeLegacy('\u0001y')).toEqual({ bytes: Buffer.from('\u0002\u0001y'), flags: 0 });
    for (const value of [{ a: [1] }, 'text', '\u0002z', 7, null, Buffer.from([1, 2])]) expect(decodeLegacy(encodeLegacy(value).bytes)).toStrictEqual(value);
    expect(() => decodeLegacy(Buffer.from([0, 0x7b]))).toThrow();
  });
});

describe('a custom codec', () => {
  const seen: [string, number][] = [];
  const codec: Codec = {
    encode: (value) => ({ bytes: Buffer.from(String(value)), flags: 7 }),
    decode: (bytes, flags) => {
      seen.push([bytes.toString(), flags]);
      return flags === 7 ? bytes.toString() : undefined;
    },
  };

  it('gives and receives memcached flags', () => {
    const format = valueFormat(codec, true);
    expect(format.encode('v')).toEqual({ bytes: Buffer.from('v'), flags: 7 });
    expect(format.decode(Buffer.from('v'), 7)).toBe('v');
    expect(format.decode(Buffer.from('w'), 1)).toBeUndefined();
    expect(seen).toEqual([
      ['v', 7],
      ['w', 1],
    ]);
  });

  it('may return bare bytes (flags 0) or a Uint8Array, and nothing else', () => {
    expect(valueFormat({ encode: () => Buffer.from('b'), decode: () => 1 }, true).encode(1)).toEqual({ bytes: Buffer.from('b'), flags: 0 });
    const view = valueFormat({ encode: () => new Uint8Array([1, 2]), decode: () => 1 }, true).encode(1);
    expect(Buffer.isBuffer(view.bytes) && view.bytes.equals(Buffer.from([1, 2]))).toBe(true);
    for (const odd of [{}, 'text', null, { bytes: Buffer.alloc(1), flags: -1 }, { bytes: Buffer.alloc(1), flags: 2 ** 32 }, { bytes: Buffer.alloc(1), flags: 1.5 }, { bytes: 'x', flags: 0 }]) {
      expect(() => valueFormat({ encode: () => odd as never, decode: () => 1 }, true).encode(1), JSON.stringify(odd)).toThrow(InvalidValueError);
    }
  });
});
