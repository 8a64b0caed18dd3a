/**
 * The stored format of entries written by a refresh-ahead load: the value as
 * the value format stores it (bytes, and memcached's flags word unchanged),
 * behind a 24-byte header holding when the entry expires (wall clock, ms
 * since the epoch, so every process reads it alike) and how long its load
 * took (XFetch's delta):
 *
 *   0xC1 'refresh' | expiresAtMs float64 BE | loadMs float64 BE | value bytes
 *
 * Only those entries carry it: everything else is stored as the format
 * makes it, so other clients keep reading plain entries. Every read of this
 * client strips the header (a plain `get` of a stamped entry answers the
 * value).
 *
 * What must stay true: no value another format writes can be taken for a
 * stamped entry. 0xC1 never occurs in UTF-8, so no text starts with it, and
 * the Redis marker (marked-bytes.ts) is 0xC1 's' 'c', not 0xC1 'r'; only
 * binary (a Buffer stored bare, a custom codec's bytes) could start with
 * these 8 bytes and also hold a finite expiry and load time after them.
 */
import type { ReadValue, StoredValue } from '../backends/backend.js';
import type { ValueFormat } from './codec.js';

const MAGIC = Buffer.from([0xc1, 0x72, 0x65, 0x66, 0x72, 0x65, 0x73, 0x68]);
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

export function encodeStamped(stamped: Stamped, value: StoredValue): StoredValue {
  const bytes = Buffer.allocUnsafe(HEADER_BYTES + value.bytes.length);
  MAGIC.copy(bytes, 0);
  bytes.writeDoubleBE(stamped.expiresAtMs, MAGIC.length);
  bytes.writeDoubleBE(stamped.loadMs, MAGIC.length + 8);
  value.bytes.copy(bytes, HEADER_BYTES);
  return { bytes, flags: value.flags };
}

/** The stored value: a `Stamped` for a stamped entry, else what the format decodes. Throws what the format throws. */
export function decodeStored(read: ReadValue, format: ValueFormat): unknown {
  let bytes: Buffer;
  let flags = 0;
  if (read instanceof Uint8Array) bytes = read;
  else ({ bytes, flags } = read);
  if (bytes[0] !== 0xc1 || bytes.length < HEADER_BYTES || bytes.compare(MAGIC, 0, MAGIC.length, 0, MAGIC.length) !== 0) return format.decode(bytes, flags);
  const expiresAtMs = bytes.readDoubleBE(MAGIC.length);
  const loadMs = bytes.readDoubleBE(MAGIC.length + 8);
  if (!(expiresAtMs > 0 && Number.isFinite(expiresAtMs) && loadMs >= 0 && Number.isFinite(loadMs))) return format.decode(bytes, flags);
  const value = format.decode(bytes.subarray(HEADER_BYTES), flags);
  return value === undefined ? undefined : new Stamped(value, expiresAtMs, loadMs);
}
