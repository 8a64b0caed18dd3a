/**
 * `codec: 'legacy'`: the format of shardcache before flags (marker bytes,
 * flags 0 on every backend), kept so a fleet can take this version without
 * changing what it stores, and read values written before it. It reads a
 * foreign value whose first byte is 0x00, 0x01 or 0x02 as one of its own
 * (the bug the current format fixes), so use it only until the pool has
 * been flushed or its values have expired.
 *
 * - a string: its UTF-8 bytes, with 0x02 in front when they start with a
 *   byte up to 0x02 (a lone surrogate goes through JSON);
 * - a Buffer: 0x01, then its bytes;
 * - anything else: 0x00, then JSON text.
 */
import type { StoredValue } from '../backends/backend.js';
import { jsonBytes } from './flags.js';

const JSON_MARKER = 0x00;
const BUFFER_MARKER = 0x01;
const STRING_MARKER = 0x02;

export function encodeLegacy(value: unknown): StoredValue {
  return { bytes: legacyBytes(value), flags: 0 };
}

function legacyBytes(value: unknown): Buffer {
  if (typeof value === 'string' && value.isWellFormed()) {
    const text = Buffer.from(value, 'utf8');
    const first = text[0];
    return first !== undefined && first <= STRING_MARKER ? Buffer.concat([Buffer.of(STRING_MARKER), text]) : text;
  }
  if (Buffer.isBuffer(value)) return Buffer.concat([Buffer.of(BUFFER_MARKER), value]);
  return Buffer.concat([Buffer.of(JSON_MARKER), jsonBytes(value)]);
}

/** @throws on corrupt JSON, which the cache answers as a miss. */
export function decodeLegacy(bytes: Buffer): unknown {
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
}
