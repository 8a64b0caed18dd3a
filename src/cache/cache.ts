/**
 * What applications call: the cache and each of its namespace views take
 * the same calls, so a view can be passed wherever a cache is expected.
 */
import type { BatchLoader, CallOptions, KeyResult, Loader } from '../store.js';
import type { WriteOptions } from './call-options.js';

export interface Cache {
  /** The value, or `undefined` on a miss, a node failure or an undecodable value. */
  get<T = unknown>(key: string, options?: CallOptions): Promise<T | undefined>;
  /** Values aligned with `keys`, `undefined` for misses and failures. */
  mget<T = unknown>(keys: readonly string[], options?: CallOptions): Promise<(T | undefined)[]>;
  /** Like `mget`, with each key's status (hit, miss, failed) and node. */
  mgetDetailed<T = unknown>(keys: readonly string[], options?: CallOptions): Promise<KeyResult<T>[]>;
  set(key: string, value: unknown, options?: WriteOptions): Promise<void>;
  mset(entries: readonly (readonly [string, unknown])[], options?: WriteOptions): Promise<void>;
  /** True when the key existed. */
  del(key: string, options?: CallOptions): Promise<boolean>;
  mdel(keys: readonly string[], options?: CallOptions): Promise<void>;
  /** The cached value, or else the loader's, written back best effort; concurrent loads of one key share one loader call. */
  getOrLoad<T>(key: string, loader: Loader<T>, options?: WriteOptions): Promise<T>;
  /** Batch read-through: one loader call for the keys that missed or failed. */
  mgetOrLoad<T>(keys: readonly string[], loader: BatchLoader<T>, options?: WriteOptions): Promise<(T | undefined)[]>;
}
