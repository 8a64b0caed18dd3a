/**
 * ShardedCache: the object applications hold. It checks keys and values,
 * asks the membership's ring for each key's node, fans batches out (one
 * round trip per node, all nodes in parallel), reassembles them in the
 * caller's order, and turns cache failures on reads into counted misses.
 *
 * Contract:
 * - `get`, `mget`, `mgetDetailed`, `getOrLoad`, `mgetOrLoad` never reject
 *   because a node failed, was out or could not decode a value: that is a
 *   miss. They reject only on programming errors (bad key, bad argument) and
 *   loader errors.
 * - A failed GET (or a node's share of an mget) is retried once at once, on
 *   whichever node owns the key by then.
 * - `set`, `mset`, `del` reject with a `ShardcacheError` when the node fails.
 * - Bad input rejects the whole call before anything is sent.
 *
 * Observability and administration live in their own modules
 * (observability/, invalidation.ts, namespace.ts); this class records a
 * key's hit or miss on its node and delegates the rest.
 */
import type { KeyRules } from '../backends/backend.js';
import type { Codec } from '../codec/codec.js';
import type { ResolvedOptions } from '../config/options.js';
import { describe } from '../config/node-spec.js';
import { MAX_TTL_SECONDS } from '../config/validate.js';
import { ClosedError, InvalidArgumentError, InvalidValueError, WriteFailedError } from '../errors.js';
import { debug, describeError } from '../debug.js';
import type { ShardcacheEmitter } from '../events.js';
import { countsAgainstNode } from '../node/classify.js';
import type { Clock } from '../node/clock.js';
import type { NodeMembership } from '../routing/membership.js';
import type { CacheNode } from '../node/node.js';
import { alignLoaded, type BatchLoader } from '../loader/batch-answers.js';
import { SingleFlight } from '../loader/single-flight.js';
import { buildStats, type CacheCounters, type CacheStats } from '../observability/cache-stats.js';
import { buildHealth, type CacheHealth } from '../observability/health-report.js';
import { HitRateWindow } from '../observability/hit-rate-window.js';
import type { ReadTally } from '../node/node-stats.js';
import { clearAll, invalidateMatching, type AdminResult, type InvalidateOptions } from './invalidation.js';
import { checkKey } from './keys.js';
import { CacheNamespace, checkNamespaceName, NamespaceVersions } from './namespace.js';
import { scatter, type Batch, type Scattered } from '../routing/scatter.js';

/** A key whose node did not answer, as opposed to a miss (`undefined`). */
const FAILED: unique symbol = Symbol('failed');

export interface SetOptions {
  /** Seconds until the entry expires; 0 means never. @default the cache's `defaultTtlSeconds` */
  ttl?: number;
}

export type Loader<T> = () => T | Promise<T>;
export type { BatchLoader };

/** One key of a detailed batch read. */
export interface KeyResult<T> {
  readonly key: string;
  /** `failed`: the node did not answer (down, hung, breaker open); the value is unknown. */
  readonly status: 'hit' | 'miss' | 'failed';
  readonly value: T | undefined;
  /** `host:port` of the node that answered, or last failed to. */
  readonly node: string;
}

export interface CacheDependencies {
  readonly membership: NodeMembership;
  readonly codec: Codec;
  readonly keyRules: KeyRules;
  readonly options: ResolvedOptions;
  readonly events: ShardcacheEmitter;
  readonly clock: Clock;
  /** Cache-wide read and load counters; the metrics adapter reads them too. */
  readonly counters: CacheCounters;
  /** Runs once when the cache closes (the metrics adapter detaching). */
  readonly onClose?: () => void;
}

export class ShardedCache {
  /** Node ejections and returns, probes and breaker changes. Never emits `error`. */
  readonly events: ShardcacheEmitter;
  readonly #membership: NodeMembership;
  readonly #codec: Codec;
  readonly #keyRules: KeyRules;
  readonly #timeouts: ResolvedOptions['timeouts'];
  readonly #defaultTtlSeconds: number;
  readonly #maxValueBytes: number;
  readonly #loads = new SingleFlight<unknown>();
  readonly #reads: CacheCounters['reads'];
  readonly #loaderStats: CacheCounters['loads'];
  readonly #counters: CacheCounters;
  readonly #clock: Clock;
  readonly #healthOptions: ResolvedOptions['health'];
  readonly #hitRate: HitRateWindow;
  readonly #namespaces: NamespaceVersions;
  readonly #onClose: (() => void) | undefined;
  #closed = false;

  constructor(dependencies: CacheDependencies) {
    this.events = dependencies.events;
    this.#membership = dependencies.membership;
    this.#codec = dependencies.codec;
    this.#keyRules = dependencies.keyRules;
    this.#timeouts = dependencies.options.timeouts;
    this.#defaultTtlSeconds = dependencies.options.defaultTtlSeconds;
    this.#maxValueBytes = dependencies.options.maxValueBytes;
    this.#counters = dependencies.counters;
    this.#reads = dependencies.counters.reads;
    this.#loaderStats = dependencies.counters.loads;
    this.#clock = dependencies.clock;
    this.#healthOptions = dependencies.options.health;
    this.#hitRate = new HitRateWindow(this.#healthOptions.hitRateWindowMs, this.#clock.now());
    this.#namespaces = new NamespaceVersions(this.#membership, this.#clock, dependencies.options, () => this.#assertOpen(), this.#loaderStats);
    this.#onClose = dependencies.onClose;
  }

  /**
   * The value stored under `key`, or `undefined` on a miss, a node failure or
   * an undecodable value.
   * @throws {InvalidKeyError} for an empty, over-long or malformed key.
   */
  get<T = unknown>(key: string): Promise<T | undefined> {
    // Checks that throw become rejections; the read itself is a promise chain
    // (no async layers) because this is the hottest path.
    try {
      this.#assertOpen();
      checkKey(key, this.#keyRules);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#read(key, 0) as Promise<T | undefined>;
  }

  #read(key: string, attempt: number): Promise<unknown> {
    const node = this.#membership.ring.lookup(key)!;
    return node.get(key).then(
      (bytes) => this.#answer(bytes, node.stats.reads.get, node.address),
      (error: unknown) => {
        if (attempt < this.#timeouts.getRetries && countsAgainstNode(error)) return this.#read(key, attempt + 1);
        this.#reads.failures++;
        return undefined;
      },
    );
  }

  /**
   * Values for `keys`, aligned with them (`undefined` for misses and failures).
   * One pipelined round trip per owning node, all nodes in parallel; a key
   * repeated in `keys` is fetched once.
   * @throws {InvalidKeyError} if any key is invalid; nothing is sent.
   */
  mget<T = unknown>(keys: readonly string[]): Promise<(T | undefined)[]> {
    return this.#readMany<T | undefined>(keys, (_key, value) => (value === FAILED ? undefined : (value as T | undefined)));
  }

  /**
   * Like `mget`, but says for each key whether it was a hit, a miss or a
   * failure, and which node answered.
   */
  mgetDetailed<T = unknown>(keys: readonly string[]): Promise<KeyResult<T>[]> {
    return this.#readMany<KeyResult<T>>(keys, (key, value, node) =>
      value === FAILED ? { key, status: 'failed', value: undefined, node } : { key, status: value === undefined ? 'miss' : 'hit', value: value as T | undefined, node },
    );
  }

  /**
   * Reads `keys` (each distinct key once) into an array aligned with them,
   * turning each key's decoded value (`undefined` for a miss, `FAILED` when
   * its node did not answer) into a result. A node's failed batch is retried
   * on whichever node owns its keys by then.
   */
  #readMany<R>(keys: readonly string[], toResult: (key: string, value: unknown, node: string) => R): Promise<R[]> {
    // Checks that throw become rejections; the read is a promise chain (no
    // async layers), as on get.
    let scattered: Scattered<CacheNode>;
    try {
      this.#assertOpen();
      if (!Array.isArray(keys)) throw new InvalidArgumentError('mget takes an array of keys');
      // Each distinct key is checked as it is placed: one pass, and nothing
      // is sent before the last key has passed.
      const rules = this.#keyRules;
      const ring = this.#membership.ring;
      scattered = scatter(keys, (key) => {
        checkKey(key, rules);
        return ring.lookup(key)!;
      });
    } catch (error) {
      return Promise.reject(error);
    }
    const results = new Array<R>(keys.length);
    const { batches, repeats } = scattered;
    return this.#readBatches(batches, 0, results, toResult).then(() => {
      for (const { at, sameAs } of repeats) results[at] = results[sameAs]!;
      return results;
    });
  }

  readonly #ownerOf = (key: string): CacheNode => this.#membership.ring.lookup(key)!;

  /** Reads every batch in parallel; keys of failed batches are read again, by their owners by then, while retries remain. */
  #readBatches<R>(batches: Batch<CacheNode>[], attempt: number, results: R[], toResult: (key: string, value: unknown, node: string) => R): Promise<void> {
    const lastAttempt = attempt >= this.#timeouts.getRetries;
    const retry = { keys: [] as string[], positions: [] as number[] };
    const reads = batches.length === 1 ? this.#readBatch(batches[0]!, lastAttempt, retry, results, toResult) : Promise.all(batches.map((batch) => this.#readBatch(batch, lastAttempt, retry, results, toResult)));
    return reads.then(() => {
      if (retry.keys.length === 0) return;
      return this.#readBatches(scatter(retry.keys, this.#ownerOf, retry.positions).batches, attempt + 1, results, toResult);
    });
  }

  /** Reads one node's batch into `results`; on a failure worth retrying, queues its keys in `retry` instead. */
  #readBatch<R>(
    batch: Batch<CacheNode>,
    lastAttempt: boolean,
    retry: { keys: string[]; positions: number[] },
    results: R[],
    toResult: (key: string, value: unknown, node: string) => R,
  ): Promise<void> {
    const { keys, positions } = batch;
    const node = batch.node.address;
    const tally = batch.node.stats.reads.getMany;
    return batch.node.call('getMany', this.#timeouts.batchMs, (backend) => backend.getMany(keys)).then(
      (values) => {
        for (let i = 0; i < keys.length; i++) results[positions[i]!] = toResult(keys[i]!, this.#answer(values[i], tally, node), node);
      },
      (error: unknown) => {
        if (!lastAttempt && countsAgainstNode(error)) {
          // One at a time: spreading a batch into push() overflows the stack past about 100,000 keys.
          for (let i = 0; i < keys.length; i++) {
            retry.keys.push(keys[i]!);
            retry.positions.push(positions[i]!);
          }
          return;
        }
        this.#reads.failures += keys.length;
        for (let i = 0; i < keys.length; i++) results[positions[i]!] = toResult(keys[i]!, FAILED, node);
      },
    );
  }

  /**
   * Stores `value` under `key`. While the key's owner is ejected the value goes
   * to its stand-in with the TTL capped at `health.failoverTtlSeconds`.
   * @throws {InvalidKeyError | InvalidValueError | InvalidArgumentError} for bad input; nothing is sent.
   * @throws {DeadlineError | NodeError | BreakerOpenError} when the node fails.
   */
  async set(key: string, value: unknown, options?: SetOptions): Promise<void> {
    this.#assertOpen();
    checkKey(key, this.#keyRules);
    const ttl = this.#ttl(options);
    const bytes = this.#encode(value);
    const route = this.#membership.routeWrite(key, ttl);
    await route.node.call('set', this.#timeouts.setMs, (backend) => backend.set(key, bytes, route.ttlSeconds));
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
    // Group by node and by TTL: stand-in writes carry the capped TTL.
    const groups = new Map<CacheNode, Map<number, [string, Buffer][]>>();
    for (const [key, bytes] of encoded) {
      const route = this.#membership.routeWrite(key, ttl);
      const byTtl = groups.get(route.node) ?? new Map<number, [string, Buffer][]>();
      groups.set(route.node, byTtl);
      const list = byTtl.get(route.ttlSeconds) ?? [];
      byTtl.set(route.ttlSeconds, list);
      list.push([key, bytes]);
    }
    const writes = [...groups].flatMap(([node, byTtl]) =>
      [...byTtl].map(async ([ttlSeconds, list]) => {
        try {
          await node.call('setMany', this.#timeouts.batchMs, (backend) => backend.setMany(list, ttlSeconds));
          return undefined;
        } catch (error) {
          return { node: node.address, error };
        }
      }),
    );
    const failures = (await Promise.all(writes)).filter((failure) => failure !== undefined);
    if (failures.length > 0) {
      throw new WriteFailedError(`mset failed on ${[...new Set(failures.map((f) => f.node))].join(', ')}`, { cause: new AggregateError(failures.map((f) => f.error)) });
    }
  }

  /**
   * Removes `key`. Resolves `true` when it existed. While the owner is
   * ejected the stand-in's copy is removed and the owner's is removed before
   * it returns.
   * @throws {DeadlineError | NodeError | BreakerOpenError} when the node fails.
   */
  async del(key: string): Promise<boolean> {
    this.#assertOpen();
    checkKey(key, this.#keyRules);
    const { node } = this.#membership.routeWrite(key, 0);
    return node.call('del', this.#timeouts.setMs, (backend) => backend.del(key));
  }

  /**
   * Read-through: the cached value, or else the loader's, written back best
   * effort (the answer never waits for the write). Concurrent calls for one
   * key share one cache read and one loader call. A loader answer of
   * `undefined` is not cached.
   * @throws whatever the loader throws; never a cache failure.
   */
  async getOrLoad<T>(key: string, loader: Loader<T>, options?: SetOptions): Promise<T> {
    this.#assertOpen();
    checkKey(key, this.#keyRules);
    if (typeof loader !== 'function') throw new InvalidArgumentError('getOrLoad needs a loader function');
    const ttl = this.#ttl(options);
    return this.#loads.run(
      key,
      async () => {
        const cached = await this.get<T>(key);
        if (cached !== undefined) return cached;
        this.#loaderStats.calls++;
        const value = await loader();
        if (value !== undefined) this.#writeBack([[key, value]], ttl);
        return value;
      },
      () => this.#loaderStats.coalesced++,
    ) as Promise<T>;
  }

  /**
   * Batch read-through: values for `keys`, aligned with them. The loader is
   * called once, with only the keys that missed or failed (and that no
   * concurrent call is already loading), and its answers are written back
   * best effort.
   * @throws whatever the loader throws; never a cache failure.
   */
  async mgetOrLoad<T>(keys: readonly string[], loader: BatchLoader<T>, options?: SetOptions): Promise<(T | undefined)[]> {
    this.#assertOpen();
    if (typeof loader !== 'function') throw new InvalidArgumentError('mgetOrLoad needs a loader function');
    const ttl = this.#ttl(options);
    const results = await this.mgetDetailed<T>(keys);
    const missing = [...new Set(results.filter((r) => r.status !== 'hit').map((r) => r.key))];
    if (missing.length === 0) return results.map((r) => r.value);
    const loaded = await this.#loads.runMany(
      missing,
      async (toLoad) => {
        this.#loaderStats.calls++;
        const answers = alignLoaded(toLoad, await loader(toLoad));
        this.#writeBack([...answers].filter((entry): entry is [string, T] => entry[1] !== undefined), ttl);
        return answers as Map<string, unknown>;
      },
      (joined) => (this.#loaderStats.coalesced += joined),
    );
    return results.map((r) => (r.status === 'hit' ? r.value : (loaded.get(r.key) as T | undefined)));
  }

  /**
   * `host:port` of the node that owns `key` now.
   * @throws {InvalidKeyError} for an invalid key.
   */
  nodeFor(key: string): string {
    this.#assertOpen();
    checkKey(key, this.#keyRules);
    return this.#membership.ring.lookup(key)!.address;
  }

  /**
   * A snapshot, per node and for the whole cache: requests by outcome, key
   * reads and hit rate (since creation), latency percentiles over each node's
   * recent requests, and node and breaker state.
   */
  stats(): CacheStats {
    return buildStats(this.#membership.nodes, this.#counters, this.#clock.now());
  }

  /**
   * `up`, `degraded` or `down`, with the reasons: nodes out of the ring,
   * breakers not closed, nodes failing on the ring, a recent hit rate under
   * `health.minHitRate`.
   */
  health(): CacheHealth {
    const hitRate = this.#hitRate.observe(this.#clock.now(), this.#reads.hits, this.#reads.misses);
    return buildHealth(this.#membership.nodes, hitRate, this.#healthOptions);
  }

  /**
   * Deletes the keys matching a glob `pattern` (Redis syntax: `*`, `?`,
   * `[...]`, `\`) on every node: SCAN + UNLINK on Redis, never KEYS. Nodes out
   * of the ring are flushed before they return.
   * @throws {UnsupportedOperationError} on memcached, which cannot list keys: use namespaces there.
   * @throws {WriteFailedError} naming the nodes that failed; the others are done.
   * @example
   * await cache.invalidate('user:42:*');
   */
  async invalidate(pattern: string, options?: InvalidateOptions): Promise<AdminResult> {
    this.#assertOpen();
    return invalidateMatching(this.#membership, pattern, options, this.#timeouts.adminMs);
  }

  /**
   * Drops every entry on every node (FLUSHDB, flush_all). Nodes out of the
   * ring are flushed before they return.
   * @throws {WriteFailedError} naming the nodes that failed; the others are cleared.
   */
  async clear(): Promise<AdminResult> {
    this.#assertOpen();
    try {
      return await clearAll(this.#membership, this.#timeouts.adminMs);
    } finally {
      this.#namespaces.forget();
    }
  }

  /**
   * A view whose keys live in namespace `name` (stored as `name:<version>:key`),
   * so they can all be dropped at once with `invalidateNamespace(name)`, on
   * every backend.
   * @throws {InvalidArgumentError} for a name that is empty, over 128 characters, not well-formed Unicode, holds ':', whitespace or control characters, or whose version key would be over the backend's key limit.
   */
  namespace(name: string): CacheNamespace {
    this.#assertOpen();
    checkNamespaceName(name, this.#keyRules);
    return new CacheNamespace(this, name, this.#namespaces);
  }

  /**
   * Drops every entry of namespace `name` on every node by moving it to a new
   * version, and resolves that version. This process sees it at once, others
   * within `namespaceVersionCacheMs`.
   * @throws {DeadlineError | NodeError | BreakerOpenError} when the node holding the version fails.
   */
  async invalidateNamespace(name: string): Promise<number> {
    checkNamespaceName(name, this.#keyRules);
    return this.#namespaces.bump(name);
  }

  /** Closes every connection and stops every timer. Later calls reject with `ClosedError`. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#onClose?.();
    for (const node of this.#membership.nodes) node.close();
    await Promise.all(this.#membership.nodes.map((node) => node.backend.close()));
  }

  #writeBack(entries: [string, unknown][], ttl: number): void {
    if (this.#closed || entries.length === 0) return;
    const write = entries.length === 1 ? this.set(entries[0]![0], entries[0]![1], { ttl }) : this.mset(entries, { ttl });
    write.catch((error: unknown) => {
      this.#loaderStats.writeBackFailures++;
      debug('write-back of %d loaded value(s) failed (%s)', entries.length, describeError(error));
    });
  }

  /**
   * Decodes a read; counts the hit or miss, for the cache and for the node
   * that answered. An undecodable value is a miss, counted as such too.
   */
  #answer(bytes: Buffer | undefined, tally: ReadTally, node: string): unknown {
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

  #assertOpen(): void {
    if (this.#closed) throw new ClosedError();
  }

  #ttl(options: SetOptions | undefined): number {
    // set(key, value, 60) must not store the value forever with the 60 ignored.
    if (options != null && typeof options !== 'object') throw new InvalidArgumentError(`options must be an object such as { ttl: 60 }, got ${describe(options)}`);
    const ttl = options?.ttl ?? this.#defaultTtlSeconds;
    if (!Number.isInteger(ttl) || ttl < 0 || ttl > MAX_TTL_SECONDS) {
      throw new InvalidArgumentError(`ttl must be a whole number of seconds from 0 to ${MAX_TTL_SECONDS}, got ${describe(ttl)}`);
    }
    return ttl;
  }

  #encode(value: unknown): Buffer {
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
    if (bytes.length > this.#maxValueBytes) {
      throw new InvalidValueError(`value is ${bytes.length} bytes encoded, over maxValueBytes (${this.#maxValueBytes})`);
    }
    return bytes;
  }
}
