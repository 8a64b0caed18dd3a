/**
 * What applications call: the cache and each of its namespace views take
 * the same calls, so a view can be passed wherever a cache is expected.
 *
 * Every call checks its arguments first: a bad key, value, TTL or option
 * rejects with a typed error before anything is sent. Every call takes
 * `{ signal, deadlineMs }`: an aborted signal rejects the call at once with
 * its reason (work other callers share goes on, and no node is blamed);
 * `deadlineMs` replaces the configured deadline for that call's requests.
 */
import type { BatchLoader, CallOptions, KeyResult, Loader } from '../store.js';
import type { WriteOptions } from './call-options.js';
import type { LoadOptions } from './load-options.js';
import type { WrapOptions } from './wrap.js';

export interface Cache {
  /**
   * The value stored under `key`, or `undefined` on a miss, a node failure
   * or an undecodable value: a read never rejects because of the cache.
   * @throws {InvalidKeyError} for an empty, over-long or malformed key.
   */
  get<T = unknown>(key: string, options?: CallOptions): Promise<T | undefined>;
  /**
   * Values for `keys`, aligned with them (`undefined` for misses and
   * failures). One pipelined round trip per owning node, all nodes in
   * parallel; a key repeated in `keys` is fetched once.
   * @throws {InvalidKeyError} if any key is invalid; nothing is sent.
   */
  mget<T = unknown>(keys: readonly string[], options?: CallOptions): Promise<(T | undefined)[]>;
  /** Like `mget`, but says for each key whether it was a hit, a miss or a failure, and which node answered. */
  mgetDetailed<T = unknown>(keys: readonly string[], options?: CallOptions): Promise<KeyResult<T>[]>;
  /**
   * Stores `value` under `key`, on every copy (`replication.copies`) in
   * parallel. While a copy is ejected the value goes to its stand-in with
   * the TTL capped at `health.failoverTtlSeconds`.
   * @throws {InvalidKeyError | InvalidValueError | InvalidArgumentError} for bad input; nothing is sent.
   * @throws {DeadlineError | NodeError | BreakerOpenError} when the node fails (one copy).
   * @throws {WriteFailedError} with several copies, when none took the write; a copy that missed it is not read for the key until repaired.
   */
  set(key: string, value: unknown, options?: WriteOptions): Promise<void>;
  /**
   * Stores every entry, one pipelined round trip per owning node; when a key
   * appears twice the last value wins. One bad key or value sends nothing.
   * @throws {WriteFailedError} naming the nodes that failed; the others were written.
   */
  mset(entries: readonly (readonly [string, unknown])[], options?: WriteOptions): Promise<void>;
  /**
   * Removes `key` from every copy; resolves `true` when it existed on one.
   * While a copy is ejected the stand-in's copy is removed, and the ejected
   * copy's before it returns.
   * @throws {DeadlineError | NodeError | BreakerOpenError} when the node fails (one copy).
   * @throws {WriteFailedError} with several copies, when none could be reached.
   */
  del(key: string, options?: CallOptions): Promise<boolean>;
  /**
   * Removes every key, one pipelined round trip per owning node.
   * @throws {WriteFailedError} naming the nodes that failed; the others were done.
   */
  mdel(keys: readonly string[], options?: CallOptions): Promise<void>;
  /**
   * Read-through: the cached value, or else the loader's, written back best
   * effort (the answer never waits for the write). Concurrent calls for one
   * key share one cache read and one loader call; the loader's signal aborts
   * once no caller waits. A loader answer of `undefined` is not cached.
   * With `refreshAhead`, a hot entry is reloaded in the background before it
   * expires, so its readers keep the cached value instead of waiting.
   * @throws whatever the loader throws, or the signal's reason; never a cache failure.
   * @throws {InvalidArgumentError} for `refreshAhead` without a TTL, or a bad `beta`.
   * @example
   * const user = await cache.getOrLoad('user:1', (key, { signal }) => db.user(1, { signal }), { ttl: 60 });
   */
  getOrLoad<T>(key: string, loader: Loader<T>, options?: LoadOptions): Promise<T>;
  /**
   * Batch read-through: values for `keys`, aligned with them. The loader is
   * called once, with only the keys that missed or failed (and that no
   * concurrent call is already loading); its answers are written back best effort.
   * @throws whatever the loader throws, or the signal's reason; never a cache failure.
   */
  mgetOrLoad<T>(keys: readonly string[], loader: BatchLoader<T>, options?: WriteOptions): Promise<(T | undefined)[]>;
  /**
   * `fn`, memoized in the cache: each call's key comes from `options.key(...args)`
   * and goes through `getOrLoad`, so concurrent calls with one key share one
   * call of `fn`, its errors are never cached, and a cache failure only means
   * `fn` runs. On a namespace view the keys live in the namespace.
   * @throws {InvalidArgumentError} at once, for a missing `key` function or a malformed option.
   * @example
   * const cachedUser = cache.wrap((id: number) => db.user(id), { key: (id) => `user:${id}`, ttl: 60 });
   * const ada = await cachedUser(1);
   */
  wrap<A extends unknown[], T>(fn: (...args: A) => T | Promise<T>, options: WrapOptions<A>): (...args: A) => Promise<T>;
}
