/**
 * The default codec on Redis, which has no flags word: the type has to live
 * in the bytes, without ever mistaking another client's value for ours.
 *
 * - A string is stored as its UTF-8 bytes alone, unless it holds a control
 *   character other than tab, CR or LF.
 * - Every other value is MARKER (0xC1 's' 'c'), then the 32-bit flags word
 *   the memcached format would give it (flags.ts), then those bytes. 0xC1
 *   never occurs in UTF-8, so no text starts with the marker; binary that
 *   happens to start with these three bytes is the one thing read as ours.
 * - Bytes without the marker were written by someone else: they read as a
 *   string when they are UTF-8 text without such control characters (what a
 *   plain-string client writes), otherwise as a Buffer of the exact bytes.
 */
import { isUtf8 } from 'node:buffer';
import { decodeTyped, encodeTyped } from './flags.js';

export const MARKER = Buffer.from([0xc1, 0x73, 0x63]);
const HEADER_BYTES = MARKER.length + 4;
/** Control characters that text written by people and text protocols does not hold. */
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

export function encodeMarked(value: unknown): Buffer {
  if (typeof value === 'string' && value.isWellFormed() && !CONTROL.test(value)) return Buffer.from(value, 'utf8');
  const { bytes, flags } = encodeTyped(value);
  const framed = Buffer.allocUnsafe(HEADER_BYTES + bytes.length);
  MARKER.copy(framed, 0);
  framed.writeUInt32BE(flags, MARKER.length);
  bytes.copy(framed, HEADER_BYTES);
  return framed;
}

/** Never throws: bytes that are not ours are a string or a Buffer, as above. */
export function decodeMarked(bytes: Buffer): unknown {
  if (bytes.length >= HEADER_BYTES && bytes[0] === MARKER[0] && bytes[1] === MARKER[1] && bytes[2] === MARKER[2]) {
    return decodeTyped(bytes.subarray(HEADER_BYTES), bytes.readUInt32BE(MARKER.length));
  }
  return isPlainText(bytes) ? bytes.toString('utf8') : Buffer.from(bytes);
}

/**
 * Whether `bytes` is UTF-8 text without CONTROL characters. One pass over
 * the bytes, not a regular expression over the decoded string (every read
 * of a foreign or plain-text value goes through here): in UTF-8 those
 * characters are single bytes below 0x80, and text that is all ASCII needs
 * no UTF-8 check.
 */
function isPlainText(bytes: Buffer): boolean {
  let ascii = true;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i]!;
    if (byte < 0x20) {
      if (byte !== 0x09 && byte !== 0x0a && byte !== 0x0d) return false;
    } else if (byte === 0x7f) {
      return false;
    } else if (byte >= 0x80) {
      ascii = false;
    }
  }
  return ascii || isUtf8(bytes);
}
