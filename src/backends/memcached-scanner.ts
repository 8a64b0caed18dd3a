/**
 * Follows a memcached binary-protocol response stream chunk by chunk and
 * checks every header (magic, lengths, the bound, an opaque some request
 * waits for); throws a `ReplyViolation` at the first bad one. Pure; reply-
 * guard.ts says why and attaches it to memjs's read path.
 */
import { ReplyViolation } from './reply-violation.js';

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
