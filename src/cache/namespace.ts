/**
 * Namespace views: the cache's calls with keys given without their
 * namespace's prefix (`name:<version>:`). Versions are shared by every view
 * of one cache (namespace-versions.ts says how they work), so a view is
 * cheap to make. A view takes the same calls as the cache (`Cache`), so it
 * can be passed wherever a cache is expected.
 *
 * When the version cannot be read (its node failed and none is known
 * yet), reads are misses, loads go to the loader without writing back (still
 * single-flight), and writes reject.
 */
import { InvalidArgumentError, InvalidKeyError } from '../errors.js';
import { isCacheFailure } from '../node/classify.js';
import type { BatchLoader, CallOptions, KeyResult, Loader } from '../store.js';
import type { Cache } from './cache.js';
import type { WriteOptions } from './call-options.js';
import type { LoadOptions } from './load-options.js';
import { memoize, type WrapOptions } from './wrap.js';
import type { NamespaceVersions } from './namespace-versions.js';

export { checkNamespaceName } from './namespace-versions.js';

/**
 * A view of the cache whose keys live in one namespace; `invalidate()` drops them all.
 * @example
 * const users = cache.namespace('users');
 * await users.set('1', { name: 'Ada' });       // stored as users:<version>:1
 * await cache.invalidateNamespace('users');    // every users entry is gone, on every node
 */
export class CacheNamespace implements Cache {
  readonly name: string;
  readonly #cache: Cache;
  readonly #versions: NamespaceVersions;

  constructor(cache: Cache, name: string, versions: NamespaceVersions) {
    this.#cache = cache;
    this.name = name;
    this.#versions = versions;
  }

  async get<T = unknown>(key: string, options?: CallOptions): Promise<T | undefined> {
    checkKeys([key]);
    const prefix = await this.#prefixForRead();
    return prefix === undefined ? undefined : this.#cache.get<T>(prefix + key, options);
  }

  async mget<T = unknown>(keys: readonly string[], options?: CallOptions): Promise<(T | undefined)[]> {
    checkKeys(keys);
    const prefix = await this.#prefixForRead();
    return prefix === undefined ? keys.map(() => undefined) : this.#cache.mget<T>(keys.map((key) => prefix + key), options);
  }

  async mgetDetailed<T = unknown>(keys: readonly string[], options?: CallOptions): Promise<KeyResult<T>[]> {
    checkKeys(keys);
    let prefix: string;
    try {
      prefix = await this.#versions.prefix(this.name);
    } catch (error) {
      if (!isCacheFailure(error)) throw error;
      const node = (error as { node?: string }).node ?? '';
      return keys.map((key) => ({ key, status: 'failed', value: undefined, node }));
    }
    const results = await this.#cache.mgetDetailed<T>(keys.map((key) => prefix + key), options);
    return results.map((result, i) => ({ ...result, key: keys[i]! }));
  }

  async set(key: string, value: unknown, options?: WriteOptions): Promise<void> {
    checkKeys([key]);
    await this.#cache.set((await this.#versions.prefix(this.name)) + key, value, options);
  }

  async mset(entries: readonly (readonly [string, unknown])[], options?: WriteOptions): Promise<void> {
    // The cache's own rule, checked before the version is read: [key, value] pairs only (a third element was dropped silently).
    if (!Array.isArray(entries) || !entries.every((entry) => Array.isArray(entry) && entry.length === 2)) {
      throw new InvalidArgumentError('mset takes an array of [key, value] pairs');
    }
    checkKeys(entries.map(([key]) => key));
    const prefix = await this.#versions.prefix(this.name);
    await this.#cache.mset(entries.map(([key, value]) => [prefix + key, value] as const), options);
  }

  async del(key: string, options?: CallOptions): Promise<boolean> {
    checkKeys([key]);
    return this.#cache.del((await this.#versions.prefix(this.name)) + key, options);
  }

  async mdel(keys: readonly string[], options?: CallOptions): Promise<void> {
    checkKeys(keys);
    const prefix = await this.#versions.prefix(this.name);
    await this.#cache.mdel(keys.map((key) => prefix + key), options);
  }

  async getOrLoad<T>(key: string, loader: Loader<T>, options?: LoadOptions): Promise<T> {
    checkKeys([key]);
    if (typeof loader !== 'function') throw new InvalidArgumentError('getOrLoad needs a loader function');
    const prefix = await this.#prefixForRead();
    if (prefix === undefined) return this.#versions.loadUnversioned(this.name, key, loader, options?.signal);
    // The loader sees the key without its prefix, as the caller gave it.
    return this.#cache.getOrLoad(prefix + key, (_prefixed, context) => loader(key, context), options);
  }

  async mgetOrLoad<T>(keys: readonly string[], loader: BatchLoader<T>, options?: WriteOptions): Promise<(T | undefined)[]> {
    checkKeys(keys);
    if (typeof loader !== 'function') throw new InvalidArgumentError('mgetOrLoad needs a loader function');
    const prefix = await this.#prefixForRead();
    if (prefix === undefined) return this.#versions.loadManyUnversioned(this.name, keys, loader, options?.signal);
    return this.#cache.mgetOrLoad(
      keys.map((key) => prefix + key),
      async (missing, context) => {
        const own = missing.map((key) => key.slice(prefix.length));
        const answers = await loader(own, context);
        // The cache matches a Map's answers by key: give them back their prefix.
        return answers instanceof Map ? new Map(own.map((key, i) => [missing[i]!, answers.get(key)])) : answers;
      },
      options,
    );
  }

  /** @see Cache.wrap (keys live in this namespace) */
  wrap<A extends unknown[], T>(fn: (...args: A) => T | Promise<T>, options: WrapOptions<A>): (...args: A) => Promise<T> {
    return memoize((key, loader, loadOptions) => this.getOrLoad(key, loader, loadOptions), fn, options);
  }

  /** Drops every entry of the namespace, on every node; resolves the new version. */
  invalidate(): Promise<number> {
    return this.#versions.bump(this.name);
  }

  /** The prefix now, or `undefined` when the version cannot be known (its node failed): reads are then misses. */
  #prefixForRead(): Promise<string | undefined> {
    return this.#versions.prefix(this.name).catch((error: unknown) => {
      if (isCacheFailure(error)) return undefined;
      throw error;
    });
  }
}

function checkKeys(keys: readonly unknown[]): void {
  if (!Array.isArray(keys)) throw new InvalidArgumentError('expected an array of keys');
  for (const key of keys) {
    if (typeof key !== 'string' || key.length === 0) throw new InvalidKeyError(`key must be a non-empty string, got ${typeof key === 'string' ? 'an empty string' : typeof key}`);
  }
}
