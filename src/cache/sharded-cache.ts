/**
 * ShardedCache: the facade applications hold. It checks every argument at
 * the edge (keys, TTLs, per-call options: a bad one rejects the call before
 * anything is sent), hands the call to the store chain composed in
 * create-cache.ts (read-through over routing over the nodes), and stops a
 * caller's wait when its signal aborts. Administration (invalidation,
 * clear), namespaces and reports are delegated to their own modules.
 *
 * Contract:
 * - `get`, `mget`, `mgetDetailed`, `getOrLoad`, `mgetOrLoad` never reject
 *   because a node failed, was out or could not decode a value: that is a
 *   miss. They reject only on programming errors (bad key, bad argument),
 *   loader errors and aborted signals.
 * - `set`, `mset`, `del`, `mdel` reject with a `ShardcacheError` when a node fails.
 */
import { untilAborted } from '../abort.js';
import type { KeyRules } from '../backends/backend.js';
import type { ResolvedOptions } from '../config/options.js';
import { ClosedError, InvalidArgumentError } from '../errors.js';
import type { ShardcacheEmitter } from '../events.js';
import type { CacheHealth } from '../observability/health-report.js';
import type { CacheStats } from '../observability/cache-stats.js';
import type { CacheNode } from '../node/node.js';
import type { NodeMembership } from '../routing/membership.js';
import type { NodeChanges, PoolChange } from '../routing/pool-change.js';
import type { NodeSpec } from '../config/options.js';
import type { BatchLoader, CallOptions, KeyResult, Loader, LoadingStore } from '../store.js';
import type { Cache } from './cache.js';
import { checkCallOptions, ttlOf, type WriteOptions } from './call-options.js';
import { refreshAheadOf, type LoadOptions } from './load-options.js';
import { memoize, type WrapOptions } from './wrap.js';
import { clearAll, invalidateMatching, type AdminResult, type InvalidateOptions } from './invalidation.js';
import { checkKey } from './keys.js';
import { globMatcher } from '../backends/glob.js';
import type { LocalAdmin } from '../local/local-tier.js';
import { CacheNamespace, checkNamespaceName } from './namespace.js';
import { NamespaceVersions } from './namespace-versions.js';

export interface CacheDependencies {
  /** Names this cache in traces (channels are process-wide). */
  readonly cacheId: number;
  /** The top of the store chain. */
  readonly store: LoadingStore;
  readonly membership: NodeMembership;
  readonly keyRules: KeyRules;
  readonly options: ResolvedOptions;
  readonly events: ShardcacheEmitter;
  readonly namespaces: NamespaceVersions;
  readonly reports: { stats(): CacheStats; health(): CacheHealth };
  /** Shared with the layers that must know (write-backs stop once closed). */
  readonly lifecycle: { closed: boolean };
  /** Live membership changes (`setNodes`). */
  readonly poolChange: Pick<PoolChange, 'setNodes'>;
  /** Runs once when the cache closes (the metrics adapter detaching). */
  readonly onClose?: () => void;
  /** The local tier, when configured: told of clears and invalidations, closed with the cache. */
  readonly local?: { readonly admin: LocalAdmin; close(): Promise<void> } | undefined;
}

export class ShardedCache implements Cache {
  /** Node ejections and returns, probes and breaker changes. Never emits `error`. */
  readonly events: ShardcacheEmitter;
  readonly #store: LoadingStore;
  readonly #membership: NodeMembership;
  readonly #keyRules: KeyRules;
  readonly #options: ResolvedOptions;
  readonly #namespaces: NamespaceVersions;
  readonly #reports: CacheDependencies['reports'];
  readonly #lifecycle: { closed: boolean };
  readonly #onClose: (() => void) | undefined;
  readonly #poolChange: CacheDependencies['poolChange'];
  readonly #local: CacheDependencies['local'];

  constructor(dependencies: CacheDependencies) {
    this.events = dependencies.events;
    this.#store = dependencies.store;
    this.#membership = dependencies.membership;
    this.#keyRules = dependencies.keyRules;
    this.#options = dependencies.options;
    this.#namespaces = dependencies.namespaces;
    this.#reports = dependencies.reports;
    this.#lifecycle = dependencies.lifecycle;
    this.#onClose = dependencies.onClose;
    this.#poolChange = dependencies.poolChange;
    this.#local = dependencies.local;
  }

  /** @see Cache.get */
  get<T = unknown>(key: string, options?: CallOptions): Promise<T | undefined> {
    // Checks that throw become rejections; no async layers on the hottest path.
    try {
      this.#assertOpen();
      checkKey(key, this.#keyRules);
      if (options !== undefined) checkCallOptions(options);
    } catch (error) {
      return Promise.reject(error);
    }
    // No signal, no wrapper: this is the hottest path.
    const signal = options?.signal;
    return (signal === undefined ? this.#store.get(key, options) : untilAborted(signal, () => this.#store.get(key, options))) as Promise<T | undefined>;
  }

  /** @see Cache.mget */
  mget<T = unknown>(keys: readonly string[], options?: CallOptions): Promise<(T | undefined)[]> {
    return this.#batchRead(keys, options, () => this.#store.getValues(keys, options));
  }

  /** @see Cache.mgetDetailed */
  mgetDetailed<T = unknown>(keys: readonly string[], options?: CallOptions): Promise<KeyResult<T>[]> {
    return this.#batchRead(keys, options, () => this.#store.getMany(keys, options));
  }

  /** Checks a batch read's keys and options (a bad one rejects the call with nothing sent), then reads. */
  #batchRead<R>(keys: readonly string[], options: CallOptions | undefined, read: () => Promise<unknown>): Promise<R> {
    try {
      this.#checkKeys(keys, 'mget');
      if (options !== undefined) checkCallOptions(options);
    } catch (error) {
      return Promise.reject(error);
    }
    return untilAborted(options?.signal, read) as Promise<R>;
  }

  /** @see Cache.set */
  async set(key: string, value: unknown, options?: WriteOptions): Promise<void> {
    this.#assertOpen();
    checkKey(key, this.#keyRules);
    const ttl = ttlOf(options, this.#options.defaultTtlSeconds);
    return untilAborted(options?.signal, () => this.#store.set(key, value, ttl, options));
  }

  /** @see Cache.mset */
  async mset(entries: readonly (readonly [string, unknown])[], options?: WriteOptions): Promise<void> {
    this.#assertOpen();
    const ttl = ttlOf(options, this.#options.defaultTtlSeconds);
    if (!Array.isArray(entries)) throw new InvalidArgumentError('mset takes an array of [key, value] pairs');
    for (const entry of entries) {
      if (!Array.isArray(entry) || entry.length !== 2) throw new InvalidArgumentError('mset takes an array of [key, value] pairs');
      checkKey(entry[0], this.#keyRules);
    }
    return untilAborted(options?.signal, () => this.#store.setMany(entries, ttl, options));
  }

  /** @see Cache.del */
  async del(key: string, options?: CallOptions): Promise<boolean> {
    this.#assertOpen();
    checkKey(key, this.#keyRules);
    checkCallOptions(options);
    return untilAborted(options?.signal, () => this.#store.del(key, options));
  }

  /** @see Cache.mdel */
  async mdel(keys: readonly string[], options?: CallOptions): Promise<void> {
    this.#checkKeys(keys, 'mdel');
    checkCallOptions(options);
    return untilAborted(options?.signal, () => this.#store.delMany(keys, options));
  }

  /** @see Cache.getOrLoad */
  async getOrLoad<T>(key: string, loader: Loader<T>, options?: LoadOptions): Promise<T> {
    this.#assertOpen();
    checkKey(key, this.#keyRules);
    if (typeof loader !== 'function') throw new InvalidArgumentError('getOrLoad needs a loader function');
    const ttl = ttlOf(options, this.#options.defaultTtlSeconds);
    const refreshAhead = refreshAheadOf(options, ttl);
    if (options?.signal?.aborted === true) throw options.signal.reason;
    // The store takes refreshAhead checked and filled in (`true` becomes `{ beta: 1 }`, `false` is dropped).
    const storeOptions = options?.refreshAhead === undefined ? (options as CallOptions | undefined) : { signal: options.signal, deadlineMs: options.deadlineMs, refreshAhead };
    return this.#store.getOrLoad(key, loader, ttl, storeOptions);
  }

  /** @see Cache.mgetOrLoad */
  async mgetOrLoad<T>(keys: readonly string[], loader: BatchLoader<T>, options?: WriteOptions): Promise<(T | undefined)[]> {
    this.#checkKeys(keys, 'mgetOrLoad');
    if (typeof loader !== 'function') throw new InvalidArgumentError('mgetOrLoad needs a loader function');
    const ttl = ttlOf(options, this.#options.defaultTtlSeconds);
    return untilAborted(options?.signal, () => this.#store.mgetOrLoad(keys, loader, ttl, options));
  }

  /** @see Cache.wrap */
  wrap<A extends unknown[], T>(fn: (...args: A) => T | Promise<T>, options: WrapOptions<A>): (...args: A) => Promise<T> {
    this.#assertOpen();
    return memoize((key, loader, loadOptions) => this.getOrLoad(key, loader, loadOptions), fn, options);
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
   * `host:port` of every node holding `key` now (`replication.copies` of
   * them, fewer while nodes are out): distinct, the owner (`nodeFor`) first,
   * then the next copies clockwise on the ring.
   * @throws {InvalidKeyError} for an invalid key.
   * @example
   * cache.nodesFor('user:1'); // ['10.0.0.2:11211', '10.0.0.3:11211']
   */
  nodesFor(key: string): string[] {
    this.#assertOpen();
    checkKey(key, this.#keyRules);
    const copies: CacheNode[] = [];
    const count = this.#membership.copiesOf(key, copies);
    return copies.slice(0, count).map((node) => node.address);
  }

  /**
   * Changes the pool live (add, remove, re-weight nodes) without a restart.
   * Nodes that stay keep their places on the ring, so only the keys the
   * change moves change owner. Nodes that join are connected first; with
   * `warmup`, every node warms for `warmup.durationMs` (a miss is read where
   * the key lived before and added). Nodes that leave are closed once their
   * requests in flight have settled. Calls run one after another.
   * @throws {ConfigError} for a malformed or duplicate node, an empty list, or fewer nodes than `replication.copies`; nothing changes.
   * @example
   * await cache.setNodes([...nodes, '10.0.0.4:11211']);
   */
  async setNodes(nodes: NodeSpec[]): Promise<NodeChanges> {
    this.#assertOpen();
    return this.#poolChange.setNodes(nodes);
  }

  /**
   * A snapshot, per node and for the whole cache: requests by outcome, key
   * reads and hit rate (since creation), latency percentiles over each node's
   * recent requests, and node and breaker state.
   */
  stats(): CacheStats {
    return this.#reports.stats();
  }

  /**
   * `up`, `degraded` or `down`, with the reasons: nodes out of the ring,
   * breakers not closed, nodes failing on the ring, a recent hit rate under
   * `health.minHitRate`.
   */
  health(): CacheHealth {
    return this.#reports.health();
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
    const work = invalidateMatching(this.#membership, pattern, options, this.#options.timeouts.adminMs);
    const local = this.#local?.admin;
    if (local === undefined) return work;
    // Before and after: a read racing the servers' deletes must not keep what they delete.
    const matches = globMatcher(pattern);
    local.forgetMatching(matches);
    return work.finally(() => local.forgetMatching(matches));
  }

  /**
   * Drops every entry on every node (FLUSHDB, flush_all). Nodes out of the
   * ring are flushed before they return.
   * @throws {WriteFailedError} naming the nodes that failed; the others are cleared.
   */
  async clear(): Promise<AdminResult> {
    this.#assertOpen();
    this.#local?.admin.forgetAll();
    try {
      return await clearAll(this.#membership, this.#options.timeouts.adminMs);
    } finally {
      this.#namespaces.forget();
      this.#local?.admin.forgetAll();
    }
  }

  /**
   * A view whose keys live in namespace `name` (stored as `name:<version>:key`),
   * so they can all be dropped at once with `invalidateNamespace(name)`, on
   * every backend. It takes the same calls as the cache.
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
    const version = await this.#namespaces.bump(name);
    const prefix = `${name}:`;
    this.#local?.admin.forgetMatching((key) => key.startsWith(prefix));
    return version;
  }

  /** Closes every connection and stops every timer. Later calls reject with `ClosedError`. */
  async close(): Promise<void> {
    if (this.#lifecycle.closed) return;
    this.#lifecycle.closed = true;
    this.#onClose?.();
    await this.#local?.close();
    for (const node of this.#membership.nodes) node.close();
    await Promise.all(this.#membership.nodes.map((node) => node.backend.close()));
  }

  #assertOpen(): void {
    if (this.#lifecycle.closed) throw new ClosedError();
  }

  #checkKeys(keys: readonly string[], call: string): void {
    this.#assertOpen();
    if (!Array.isArray(keys)) throw new InvalidArgumentError(`${call} takes an array of keys`);
    const rules = this.#keyRules;
    for (let i = 0; i < keys.length; i++) checkKey(keys[i], rules);
  }
}

