/**
 * Reply guards: what a server may send before the wire client buffers it.
 * A broken server, a proxy bug or another service on the node's port must
 * cost the client failed requests and a dropped connection, never an
 * unbounded buffer or a reply handed to the wrong request.
 *
 * The bound: no reply element longer than `maxValueBytes + REPLY_FRAMING_BYTES`
 * (64 KiB for headers, keys and extras) is buffered. The wire clients buffer
 * only the element they are reading, so that plus one socket read (64 KiB)
 * is the most either holds for an element in progress, whatever length a
 * server claims; a claim over the bound is refused at its header, before any
 * of the body is read.
 * - memcached binary protocol (memjs's `Server.responseBuffer` holds one
 *   incomplete frame): each frame is a 24-byte response header (magic 0x81,
 *   a body no shorter than its key and extras, at most the bound) whose
 *   opaque names a request still waiting for an answer.
 * - Redis RESP2 (ioredis's decoder holds the chunks of one incomplete bulk
 *   string or line): only `+ - : $ *` replies; lines end in CRLF and hold at
 *   most MAX_LINE_BYTES; bulk strings hold at most the bound, then CRLF;
 *   arrays hold at most MAX_ARRAY_ELEMENTS elements (ioredis preallocates
 *   the claimed length: `*5000000` alone costs 40 MB), nested at most
 *   MAX_ARRAY_DEPTH deep. An array's finished elements are its result, so
 *   one reply in progress holds at most MAX_ARRAY_ELEMENTS of them. And a
 *   read never completes more replies than there are commands waiting:
 *   RESP2 has no request ids, so an extra reply is caught when it arrives
 *   alone or with the replies it outnumbers, not when it comes first in a
 *   read of its own and is taken for a waiting command's reply.
 * Anything else is a protocol error: every request waiting on the connection
 * fails with `NodeError` reason `protocol` (which counts against the node)
 * and the connection is destroyed; the next request or probe opens a fresh
 * one.
 *
 * A value larger than `maxValueBytes` written by another client reads as
 * such a failure: pools shared with writers of larger values must raise
 * `maxValueBytes` to match. So would an MGET of more than MAX_ARRAY_ELEMENTS
 * keys to one node.
 *
 * The scanners are pure (bytes in, completed replies or a `ReplyViolation`
 * out) and skip bulk bodies without reading them; the guards attach them to
 * the clients' sockets, relying on internals of memjs 1.3.2 (pinned exactly)
 * and on ioredis's public `stream`, `commandQueue` and
 * `recoverFromFatalError`.
 */
import type { Redis } from 'ioredis';
import type { Server as MemjsServer } from 'memjs';
import { NodeError } from '../errors.js';

/** Room, beyond the value itself, for a reply's headers, key and extras. */
export const REPLY_FRAMING_BYTES = 64 * 1024;
/** Longest RESP line (simple string, error, integer, length header). Redis's own error lines are far shorter. */
export const MAX_LINE_BYTES = 64 * 1024;
/** Most elements in one RESP array (an MGET answers one per key). */
export const MAX_ARRAY_ELEMENTS = 1 << 20;
/** Deepest RESP array nesting: SCAN, the deepest reply shardcache reads, is 2. */
export const MAX_ARRAY_DEPTH = 8;

/** Bytes that break the protocol or the bound; the message says which rule. */
export class ReplyViolation extends Error {
  override readonly name = 'ReplyViolation';
}

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

const HEADER_BYTES = 24;
const RESPONSE_MAGIC = 0x81;
/** SASL list-mechanisms, auth and step: memjs answers these itself, with no request registered. */
const SASL_OPCODES = new Set([0x20, 0x21, 0x22]);

/**
 * Follows a memcached binary-protocol response stream chunk by chunk: checks
 * each header, skips each body. O(1) memory (a 24-byte header split across
 * chunks is put together in a scratch buffer).
 */
export class MemcachedFrameScanner {
  readonly #maxBodyBytes: number;
  readonly #header = Buffer.alloc(HEADER_BYTES);
  #headerBytes = 0;
  #bodyLeft = 0;

  constructor(maxBodyBytes: number) {
    this.#maxBodyBytes = maxBodyBytes;
  }

  /** Forgets a frame in progress: a new connection starts on a frame boundary. */
  reset(): void {
    this.#headerBytes = 0;
    this.#bodyLeft = 0;
  }

  /**
   * @param awaited whether a request with this opaque is still waiting for an answer.
   * @throws {ReplyViolation} at the first header that breaks the protocol or the bound.
   */
  scan(chunk: Buffer, awaited: (opaque: number) => boolean): void {
    let i = 0;
    const length = chunk.length;
    while (i < length) {
      if (this.#bodyLeft > 0) {
        const take = Math.min(this.#bodyLeft, length - i);
        i += take;
        this.#bodyLeft -= take;
        continue;
      }
      if (this.#headerBytes === 0 && length - i >= HEADER_BYTES) {
        this.#check(chunk, i, awaited);
        i += HEADER_BYTES;
        continue;
      }
      const take = Math.min(HEADER_BYTES - this.#headerBytes, length - i);
      chunk.copy(this.#header, this.#headerBytes, i, i + take);
      this.#headerBytes += take;
      i += take;
      if (this.#headerBytes === HEADER_BYTES) {
        this.#headerBytes = 0;
        this.#check(this.#header, 0, awaited);
      }
    }
  }

  #check(bytes: Buffer, at: number, awaited: (opaque: number) => boolean): void {
    const magic = bytes[at]!;
    if (magic !== RESPONSE_MAGIC) throw new ReplyViolation(`magic 0x${magic.toString(16).padStart(2, '0')} where a memcached response header must start`);
    const body = bytes.readUInt32BE(at + 8);
    if (body > this.#maxBodyBytes) throw new ReplyViolation(`a memcached response body of ${body} bytes, over the ${this.#maxBodyBytes}-byte limit`);
    if (body < bytes.readUInt16BE(at + 2) + bytes[at + 4]!) throw new ReplyViolation('a memcached response body shorter than its key and extras');
    if (!SASL_OPCODES.has(bytes[at + 1]!) && !awaited(bytes.readUInt32BE(at + 12))) {
      throw new ReplyViolation('memcached answered a request that was never sent, or that was already answered');
    }
    this.#bodyLeft = body;
  }
}

/**
 * Checks every byte a Redis connection receives before ioredis decodes it.
 * Each connection gets a fresh scanner on ioredis's `connect` event, which
 * is emitted on the tick after ioredis's own data listener is in place, so
 * this listener, prepended later, runs first.
 */
export function guardRedisReplies(client: Redis, address: string, maxValueBytes: number): void {
  client.on('connect', () => {
    const stream = client.stream;
    const scanner = new RespReplyScanner(maxValueBytes + REPLY_FRAMING_BYTES);
    const onData = (chunk: Buffer) => {
      let problem: string | undefined;
      try {
        // Read before ioredis decodes the chunk: the commands it answers are still queued.
        if (scanner.scan(chunk) > client.commandQueue.length) problem = 'redis sent more replies than there were commands waiting for one';
      } catch (error) {
        if (!(error instanceof ReplyViolation)) throw error;
        problem = error.message;
      }
      if (problem === undefined) return;
      stream.removeListener('data', onData);
      const failure = new NodeError(address, 'protocol', problem);
      // Fails every command waiting on this connection with `failure` and
      // reconnects per the retry strategy, as ioredis does when its own
      // decoder throws. ioredis's listener still gets this one chunk (an
      // emit calls the listeners it had when it started), but the commands
      // are gone and the socket is destroyed now rather than on a later
      // tick, so no further bytes are read from this server.
      client.recoverFromFatalError(failure, failure, {});
      stream.destroy();
    };
    stream.prependListener('data', onData);
  });
}

/** The memjs 1.3.2 internals the guard reads and replaces (its types mark them readonly or omit them). */
interface MemjsInternals {
  responseBuffer: Buffer;
  readonly responseCallbacks: Record<number, unknown>;
  readonly _socket?: object;
  responseHandler(chunk: Buffer): void;
}

const EMPTY = Buffer.alloc(0);

/**
 * Checks every byte a memjs `Server` receives before memjs buffers it: its
 * socket's data listener calls `server.responseHandler`, which is replaced
 * on this instance by a check that hands on only what passes. On a
 * violation the Server's waiting requests fail, its socket is destroyed, and
 * `dropped` is called (the owner should stop using this Server).
 *
 * memjs keeps `responseBuffer` across connections: bytes of a frame cut off
 * by a dropped connection would prefix the next connection's replies and
 * misalign them for good. So the buffer is emptied whenever data arrives on
 * a socket other than the last one seen, and when the guard drops one.
 */
export function guardMemjsReplies(server: MemjsServer, address: string, maxValueBytes: number, dropped: () => void): void {
  const internals = server as unknown as MemjsInternals;
  const handle = internals.responseHandler;
  const scanner = new MemcachedFrameScanner(maxValueBytes + REPLY_FRAMING_BYTES);
  const awaited = (opaque: number) => internals.responseCallbacks[opaque] !== undefined;
  let socket: object | undefined;
  internals.responseHandler = (chunk: Buffer) => {
    if (internals._socket !== socket) {
      socket = internals._socket;
      scanner.reset();
      internals.responseBuffer = EMPTY;
    }
    try {
      // Scanned whole before memjs answers any frame in it: every request it answers is still registered.
      scanner.scan(chunk, awaited);
    } catch (error) {
      if (!(error instanceof ReplyViolation)) throw error;
      internals.responseBuffer = EMPTY;
      // Destroys the socket and fails every request waiting on it with this error.
      server.error(new NodeError(address, 'protocol', error.message));
      dropped();
      return;
    }
    handle.call(server, chunk);
  };
}
