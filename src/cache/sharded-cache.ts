/**
 * ShardedCache: the object applications hold. It checks keys and values,
 * asks the ring for each key's node, fans batches out (one round trip per
 * node, all nodes in parallel), reassembles them in the caller's order, and
 * turns cache failures on reads into misses.
 *
 * Contract:
 * - `get`, `mget`, `getOrLoad` never reject because a node failed or a value
 *   could not be decoded: that is a miss. They reject only on programming
 *   errors (bad key, bad argument) and loader errors.
 * - `set`, `mset`, `del` reject with a `ShardcacheError` when the node fails.
 * - Bad input rejects the whole call before anything is sent.
 */
import type { Backend, KeyRules } from '../backends/backend.js';
import type { Codec } from '../codec/codec.js';
import type { ResolvedOptions } from '../config/options.js';
import { MAX_TTL_SECONDS } from '../config/validate.js';
import { ClosedError, InvalidArgumentError, InvalidValueError, WriteFailedError } from '../errors.js';
import { withDeadline } from '../health/deadline.js';
import { SingleFlight } from '../loader/single-flight.js';
import type { Ring, RingMember } from '../ring/ring.js';
import { checkKey } from './keys.js';
import { gather, scatter } from './scatter.js';

export interface CacheNode extends RingMember {
  readonly backend: Backend;
}

export interface SetOptions {
  /** Seconds until the entry expires; 0 means never. @default the cache's `defaultTtlSeconds` */
  ttl?: number;
}

export type Loader<T> = () => T | Promise<T>;

export interface CacheDependencies {
  readonly ring: Ring<CacheNode>;
  readonly codec: Codec;
  readonly keyRules: KeyRules;
  readonly options: ResolvedOptions;
}

export class ShardedCache {
  readonly #ring: Ring<CacheNode>;
  readonly #codec: Codec;
  readonly #keyRules: KeyRules;
  readonly #timeouts: ResolvedOptions['timeouts'];
  readonly #defaultTtlSeconds: number;
  readonly #maxValueBytes: number;
  readonly #loads = new SingleFlight<unknown>();
  #closed = false;

  constructor(dependencies: CacheDependencies) {
    this.#ring = dependencies.ring;
    this.#codec = dependencies.codec;
    this.#keyRules = dependencies.keyRules;
    this.#timeouts = dependencies.options.timeouts;
    this.#defaultTtlSeconds = dependencies.options.defaultTtlSeconds;
    this.#maxValueBytes = dependencies.options.maxValueBytes;
  }

  /**
   * The value stored under `key`, or `undefined` on a miss, a node failure or
   * an undecodable value.
   * @throws {InvalidKeyError} for an empty, over-long or malformed key.
   */
  async get<T = unknown>(key: string): Promise<T | undefined> {
    this.#assertOpen();
    const node = this.#owner(key);
    try {
      const bytes = await withDeadline(node.backend.get(key), this.#timeouts.getMs, node.address, 'get');
      return bytes === undefined ? undefined : (this.#decode(bytes) as T | undefined);
    } catch {
      return undefined;
    }
  }

  /**
   * Values for `keys`, aligned with them (`undefined` for misses and failures).
   * One pipelined round trip per owning node, all nodes in parallel; a key
   * repeated in `keys` is fetched once.
   * @throws {InvalidKeyError} if any key is invalid; nothing is sent.
   */
  async mget<T = unknown>(keys: readonly string[]): Promise<(T | undefined)[]> {
    this.#assertOpen();
    if (!Array.isArray(keys)) throw new InvalidArgumentError('mget takes an array of keys');
    for (const key of keys) checkKey(key, this.#keyRules);
    const results: (T | undefined)[] = new Array(keys.length).fill(undefined);
    const batches = scatter(keys, (key) => this.#ring.lookup(key)!);
    await Promise.all(
      batches.map(async (batch) => {
        try {
          const answers = await withDeadline(batch.node.backend.getMany(batch.keys), this.#timeouts.batchMs, batch.node.address, 'getMany');
          gather(batch, answers.map((bytes) => (bytes === undefined ? undefined : (this.#decode(bytes) as T | undefined))), results);
        } catch {
          // A failed node's keys stay misses; the other nodes' answers stand.
        }
      }),
    );
    return results;
  }

  /**
   * Stores `value` under `key`.
   * @throws {InvalidKeyError | InvalidValueError | InvalidArgumentError} for bad input; nothing is sent.
   * @throws {DeadlineError | NodeError} when the owning node fails.
   */
  async set(key: string, value: unknown, options?: SetOptions): Promise<void> {
    this.#assertOpen();
    const node = this.#owner(key);
    const ttl = this.#ttl(options);
    const bytes = this.#encode(value);
    await withDeadline(node.backend.set(key, bytes, ttl), this.#timeouts.setMs, node.address, 'set');
  }

  /**
   * Stores every entry, one pipelined round trip per owning node. When a key
   * appears twice the last value wins.
   * @throws {WriteFailedError} naming the nodes that failed; the others were written.
   */
  async mset(entries: readonly (readonly [string, unknown])[], options?: SetOptions): Promise<void> {
    this.#assertOpen();
    if (!Array.isArray(entries)) throw new InvalidArgumentError('mset takes an array of [key, value] pairs');
    const ttl = this.#ttl(options);
    const encoded = new Map<string, Buffer>();
    for (const entry of entries) {
      if (!Array.isArray(entry) || entry.length !== 2) throw new InvalidArgumentError('mset takes an array of [key, value] pairs');
      const [key, value] = entry as [string, unknown];
      checkKey(key, this.#keyRules);
      encoded.set(key, this.#encode(value));
    }
    const batches = scatter([...encoded.keys()], (key) => this.#ring.lookup(key)!);
    const outcomes = await Promise.allSettled(
      batches.map((batch) =>
        withDeadline(
          batch.node.backend.setMany(batch.keys.map((key) => [key, encoded.get(key)!] as const), ttl),
          this.#timeouts.batchMs,
          batch.node.address,
          'setMany',
        ),
      ),
    );
    const failures = outcomes.flatMap((outcome, index) => (outcome.status === 'rejected' ? [{ node: batches[index]!.node.address, error: outcome.reason as unknown }] : []));
    if (failures.length > 0) {
      throw new WriteFailedError(`mset failed on ${failures.map((f) => f.node).join(', ')}`, { cause: new AggregateError(failures.map((f) => f.error)) });
    }
  }

  /**
   * Removes `key`. Resolves `true` when it existed.
   * @throws {DeadlineError | NodeError} when the owning node fails.
   */
  async del(key: string): Promise<boolean> {
    this.#assertOpen();
    const node = this.#owner(key);
    return withDeadline(node.backend.del(key), this.#timeouts.setMs, node.address, 'del');
  }

  /**
   * Read-through: the cached value, or else the loader's, written back best
   * effort (the answer never waits for the write). Concurrent calls for one
   * key share one loader call. A loader answer of `undefined` is not cached.
   * @throws whatever the loader throws; never a cache failure.
   */
  async getOrLoad<T>(key: string, loader: Loader<T>, options?: SetOptions): Promise<T> {
    this.#assertOpen();
    if (typeof loader !== 'function') throw new InvalidArgumentError('getOrLoad needs a loader function');
    const ttl = this.#ttl(options);
    const cached = await this.get<T>(key);
    if (cached !== undefined) return cached;
    return this.#loads.run(key, async () => {
      const value = await loader();
      if (value !== undefined && !this.#closed) {
        this.set(key, value, { ttl }).catch(() => {});
      }
      return value;
    }) as Promise<T>;
  }

  /**
   * `host:port` of the node that owns `key` now.
   * @throws {InvalidKeyError} for an invalid key.
   */
  nodeFor(key: string): string {
    return this.#owner(key).address;
  }

  /** Closes every connection. Later calls reject with `ClosedError`. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all(this.#ring.members.map((node) => node.backend.close()));
  }

  #owner(key: string): CacheNode {
    checkKey(key, this.#keyRules);
    return this.#ring.lookup(key)!;
  }

  #assertOpen(): void {
    if (this.#closed) throw new ClosedError();
  }

  #ttl(options: SetOptions | undefined): number {
    const ttl = options?.ttl ?? this.#defaultTtlSeconds;
    if (!Number.isInteger(ttl) || ttl < 0 || ttl > MAX_TTL_SECONDS) {
      throw new InvalidArgumentError(`ttl must be a whole number of seconds from 0 to ${MAX_TTL_SECONDS}, got ${String(ttl)}`);
    }
    return ttl;
  }

  #encode(value: unknown): Buffer {
    if (value === undefined) throw new InvalidValueError('undefined cannot be cached; a miss already reads as undefined');
    let bytes: Buffer;
    try {
      bytes = this.#codec.encode(value);
    } catch (error) {
      if (error instanceof InvalidValueError) throw error;
      throw new InvalidValueError(`the codec could not encode the value: ${(error as Error).message}`, { cause: error });
    }
    if (bytes.length > this.#maxValueBytes) {
      throw new InvalidValueError(`value is ${bytes.length} bytes encoded, over maxValueBytes (${this.#maxValueBytes})`);
    }
    return bytes;
  }

  /** A value that cannot be decoded is a miss. */
  #decode(bytes: Buffer): unknown {
    try {
      return this.#codec.decode(bytes);
    } catch {
      return undefined;
    }
  }
}
