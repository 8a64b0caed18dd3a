/**
 * `codec: 'raw'`: plain bytes for pools shared with clients that know only
 * strings. Nothing but the value is stored, with flags 0: strings as UTF-8,
 * Buffers as they are, numbers, BigInts and booleans as their decimal or
 * `true`/`false` text, anything else as JSON text. Reads give a string when
 * the bytes are UTF-8, else a Buffer of the exact bytes; types other than
 * strings and Buffers do not survive the round trip.
 */
import type { StoredValue } from '../backends/backend.js';
import { InvalidValueError } from '../errors.js';
import { jsonBytes } from './flags.js';
import { utf8TextOf } from './utf8.js';

export function encodeRaw(value: unknown): StoredValue {
  return { bytes: rawBytes(value), flags: 0 };
}

function rawBytes(value: unknown): Buffer {
  switch (typeof value) {
    case 'string':
      if (!value.isWellFormed()) throw new InvalidValueError('a string with a lone surrogate has no UTF-8 form; codec \'raw\' stores strings as UTF-8 only');
      return Buffer.from(value, 'utf8');
    case 'number':
    case 'bigint':
    case 'boolean':
      return Buffer.from(String(value), 'latin1');
    default:
      if (Buffer.isBuffer(value)) return value;
      return jsonBytes(value);
  }
}

export function decodeRaw(bytes: Buffer): unknown {
  return utf8TextOf(bytes) ?? Buffer.from(bytes);
}
