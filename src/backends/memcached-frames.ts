/**
 * Binary-protocol request frames that carry only a key (GET, GETKQ, DELETEQ,
 * NOOP), written straight into one buffer. memjs's `makeRequestBuffer`
 * allocates five buffers and a header object per frame, which for a
 * thousand-key batch is most of the client's work; frames with extras or a
 * value (SET) still come from memjs.
 *
 * Header (24 bytes, big-endian): magic 0x80, opcode, key length (2), extras
 * length (1), data type (1), vbucket (2), total body length (4), opaque (4),
 * CAS (8).
 */
const HEADER_BYTES = 24;
const REQUEST_MAGIC = 0x80;

/** One frame per key with `opcode`, then optionally one `trailer` frame with no key; all with `opaque`. */
export function keyFrames(opcode: number, keys: readonly string[], opaque: number, trailer?: number): Buffer {
  let size = trailer === undefined ? 0 : HEADER_BYTES;
  for (const key of keys) size += HEADER_BYTES + Buffer.byteLength(key);
  const frames = Buffer.alloc(size);
  let at = 0;
  for (const key of keys) {
    const keyBytes = frames.write(key, at + HEADER_BYTES, 'utf8');
    writeHeader(frames, at, opcode, keyBytes, opaque);
    at += HEADER_BYTES + keyBytes;
  }
  if (trailer !== undefined) writeHeader(frames, at, trailer, 0, opaque);
  return frames;
}

function writeHeader(frames: Buffer, at: number, opcode: number, keyBytes: number, opaque: number): void {
  frames[at] = REQUEST_MAGIC;
  frames[at + 1] = opcode;
  frames.writeUInt16BE(keyBytes, at + 2);
  frames.writeUInt32BE(keyBytes, at + 8);
  frames.writeUInt32BE(opaque, at + 12);
}

/**
 * Finds which key of a `keyFrames` run a quiet answer (GETKQ: hits only, in
 * request order) belongs to, by comparing the answer's key bytes with the
 * keys in the frames already sent. Decoding each answered key to a string
 * to look it up costs about 60 ns a hit, most of a batch's per-key work.
 */
export class KeyFrameCursor {
  readonly #frames: Buffer;
  readonly #count: number;
  /** The next key an answer may belong to, and where its frame starts. */
  #index = 0;
  #at = 0;

  constructor(frames: Buffer, count: number) {
    this.#frames = frames;
    this.#count = count;
  }

  /** The index of `key` at or after the last match, or -1 when no key left matches (answers out of order, or a key never asked for). */
  advanceTo(key: Buffer): number {
    const frames = this.#frames;
    for (let index = this.#index, at = this.#at; index < this.#count; index++) {
      const keyBytes = (frames[at + 2]! << 8) | frames[at + 3]!;
      const keyAt = at + HEADER_BYTES;
      at = keyAt + keyBytes;
      if (keyBytes === key.length && sameBytes(key, frames, keyAt)) {
        this.#index = index + 1;
        this.#at = at;
        return index;
      }
    }
    return -1;
  }
}

/** Whether `key` equals `frames` at `at`, for `key.length` bytes; from the end, where keys of one batch tend to differ. */
function sameBytes(key: Buffer, frames: Buffer, at: number): boolean {
  for (let i = key.length - 1; i >= 0; i--) if (key[i] !== frames[at + i]) return false;
  return true;
}
