/**
 * The stored format of entries written by a refresh-ahead load: the value's
 * bytes (as the codec makes them) behind a 20-byte header holding when the
 * entry expires (wall clock, ms since the epoch, so every process reads it
 * alike) and how long its load took (XFetch's delta):
 *
 *   0x03 'r' 'a' 0x01 | expiresAtMs float64 BE | loadMs float64 BE | value bytes
 *
 * Only those entries carry it: everything else is stored as the codec makes
 * it, so other clients keep reading plain entries. Every read of this
 * client strips the header (a plain `get` of a stamped entry answers the
 * value). The default codec escapes strings that start with a byte up to
 * 0x03, so no value it writes can look stamped.
 */
import type { Codec } from './codec.js';

const MAGIC = Buffer.from([0x03, 0x72, 0x61, 0x01]);
const HEADER_BYTES = MAGIC.length + 16;

/** A value with the metadata refresh-ahead keeps next to it. */
export class Stamped {
  constructor(
    readonly value: unknown,
    /** When the entry expires, ms since the epoch. */
    readonly expiresAtMs: number,
    /** How long the load that produced it took, ms. */
    readonly loadMs: number,
  ) {}
}

export function encodeStamped(stamped: Stamped, valueBytes: Buffer): Buffer {
  const header = Buffer.allocUnsafe(HEADER_BYTES);
  MAGIC.copy(header, 0);
  header.writeDoubleBE(stamped.expiresAtMs, MAGIC.length);
  header.writeDoubleBE(stamped.loadMs, MAGIC.length + 8);
  return Buffer.concat([header, valueBytes]);
}

function isStamped(bytes: Buffer): boolean {
  return bytes.length >= HEADER_BYTES && bytes[0] === 0x03 && bytes[1] === 0x72 && bytes[2] === 0x61 && bytes[3] === 0x01;
}

/** The stored value: a `Stamped` for a stamped entry, else what the codec decodes. Throws what the codec throws. */
export function decodeStored(bytes: Buffer, codec: Codec): unknown {
  if (bytes[0] !== 0x03 || !isStamped(bytes)) return codec.decode(bytes);
  const value = codec.decode(bytes.subarray(HEADER_BYTES));
  if (value === undefined) return undefined;
  return new Stamped(value, bytes.readDoubleBE(MAGIC.length), bytes.readDoubleBE(MAGIC.length + 8));
}
