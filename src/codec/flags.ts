/**
 * The default codec on servers with a flags word (memcached, and the
 * in-process nodes, which keep flags as memcached does): the value's type
 * goes in the item's 32-bit flags, the bytes are the value alone, so Python
 * and PHP services sharing the pool read what shardcache wrote and the
 * reverse.
 *
 * Flag values are pylibmc 1.6's where the meaning is the same
 * (`src/_pylibmcmodule.h`: NONE 0, PICKLE 1, INTEGER 2, LONG 4, ZLIB 8,
 * TEXT 16; on Python 3 INTEGER holds bools and LONG ints), plus one of ours
 * for JSON, 0x10000. pylibmc types a value by `flags & 0x17`, so it reads
 * 0x10000 as plain bytes (the JSON text); PHP Memcached takes its type from
 * the low 4 bits and compression from bits 4-7, so it reads it as a string.
 *
 * Reading: a flag we know whose bytes have that type's form decodes to the
 * type; anything else (a pickle, PHP serialize, a compressed value, user
 * flags, or bytes that do not parse as their flag says) is a Buffer of the
 * exact bytes. PHP Memcached's types are read where pylibmc has no meaning
 * for the value: PHP long (1) when the bytes are a decimal integer (a pickle
 * never is), PHP double (2) when not "0"/"1" (pylibmc's bools win those),
 * PHP bool (3) and PHP JSON (6).
 */
import type { StoredValue } from '../backends/backend.js';
import { InvalidValueError } from '../errors.js';
import { utf8TextOf } from './utf8.js';

export const FLAGS = Object.freeze({
  /** pylibmc bytes, PHP string, and every client that ignores flags. */
  bytes: 0,
  /** pylibmc pickle; PHP long. */
  pickleOrPhpLong: 1,
  /** pylibmc bool ("1"/"0"); PHP double. */
  boolOrPhpDouble: 2,
  phpBool: 3,
  /** pylibmc int (decimal text, any size); PHP serialize(). */
  integer: 4,
  phpJson: 6,
  /** pylibmc str (UTF-8). */
  text: 16,
  /** shardcache's JSON: outside pylibmc's type bits and PHP's type and compression bits. */
  json: 0x10000,
});

const DECIMAL_INTEGER = /^-?\d{1,400}$/;
const DECIMAL_NUMBER = /^-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/;

/**
 * The bytes and flags for `value`.
 * @throws {InvalidValueError} for a value JSON cannot encode.
 */
export function encodeTyped(value: unknown): StoredValue {
  switch (typeof value) {
    case 'string':
      // A lone surrogate has no UTF-8 form (it would read back as U+FFFD): JSON escapes it.
      if (value.isWellFormed()) return { bytes: Buffer.from(value, 'utf8'), flags: FLAGS.text };
      break;
    case 'number':
      if (Number.isSafeInteger(value)) return { bytes: Buffer.from(String(value), 'latin1'), flags: FLAGS.integer };
      break;
    case 'bigint':
      return { bytes: Buffer.from(value.toString(), 'latin1'), flags: FLAGS.integer };
    case 'boolean':
      return { bytes: Buffer.from(value ? '1' : '0', 'latin1'), flags: FLAGS.boolOrPhpDouble };
    default:
      if (Buffer.isBuffer(value)) return { bytes: value, flags: FLAGS.bytes };
  }
  return { bytes: jsonBytes(value), flags: FLAGS.json };
}

/** The value for stored bytes and flags; never throws (what cannot be typed is a Buffer of the bytes). */
export function decodeTyped(bytes: Buffer, flags: number): unknown {
  switch (flags) {
    case FLAGS.text:
      return utf8TextOf(bytes) ?? copy(bytes);
    case FLAGS.integer:
    case FLAGS.pickleOrPhpLong:
      return integerOf(bytes) ?? copy(bytes);
    case FLAGS.boolOrPhpDouble: {
      const text = asciiOf(bytes);
      if (text === '1' || text === '0') return text === '1';
      return text !== undefined && DECIMAL_NUMBER.test(text) ? Number(text) : copy(bytes);
    }
    case FLAGS.phpBool: {
      const text = asciiOf(bytes);
      return text === '1' ? true : text === '' || text === '0' ? false : copy(bytes);
    }
    case FLAGS.json:
    case FLAGS.phpJson: {
      const parsed = jsonOf(bytes);
      return parsed === undefined ? copy(bytes) : parsed.value;
    }
    default:
      return copy(bytes);
  }
}

/**
 * JSON text of `value` as UTF-8.
 * @throws {InvalidValueError} when JSON cannot encode it.
 */
export function jsonBytes(value: unknown): Buffer {
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (error) {
    throw new InvalidValueError(`value cannot be encoded as JSON: ${(error as Error).message}`, { cause: error });
  }
  if (json === undefined) throw new InvalidValueError(`value of type ${typeof value} cannot be encoded as JSON`);
  return Buffer.from(json, 'utf8');
}

/** A decimal integer as a number when it is exact as one, else a BigInt; undefined when the bytes are not one. */
function integerOf(bytes: Buffer): number | bigint | undefined {
  const text = asciiOf(bytes);
  if (text === undefined || !DECIMAL_INTEGER.test(text)) return undefined;
  const number = Number(text);
  return Number.isSafeInteger(number) ? number : BigInt(text);
}

function jsonOf(bytes: Buffer): { value: unknown } | undefined {
  const text = utf8TextOf(bytes);
  if (text === undefined) return undefined;
  try {
    return { value: JSON.parse(text) };
  } catch {
    return undefined;
  }
}

/** Short ASCII text (numbers, booleans), or undefined. */
function asciiOf(bytes: Buffer): string | undefined {
  return bytes.length <= 400 ? bytes.toString('latin1') : undefined;
}

/** The bytes may be a view into a connection's buffer: a Buffer handed to the caller is its own. */
function copy(bytes: Buffer): Buffer {
  return Buffer.from(bytes);
}
