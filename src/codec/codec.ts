/**
 * Values <-> bytes. The same bytes go to every backend, so a value written
 * through Redis reads back equal through Memcached or memory.
 *
 * Default encoding (readable by other clients where it matters):
 * - a string is stored as its UTF-8 bytes, unchanged, unless it starts with
 *   one of the marker bytes below or with 0x03 (the first byte of a
 *   refresh-ahead entry, codec/stamp.ts), in which case STRING is prepended; a
 *   string holding a lone surrogate has no UTF-8 form (the bytes would say
 *   U+FFFD and read back as another string), so it goes through JSON, which
 *   escapes it;
 * - a Buffer is stored as BUFFER followed by its bytes;
 * - anything else is stored as JSON followed by JSON text.
 * Marker bytes are control characters no text value starts with in practice,
 * so plain strings written by other clients read back as strings.
 */
import { InvalidValueError } from '../errors.js';

export interface Codec {
  /** Bytes to store (a Buffer; a Uint8Array is accepted too). Throw to reject the value; nothing is written. */
  encode(value: unknown): Buffer;
  /** The value from stored bytes. Throwing makes the read a miss, never an error. */
  decode(bytes: Buffer): unknown;
}

const JSON_MARKER = 0x00;
const BUFFER_MARKER = 0x01;
const STRING_MARKER = 0x02;
/** Strings starting with a byte up to this one are escaped: markers, and stamp.ts's header. */
const ESCAPED_UP_TO = 0x03;

export const defaultCodec: Codec = {
  encode(value) {
    if (typeof value === 'string' && value.isWellFormed()) {
      const text = Buffer.from(value, 'utf8');
      const first = text[0];
      return first !== undefined && first <= ESCAPED_UP_TO ? Buffer.concat([Buffer.of(STRING_MARKER), text]) : text;
    }
    if (Buffer.isBuffer(value)) return Buffer.concat([Buffer.of(BUFFER_MARKER), value]);
    let json: string | undefined;
    try {
      json = JSON.stringify(value);
    } catch (error) {
      throw new InvalidValueError(`value cannot be encoded as JSON: ${(error as Error).message}`, { cause: error });
    }
    if (json === undefined) throw new InvalidValueError(`value of type ${typeof value} cannot be encoded as JSON`);
    return Buffer.concat([Buffer.of(JSON_MARKER), Buffer.from(json, 'utf8')]);
  },

  decode(bytes) {
    switch (bytes[0]) {
      case JSON_MARKER:
        return JSON.parse(bytes.toString('utf8', 1));
      case BUFFER_MARKER:
        return Buffer.from(bytes.subarray(1));
      case STRING_MARKER:
        return bytes.toString('utf8', 1);
      default:
        return bytes.toString('utf8');
    }
  },
};
