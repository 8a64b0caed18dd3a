/**
 * Values <-> what a node stores (bytes, and memcached's flags word). The
 * `codec` option picks the format; `valueFormat` turns it into the one
 * interface the routing layer uses, for the backend in use:
 *
 * - `'default'`: on memcached (and in-process nodes) the type goes in the
 *   flags, pylibmc's values where they mean the same (flags.ts); on Redis a
 *   string is its bare UTF-8 bytes and other values carry a marker no text
 *   can start with (marked-bytes.ts). Values other clients wrote read back
 *   typed where the flags say so, and as their exact bytes otherwise.
 * - `'raw'`: bare bytes, no types (raw.ts).
 * - `'legacy'`: the marker-byte format of earlier versions (legacy.ts).
 * - a `Codec` object: the caller's, given and giving memcached's flags.
 */
import type { StoredValue } from '../backends/backend.js';
import { InvalidValueError } from '../errors.js';
import { decodeTyped, encodeTyped } from './flags.js';
import { decodeLegacy, encodeLegacy } from './legacy.js';
import { decodeMarked, encodeMarked } from './marked-bytes.js';
import { decodeRaw, encodeRaw } from './raw.js';

/** Bytes with memcached's flags word, as a custom codec may return them. */
export interface EncodedValue {
  readonly bytes: Buffer | Uint8Array;
  /** An unsigned 32-bit integer, stored beside the bytes on memcached (see README "Sharing a pool with other languages"). */
  readonly flags: number;
}

export interface Codec {
  /**
   * Bytes to store (a Buffer or Uint8Array), or bytes with memcached flags
   * (`{ bytes, flags }`; Redis has no flags, so there only the bytes are
   * kept). Throw to reject the value; nothing is written.
   */
  encode(value: unknown): Buffer | Uint8Array | EncodedValue;
  /**
   * The value from stored bytes and their flags (memcached's flags word; 0
   * on Redis). Returning `undefined` or throwing makes the read a miss,
   * never an error.
   */
  decode(bytes: Buffer, flags: number): unknown;
}

/** The built-in formats: `'default'` (typed, readable by pylibmc and PHP), `'raw'` (bare bytes, no types), `'legacy'` (before flags). */
export type CodecName = 'default' | 'raw' | 'legacy';
export const CODEC_NAMES: readonly CodecName[] = ['default', 'raw', 'legacy'];

/** How the routing layer turns values into stored values and back. */
export interface ValueFormat {
  /** @throws {InvalidValueError} for a value the format cannot store. */
  encode(value: unknown): StoredValue;
  /** May throw or answer `undefined`: both read as a miss. */
  decode(bytes: Buffer, flags: number): unknown;
}

const TYPED: ValueFormat = { encode: encodeTyped, decode: decodeTyped };
const MARKED: ValueFormat = { encode: (value) => ({ bytes: encodeMarked(value), flags: 0 }), decode: decodeMarked };
const RAW: ValueFormat = { encode: encodeRaw, decode: decodeRaw };
const LEGACY: ValueFormat = { encode: encodeLegacy, decode: decodeLegacy };

/** The format for `codec` on a backend that has (memcached, memory) or lacks (Redis) a flags word. */
export function valueFormat(codec: CodecName | Codec | undefined, backendHasFlags: boolean): ValueFormat {
  if (codec === undefined || codec === 'default') return backendHasFlags ? TYPED : MARKED;
  if (codec === 'raw') return RAW;
  if (codec === 'legacy') return LEGACY;
  return customFormat(codec);
}

function customFormat(codec: Codec): ValueFormat {
  return {
    encode: (value) => storedValueOf(codec.encode(value)),
    decode: (bytes, flags) => codec.decode(bytes, flags),
  };
}

/**
 * What a custom codec returned, as a stored value.
 * @throws {InvalidValueError} when it is not bytes or `{ bytes, flags }` with flags an unsigned 32-bit integer.
 */
function storedValueOf(encoded: unknown): StoredValue {
  if (encoded instanceof Uint8Array) return { bytes: bufferOf(encoded), flags: 0 };
  const candidate = encoded as Partial<EncodedValue> | null;
  if (typeof candidate !== 'object' || candidate === null || !(candidate.bytes instanceof Uint8Array)) {
    throw new InvalidValueError(`codec.encode must return a Buffer or { bytes, flags }, got ${describeReturned(encoded)}`);
  }
  const { flags } = candidate;
  if (typeof flags !== 'number' || !Number.isInteger(flags) || flags < 0 || flags > 0xffffffff) {
    throw new InvalidValueError(`codec.encode returned flags ${describeReturned(flags)}; memcached's flags are an integer from 0 to 4294967295`);
  }
  return { bytes: bufferOf(candidate.bytes), flags };
}

/** The backends write Buffers only: a Uint8Array is viewed as one (no copy). */
function bufferOf(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** What a codec returned, short, for the error (config/ has a richer describe, but config imports this module). */
function describeReturned(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'boolean' || value == null) return String(value);
  if (typeof value === 'string') return JSON.stringify(value.slice(0, 40));
  return Array.isArray(value) ? 'an array' : `a ${typeof value}`;
}
