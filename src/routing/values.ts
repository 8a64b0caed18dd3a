/**
 * Values on their way through routing: encoded (and bounded) before any
 * write is sent, decoded on the way back with every key read tallied, for
 * the cache and for the node that answered. An undecodable value is a miss,
 * counted as such too. Shared by both routers, so a replicated pool counts
 * exactly as a plain one.
 */
import type { Codec } from '../codec/codec.js';
import { describe } from '../config/node-spec.js';
import type { CacheCounters } from '../counters.js';
import { debug, describeError } from '../debug.js';
import { InvalidValueError } from '../errors.js';
import type { ReadTally } from '../node/node-stats.js';

export class Values {
  readonly #codec: Codec;
  readonly #maxValueBytes: number;
  readonly #reads: CacheCounters['reads'];

  constructor(codec: Codec, maxValueBytes: number, reads: CacheCounters['reads']) {
    this.#codec = codec;
    this.#maxValueBytes = maxValueBytes;
    this.#reads = reads;
  }

  /**
   * The bytes stored for `value`.
   * @throws {InvalidValueError} for `undefined`, a value the codec refuses, or one over `maxValueBytes` encoded.
   */
  encode(value: unknown): Buffer {
    if (value === undefined) throw new InvalidValueError('undefined cannot be cached; a miss already reads as undefined');
    let encoded: unknown;
    try {
      encoded = this.#codec.encode(value);
    } catch (error) {
      if (error instanceof InvalidValueError) throw error;
      throw new InvalidValueError(`the codec could not encode the value: ${error instanceof Error ? error.message : describe(error)}`, { cause: error });
    }
    // The backends write Buffers only: a custom codec's Uint8Array is viewed as one (no copy); anything else would fail deep in a wire client.
    if (!Buffer.isBuffer(encoded)) {
      if (!(encoded instanceof Uint8Array)) throw new InvalidValueError(`codec.encode must return a Buffer, got ${describe(encoded)}`);
      encoded = Buffer.from(encoded.buffer, encoded.byteOffset, encoded.byteLength);
    }
    const bytes = encoded as Buffer;
    if (bytes.length > this.#maxValueBytes) throw new InvalidValueError(`value is ${bytes.length} bytes encoded, over maxValueBytes (${this.#maxValueBytes})`);
    return bytes;
  }

  /**
   * Decodes a read; counts the hit or miss, for the cache and for the node
   * that answered. An undecodable value is a miss, counted as such too.
   */
  answer(bytes: Buffer | undefined, tally: ReadTally, node: string): unknown {
    let value: unknown;
    if (bytes !== undefined) {
      try {
        value = this.#codec.decode(bytes);
      } catch (error) {
        value = undefined;
        this.#reads.undecodable++;
        tally.undecodable++;
        debug('a value from %s could not be decoded (%s): answered as a miss', node, describeError(error));
      }
    }
    if (value === undefined) {
      this.#reads.misses++;
      tally.misses++;
    } else {
      this.#reads.hits++;
      tally.hits++;
    }
    return value;
  }

  /** A key that could not be read from any node: answered as a miss, counted as a failure. */
  failed(count = 1): void {
    this.#reads.failures += count;
  }
}
