/**
 * The cache `createCache` hands out: `ShardedCache` with each call published
 * on its tracing channel (tracing.ts) while someone listens. With no
 * subscriber a call costs one `hasSubscribers` check per channel half and
 * goes straight to `ShardedCache`: no context, no closure.
 *
 * Namespace views and `wrap` call the cache, so they are traced here too,
 * with the stored (prefixed) key.
 */
import type { CallOptions, KeyResult, BatchLoader, Loader } from '../store.js';
import { isTraced, traceChannels as channels, type TraceChannel, type TraceContext } from '../tracing.js';
import type { WriteOptions } from './call-options.js';
import type { AdminResult, InvalidateOptions } from './invalidation.js';
import type { LoadOptions } from './load-options.js';
import { ShardedCache, type CacheDependencies } from './sharded-cache.js';

export class TracedCache extends ShardedCache {
  readonly #cacheId: number;

  constructor(dependencies: CacheDependencies) {
    super(dependencies);
    this.#cacheId = dependencies.cacheId;
  }

  override get<T = unknown>(key: string, options?: CallOptions): Promise<T | undefined> {
    return isTraced(channels.get) ? this.#trace(channels.get, 'get', key, () => super.get<T>(key, options)) : super.get<T>(key, options);
  }

  override mget<T = unknown>(keys: readonly string[], options?: CallOptions): Promise<(T | undefined)[]> {
    return isTraced(channels.mget) ? this.#trace(channels.mget, 'mget', keys, () => super.mget<T>(keys, options)) : super.mget<T>(keys, options);
  }

  override mgetDetailed<T = unknown>(keys: readonly string[], options?: CallOptions): Promise<KeyResult<T>[]> {
    return isTraced(channels.mgetDetailed) ? this.#trace(channels.mgetDetailed, 'mgetDetailed', keys, () => super.mgetDetailed<T>(keys, options)) : super.mgetDetailed<T>(keys, options);
  }

  override set(key: string, value: unknown, options?: WriteOptions): Promise<void> {
    return isTraced(channels.set) ? this.#trace(channels.set, 'set', key, () => super.set(key, value, options)) : super.set(key, value, options);
  }

  override mset(entries: readonly (readonly [string, unknown])[], options?: WriteOptions): Promise<void> {
    if (!isTraced(channels.mset)) return super.mset(entries, options);
    const keys = Array.isArray(entries) ? entries.map((entry) => (Array.isArray(entry) ? entry[0] : undefined)) : [];
    return this.#trace(channels.mset, 'mset', keys, () => super.mset(entries, options));
  }

  override del(key: string, options?: CallOptions): Promise<boolean> {
    return isTraced(channels.del) ? this.#trace(channels.del, 'del', key, () => super.del(key, options)) : super.del(key, options);
  }

  override mdel(keys: readonly string[], options?: CallOptions): Promise<void> {
    return isTraced(channels.mdel) ? this.#trace(channels.mdel, 'mdel', keys, () => super.mdel(keys, options)) : super.mdel(keys, options);
  }

  override getOrLoad<T>(key: string, loader: Loader<T>, options?: LoadOptions): Promise<T> {
    return isTraced(channels.getOrLoad) ? this.#trace(channels.getOrLoad, 'getOrLoad', key, () => super.getOrLoad(key, loader, options)) : super.getOrLoad(key, loader, options);
  }

  override mgetOrLoad<T>(keys: readonly string[], loader: BatchLoader<T>, options?: WriteOptions): Promise<(T | undefined)[]> {
    return isTraced(channels.mgetOrLoad) ? this.#trace(channels.mgetOrLoad, 'mgetOrLoad', keys, () => super.mgetOrLoad(keys, loader, options)) : super.mgetOrLoad(keys, loader, options);
  }

  override invalidate(pattern: string, options?: InvalidateOptions): Promise<AdminResult> {
    return isTraced(channels.invalidate) ? this.#trace(channels.invalidate, 'invalidate', pattern, () => super.invalidate(pattern, options)) : super.invalidate(pattern, options);
  }

  override invalidateNamespace(name: string): Promise<number> {
    return isTraced(channels.invalidateNamespace) ? this.#trace(channels.invalidateNamespace, 'invalidateNamespace', name, () => super.invalidateNamespace(name)) : super.invalidateNamespace(name);
  }

  override clear(): Promise<AdminResult> {
    return isTraced(channels.clear) ? this.#trace(channels.clear, 'clear', undefined, () => super.clear()) : super.clear();
  }

  /** Runs `call` on `channel`: start, end, then asyncStart/asyncEnd or error, with one context. */
  #trace<R>(channel: TraceChannel, operation: string, target: string | readonly unknown[] | undefined, call: () => Promise<R>): Promise<R> {
    const cache = this.#cacheId;
    const context: TraceContext =
      typeof target === 'string' ? { cache, operation, key: target } : target === undefined ? { cache, operation } : { cache, operation, keys: target as readonly string[] };
    return channel.tracePromise(call, context);
  }
}
