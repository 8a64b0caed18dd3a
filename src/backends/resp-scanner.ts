/**
 * Follows a Redis RESP2 reply stream chunk by chunk, in O(1) memory, and
 * counts the top-level replies each chunk completes; throws a
 * `ReplyViolation` at the first byte that breaks RESP2 or the bounds below.
 * Pure (bytes in, a count or a violation out); reply-guard.ts says why and
 * attaches it to ioredis's socket.
 */
import { ReplyViolation } from './reply-violation.js';

/** Longest RESP line (simple string, error, integer, length header). Redis's own error lines are far shorter. */
export const MAX_LINE_BYTES = 64 * 1024;
/** Most elements in one RESP array (an MGET answers one per key). */
export const MAX_ARRAY_ELEMENTS = 1 << 20;
/** Deepest RESP array nesting: SCAN, the deepest reply shardcache reads, is 2. */
export const MAX_ARRAY_DEPTH = 8;


const CR = 0x0d;
const LF = 0x0a;
const ZERO = 0x30;
const NINE = 0x39;
const MINUS = 0x2d;
const ONE = 0x31;
const DOLLAR = 0x24;
/** Lengths the fast path reads: 15 digits is far past any bound, and exact in a double. */
const MAX_FAST_DIGITS = 15;

/** Scanner states: what the next byte is. */
const TYPE = 0;
const LINE = 1;
const LINE_END = 2;
const BULK = 3;
const BULK_CR = 4;
const BULK_LF = 5;
/** What the line being read is. */
const SIMPLE = 0;
const INTEGER = 1;
const BULK_LENGTH = 2;
const ARRAY_LENGTH = 3;

/**
 * Follows a RESP2 reply stream chunk by chunk, in O(1) memory, and counts
 * the top-level replies each chunk completes. One pass over header bytes,
 * bulk bodies skipped; the state lives in locals while a chunk is scanned
 * (this runs on every Redis read, before ioredis decodes the same bytes).
 */
export class RespReplyScanner {
  readonly #maxBulkBytes: number;
  #state = TYPE;
  #kind = SIMPLE;
  #lineBytes = 0;
  #digits = 0;
  #negative = false;
  #number = 0;
  #bulkLeft = 0;
  /** Elements still to come in each open array, innermost last. */
  readonly #open: number[] = [];

  constructor(maxBulkBytes: number) {
    this.#maxBulkBytes = maxBulkBytes;
  }

  /**
   * @returns how many top-level replies this chunk completed.
   * @throws {ReplyViolation} at the first byte that breaks RESP2 or the bound; the scanner is then spent.
   */
  scan(chunk: Buffer): number {
    const maxBulkBytes = this.#maxBulkBytes;
    const open = this.#open;
    let state = this.#state;
    let kind = this.#kind;
    let lineBytes = this.#lineBytes;
    let digits = this.#digits;
    let negative = this.#negative;
    let number = this.#number;
    let bulkLeft = this.#bulkLeft;
    let completed = 0;
    let i = 0;
    const length = chunk.length;
    while (i < length) {
      if (state === BULK) {
        const take = Math.min(bulkLeft, length - i);
        i += take;
        bulkLeft -= take;
        if (bulkLeft === 0) state = BULK_CR;
        continue;
      }
      if (state === LINE) {
        for (; i < length; i++) {
          const byte = chunk[i]!;
          if (byte === CR) break;
          if (++lineBytes > MAX_LINE_BYTES) throw new ReplyViolation(`a RESP line is longer than ${MAX_LINE_BYTES} bytes`);
          if (kind === SIMPLE) {
            if (byte === LF) throw new ReplyViolation('a RESP line holds a bare LF');
          } else if (byte >= ZERO && byte <= NINE) {
            digits++;
            number = number * 10 + (byte - ZERO);
          } else if (byte === MINUS && lineBytes === 1) {
            negative = true;
          } else {
            throw new ReplyViolation('a RESP integer or length holds a byte that is not a digit');
          }
        }
        if (i < length) {
          i++;
          state = LINE_END;
        }
        continue;
      }
      const byte = chunk[i++]!;
      if (state === TYPE) {
        const end = byte === DOLLAR ? wholeBulkEnd(chunk, i, maxBulkBytes) : -1;
        if (end === -1) {
          kind = lineKind(byte);
          state = LINE;
          lineBytes = 0;
          digits = 0;
          negative = false;
          number = 0;
          continue;
        }
        i = end;
      } else if (state === BULK_CR) {
        if (byte !== CR) throw new ReplyViolation('a RESP bulk string is longer than its length header');
        state = BULK_LF;
        continue;
      } else if (state === BULK_LF) {
        if (byte !== LF) throw new ReplyViolation('a RESP bulk string must end with CRLF');
      } else {
        // LINE_END: the line is complete.
        if (byte !== LF) throw new ReplyViolation('a RESP line must end with CRLF');
        if (kind !== SIMPLE) {
          if (digits === 0) throw new ReplyViolation('a RESP integer or length has no digits');
          if (kind !== INTEGER) {
            if (negative) {
              // Only -1 (nil) is a valid negative length.
              if (number !== 1) throw new ReplyViolation(`a RESP length of -${number}`);
            } else if (kind === BULK_LENGTH) {
              if (number > maxBulkBytes) throw new ReplyViolation(`a RESP bulk string of ${number} bytes, over the ${maxBulkBytes}-byte limit`);
              bulkLeft = number;
              state = number === 0 ? BULK_CR : BULK;
              continue;
            } else if (number > 0) {
              if (number > MAX_ARRAY_ELEMENTS) throw new ReplyViolation(`a RESP array of ${number} elements, over the ${MAX_ARRAY_ELEMENTS}-element limit`);
              if (open.length === MAX_ARRAY_DEPTH) throw new ReplyViolation(`RESP arrays nested deeper than ${MAX_ARRAY_DEPTH}`);
              open.push(number);
              state = TYPE;
              continue;
            }
          }
        }
      }
      // A value ended: it closes every array it was the last element of.
      state = TYPE;
      let topLevel = true;
      while (open.length > 0) {
        const last = open.length - 1;
        if (--open[last]! > 0) {
          topLevel = false;
          break;
        }
        open.pop();
      }
      if (topLevel) completed++;
    }
    this.#state = state;
    this.#kind = kind;
    this.#lineBytes = lineBytes;
    this.#digits = digits;
    this.#negative = negative;
    this.#number = number;
    this.#bulkLeft = bulkLeft;
    return completed;
  }
}

/**
 * The fast path for the commonest element, a bulk string (or nil) whose
 * header, body and CRLF are all in `chunk` from `at` (just past the `$`), well
 * formed and within `maxBulkBytes`: the index just past it. Anything else,
 * split across chunks or broken, is -1 and goes the byte-by-byte way, which
 * decides every violation.
 */
function wholeBulkEnd(chunk: Buffer, at: number, maxBulkBytes: number): number {
  const length = chunk.length;
  if (chunk[at] === MINUS) return at + 3 < length && chunk[at + 1] === ONE && chunk[at + 2] === CR && chunk[at + 3] === LF ? at + 4 : -1;
  let size = 0;
  let j = at;
  for (; j < length && j - at < MAX_FAST_DIGITS; j++) {
    const byte = chunk[j]!;
    if (byte < ZERO || byte > NINE) break;
    size = size * 10 + (byte - ZERO);
  }
  if (j === at || size > maxBulkBytes || j + 1 >= length || chunk[j] !== CR || chunk[j + 1] !== LF) return -1;
  const end = j + 2 + size;
  return end + 1 < length && chunk[end] === CR && chunk[end + 1] === LF ? end + 2 : -1;
}

function lineKind(type: number): number {
  switch (type) {
    case 0x2b: // '+'
    case 0x2d: // '-'
      return SIMPLE;
    case 0x3a: // ':'
      return INTEGER;
    case 0x24: // '$'
      return BULK_LENGTH;
    case 0x2a: // '*'
      return ARRAY_LENGTH;
    default:
      throw new ReplyViolation(`byte 0x${type.toString(16).padStart(2, '0')} where a RESP2 reply must start`);
  }
}
