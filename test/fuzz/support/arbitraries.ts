/**
 * Generators of hostile input for the fuzz properties. Each one mixes the
 * ordinary case (so the success paths run too) with the edges the brief
 * names: Unicode, lone surrogates, control characters, empty and over-limit
 * keys; every JSON type, Buffers, cycles, BigInt, huge strings; negative,
 * NaN, fractional and over-30-day TTLs; garbage where objects are expected.
 */
import { fc } from '@fast-check/vitest';

const MEMCACHED_RELATIVE_TTL_MAX = 60 * 60 * 24 * 30;
const TEN_YEARS = 60 * 60 * 24 * 365 * 10;

const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((unit) => String.fromCharCode(unit));
/** C0 controls, space, DEL, C1 controls and Unicode spaces: memcached forbids the first three groups only. */
const controlOrSpace = fc.oneof(
  fc.integer({ min: 0x00, max: 0x20 }).map((c) => String.fromCharCode(c)),
  fc.constantFrom('\u007f', '\u0085', '\u009f', '\u00a0', '\u2028', '\u3000', '\ufeff'),
);
/** Characters that look alike, normalise alike or encode to U+FFFD: distinct keys must stay distinct. */
const lookalike = fc.constantFrom('\ufffd', '\u00e9', 'e\u0301', '\ufb01', '\u00c5', '\u212b', 'A\u030a', '\u{1f600}', '\u{10ffff}', '\u0000', ':', '{', '}', '*', '?', '[', ']', '\\', '%', '\r\n');
const keyUnit = fc.oneof(
  { weight: 12, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }) },
  { weight: 3, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
  { weight: 1, arbitrary: loneSurrogate },
  { weight: 1, arbitrary: controlOrSpace },
  { weight: 2, arbitrary: lookalike },
);

/** Strings of any kind of character, lone surrogates and controls included. */
export const hostileString = (maxLength = 24): fc.Arbitrary<string> => fc.string({ unit: keyUnit, minLength: 0, maxLength });

/** A string of exactly `bytes` UTF-8 bytes, built from a multi-byte filler and ASCII padding. */
function stringOfBytes(bytes: number, filler: string): string {
  const unit = Buffer.byteLength(filler, 'utf8');
  const count = Math.floor(bytes / unit);
  return filler.repeat(count) + 'k'.repeat(bytes - count * unit);
}

/** Keys right around memcached's 250-byte limit, in 1- to 4-byte characters. */
const keyNear250 = fc
  .record({ bytes: fc.integer({ min: 246, max: 254 }), filler: fc.constantFrom('k', 'é', '€', '😀') })
  .map(({ bytes, filler }) => stringOfBytes(bytes, filler));
/** Keys right around the 64 KiB limit of Redis and memory nodes. */
const keyNear64k = fc.integer({ min: 65_534, max: 65_538 }).map((bytes) => stringOfBytes(bytes, 'k'));

/** Not strings at all: what JavaScript callers pass by mistake. */
const notAString = fc.oneof(
  fc.anything({ maxDepth: 1 }),
  fc.constantFrom<unknown>(new String('boxed'), Symbol('key'), 10n, () => 'key', ['a'], { toString: () => 'a' }),
);

/** Any key: mostly printable, often hostile. */
export const anyKey: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 12, arbitrary: hostileString() },
  { weight: 3, arbitrary: keyNear250 },
  { weight: 1, arbitrary: keyNear64k },
  { weight: 2, arbitrary: notAString },
  { weight: 1, arbitrary: fc.constant('') },
);

/** Keys a backend accepts more often than not (for round trips), still with Unicode and edges. */
export const plainishKey: fc.Arbitrary<string> = fc.oneof(
  { weight: 8, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 16 }).filter((s) => !/\s/.test(s)) },
  { weight: 4, arbitrary: hostileString(16) },
  { weight: 1, arbitrary: keyNear250 },
);

/** Groups of distinct keys that are easy to conflate (same UTF-8 bytes after replacement, canonically equal, case). */
export const confusableKeyGroup: fc.Arbitrary<string[]> = fc.constantFrom(
  ['a\ud800', 'a\udbff', 'a\udc00', 'a\ufffd'],
  ['\ud83d\ude00', '\ud83d', '\ude00', '\ufffd\ufffd', '\ufffd'],
  ['\u00e9', 'e\u0301', '\u00c9'],
  ['\u00c5', '\u212b', 'A\u030a'],
  ['k', 'K', 'k\u0000', 'k ', 'k\u00a0'],
  ['user:1', 'user:01', 'user:1\r\n'],
);

class Cyclic {
  self: Cyclic | undefined;
  list: unknown[] = [];
}

/** Values the codec must refuse (or, for toJSON tricks, store what toJSON says). */
const awkwardValues = fc.constantFrom<unknown>(
  undefined,
  10n,
  Symbol('value'),
  () => 1,
  { big: 1n },
  [1, 2n],
  { toJSON: () => undefined },
  {
    toJSON: () => {
      throw new RangeError('toJSON refuses');
    },
  },
  { toJSON: () => ({ replaced: true }) },
  new Date(0),
  new Date(Number.NaN),
  new Map([['a', 1]]),
  new Set([1]),
  new Uint8Array([1, 2, 3]),
  Number.NaN,
  -0,
  Number.POSITIVE_INFINITY,
  Number.MIN_VALUE,
  Number.MAX_SAFE_INTEGER + 2,
  Object.create(null),
  [undefined, () => 1, Symbol('x')],
  { a: undefined, b: () => 1 },
);

const cyclic = fc.constantFrom('self', 'list', 'deep').map((shape): unknown => {
  const root = new Cyclic();
  if (shape === 'self') root.self = root;
  else if (shape === 'list') root.list.push(root);
  else root.list.push({ nested: [root] });
  return root;
});

/** Strings whose encoded size straddles `limit` bytes (UTF-8, or marker + bytes). */
export const hugeStringNear = (limit: number): fc.Arbitrary<string> =>
  fc.record({ delta: fc.integer({ min: -2, max: 2 }), filler: fc.constantFrom('x', '€') }).map(({ delta, filler }) => stringOfBytes(limit + delta, filler));
const hugeBufferNear = (limit: number): fc.Arbitrary<Buffer> => fc.integer({ min: -2, max: 1 }).map((delta) => Buffer.alloc(limit - 1 + delta, 0xab));

/** Every kind of value; `maxValueBytes` places a few right at the size limit. */
export const anyValue = (maxValueBytes: number): fc.Arbitrary<unknown> =>
  fc.oneof(
    { weight: 6, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
    {
      weight: 4,
      arbitrary: fc.anything({
        maxDepth: 3,
        maxKeys: 4,
        withBigInt: true,
        withBoxedValues: true,
        withDate: true,
        withMap: true,
        withSet: true,
        withNullPrototype: true,
        withObjectString: true,
        withSparseArray: true,
        withTypedArray: true,
        stringUnit: 'binary',
      }),
    },
    { weight: 4, arbitrary: hostileString(40) },
    { weight: 3, arbitrary: fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)) },
    { weight: 3, arbitrary: awkwardValues },
    { weight: 1, arbitrary: cyclic },
    { weight: 1, arbitrary: hugeStringNear(maxValueBytes) },
    { weight: 1, arbitrary: hugeBufferNear(maxValueBytes) },
  );

/** A `{ ttl }` that is valid, or wrong in one of the ways callers get it wrong. */
export const anyTtl: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 120 }) },
  { weight: 3, arbitrary: fc.integer({ min: MEMCACHED_RELATIVE_TTL_MAX - 2, max: MEMCACHED_RELATIVE_TTL_MAX + 2 }) },
  { weight: 2, arbitrary: fc.integer({ min: TEN_YEARS - 2, max: TEN_YEARS + 2 }) },
  { weight: 2, arbitrary: fc.integer({ min: -1000, max: -1 }) },
  { weight: 3, arbitrary: fc.double() },
  { weight: 2, arbitrary: fc.constantFrom<unknown>(Number.NaN, -0, 0.5, 1.5, 2 ** 32, 2 ** 53, Number.POSITIVE_INFINITY, -Number.MAX_VALUE) },
  { weight: 2, arbitrary: fc.constantFrom<unknown>('60', null, true, 60n, [60], {}, Object.create(null), Symbol('ttl'), new Number(60)) },
);

/** The options argument of a write: absent, `{ ttl }`, or not an object at all (`set(k, v, 60)`). */
export const anyWriteOptions: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.constant(undefined) },
  { weight: 8, arbitrary: anyTtl.map((ttl) => ({ ttl })) },
  { weight: 1, arbitrary: fc.constantFrom<unknown>(60, '60', null, true, Object.create(null), { ttl: undefined }, [], { ttl: 5, extra: 1 }) },
);

/** Entries for mset: mostly [key, value] pairs, some malformed. */
export const anyEntry = (key: fc.Arbitrary<unknown>, value: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> =>
  fc.oneof(
    { weight: 12, arbitrary: fc.tuple(key, value) },
    { weight: 1, arbitrary: key.map((k) => [k]) },
    { weight: 1, arbitrary: fc.tuple(key, value, fc.anything({ maxDepth: 0 })) },
    { weight: 1, arbitrary: fc.constantFrom<unknown>(null, 'k', {}, new Map([['k', 1]]), Object.create(null)) },
  );

/** A namespace name: often valid, sometimes long, hostile or not a string. */
export const anyNamespaceName: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 12 }) },
  { weight: 3, arbitrary: hostileString(12) },
  { weight: 2, arbitrary: fc.integer({ min: 60, max: 130 }).chain((length) => fc.constantFrom('n', 'é', '€', '😀').map((c) => c.repeat(length))) },
  { weight: 1, arbitrary: notAString },
);

/** Namespace names that differ only where a careless encoding would merge them. */
export const confusableNamespaceGroup: fc.Arbitrary<string[]> = fc.constantFrom(
  ['\ud800', '\udbff', '\ufffd'],
  ['ns\ud83d', 'ns\ude00', 'ns\ufffd', 'ns'],
  ['\u00e9', 'e\u0301'],
  ['users', 'Users', 'users_'],
);
