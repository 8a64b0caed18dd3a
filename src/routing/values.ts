/**
 * Values on their way through routing: encoded by the codec's format for
 * this backend (bytes and memcached flags, codec/codec.ts) and bounded
 * before any write is sent, decoded on the way back with every key read
 * tallied, for the cache and for the node that answered. An undecodable
 * value is a miss, counted as such too. Shared by both routers, so a
 * replicated pool counts exactly as a plain one.
 */
import type { ReadValue, StoredValue } from '../backends/backend.js';
import type { ValueFormat } from '../codec/codec.js';
import { decodeStored, encodeStamped, Stamped } from '../codec/stamp.js';
import { describe } from '../config/node-spec.js';
import type { CacheCounters } from '../counters.js';
import { debug, describeError } from '../debug.js';
import { InvalidValueError } from '../errors.js';
import type { ReadTally } from '../node/node-stats.js';

export class Values {
  readonly #format: ValueFormat;
  readonly #maxValueBytes: number;
  readonly #reads: CacheCounters['reads'];

  /** @param format the codec, for this backend (`valueFormat`). */
  constructor(format: ValueFormat, maxValueBytes: number, reads: CacheCounters['reads']) {
    this.#format = format;
    this.#maxValueBytes = maxValueBytes;
    this.#reads = reads;
  }

  /**
   * The bytes and flags stored for `value` (a refresh-ahead `Stamped` value behind its stamp).
   * @throws {InvalidValueError} for `undefined`, a value the codec refuses, or one over `maxValueBytes` encoded.
   */
  encode(value: unknown): StoredValue {
    if (value instanceof Stamped) return this.#sized(encodeStamped(value, this.#encodeValue(value.value)));
    return this.#sized(this.#encodeValue(value));
  }

  #encodeValue(value: unknown): StoredValue {
    if (value === undefined) throw new InvalidValueError('undefined cannot be cached; a miss already reads as undefined');
    try {
      return this.#format.encode(value);
    } catch (error) {
      if (error instanceof InvalidValueError) throw error;
      throw new InvalidValueError(`the codec could not encode the value: ${error instanceof Error ? error.message : describe(error)}`, { cause: error });
    }
  }

  #sized(stored: StoredValue): StoredValue {
    const { length } = stored.bytes;
    if (length > this.#maxValueBytes) throw new InvalidValueError(`value is ${length} bytes encoded, over maxValueBytes (${this.#maxValueBytes})`);
    return stored;
  }

  /**
   * Decodes a read; counts the hit or miss, for the cache and for the node
   * that answered. An undecodable value is a miss, counted as such too.
   * @param keepStamp answer a refresh-ahead entry as its `Stamped` (expiry and load time), not the bare value.
   */
  answer(stored: ReadValue | undefined, tally: ReadTally, node: string, keepStamp = false): unknown {
    let value: unknown;
    if (stored !== undefined) {
      try {
        value = decodeStored(stored, this.#format);
        if (!keepStamp && value instanceof Stamped) value = value.value;
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

  /** Keys that could not be read from any node: answered as misses, counted as failures. */
  failed(count = 1): void {
    this.#reads.failures += count;
  }
}
