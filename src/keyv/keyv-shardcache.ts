/**
 * `KeyvShardcache`: a Keyv 5 storage adapter over a sharded cache, so Keyv,
 * cache-manager and NestJS's cache module keep shardcache's sharding,
 * deadlines and fallback.
 *
 * What must stay true:
 * - Keyv prefixes keys with `<namespace>:` itself; the adapter strips that
 *   prefix and stores the key in the shardcache namespace of the same name
 *   (`<namespace>:<version>:<key>` on the servers). `clear()` moves that
 *   namespace to a new version: it drops this Keyv's entries and nothing
 *   else, on every backend (Memcached cannot list keys, so no SCAN is
 *   needed). A Keyv without a namespace uses the namespace `keyv`.
 * - TTLs arrive in milliseconds and are rounded up to whole seconds: a TTL
 *   under a second is one second, never "no expiry". Keyv stores its own
 *   millisecond expiry in the value and checks it on read; `has` checks it
 *   too for values in Keyv's default format.
 * - Reads never reject because a cache server failed (they are misses);
 *   writes reject with shardcache's typed errors, which Keyv emits as
 *   `error` events (or throws with `throwOnErrors`).
 * - No `iterator`: Memcached cannot list keys, and Keyv only offers
 *   iteration for the adapters its dialect check knows.
 */
import { EventEmitter } from 'node:events';
import type { CacheNamespace } from '../cache/namespace.js';
import { InvalidArgumentError } from '../errors.js';

/** What the adapter needs of a cache: `createCache()`'s result has it. */
export interface KeyvCacheTarget {
  namespace(name: string): CacheNamespace;
  close(): Promise<void>;
}

export interface KeyvShardcacheOptions {
  /**
   * Whether `disconnect()` (cache-manager's `disconnect()`, a NestJS
   * shutdown) closes the cache. Turn it off when the cache is shared with
   * code that outlives this Keyv.
   * @default true
   */
  closeOnDisconnect?: boolean;
  /**
   * The shardcache namespace used while Keyv gives none (`namespace: undefined`).
   * @default 'keyv'
   */
  defaultNamespace?: string;
}

interface Entry {
  key: string;
  value: unknown;
  ttl?: number;
}

/** Keyv's default serialization ends with `"expires":<ms>}` when the value has an expiry. */
const KEYV_EXPIRES = /"expires":(\d+)\}$/;

/**
 * @example
 * import Keyv from 'keyv';
 * import { createCache } from 'shardcache';
 * import { KeyvShardcache } from 'shardcache/keyv';
 * const keyv = new Keyv({ store: new KeyvShardcache(await createCache({ backend: 'memcached', nodes })), namespace: 'users' });
 */
export class KeyvShardcache extends EventEmitter {
  /** Keyv's place for adapter options (its test suite writes `opts.deserialize`). */
  opts: { dialect: 'shardcache'; url: string; closeOnDisconnect: boolean; defaultNamespace: string } & Record<string, unknown>;
  readonly #cache: KeyvCacheTarget;
  #name: string | undefined;
  #view: CacheNamespace | undefined;

  /**
   * @throws {InvalidArgumentError} when `cache` has no `namespace` method, or an option has the wrong type.
   */
  constructor(cache: KeyvCacheTarget, options: KeyvShardcacheOptions = {}) {
    super();
    if (cache === null || typeof cache !== 'object' || typeof cache.namespace !== 'function') {
      throw new InvalidArgumentError('KeyvShardcache takes the cache createCache() resolved');
    }
    const { closeOnDisconnect = true, defaultNamespace = 'keyv', ...unknown } = options;
    const extra = Object.keys(unknown);
    if (extra.length > 0) throw new InvalidArgumentError(`KeyvShardcache: unknown option ${extra.join(', ')}`);
    if (typeof closeOnDisconnect !== 'boolean') throw new InvalidArgumentError(`KeyvShardcache: closeOnDisconnect must be a boolean`);
    if (typeof defaultNamespace !== 'string') throw new InvalidArgumentError(`KeyvShardcache: defaultNamespace must be a string`);
    this.#cache = cache;
    this.opts = { dialect: 'shardcache', url: '', closeOnDisconnect, defaultNamespace };
  }

  /** Set by Keyv: the namespace of the Keyv that holds this adapter. */
  get namespace(): string | undefined {
    return this.#name;
  }

  /**
   * Checked at once, so `new Keyv({ store, namespace })` with a name shardcache
   * cannot use fails there rather than on every call.
   * @throws {InvalidArgumentError} for a name that is not a valid shardcache namespace (`:`, whitespace, too long).
   */
  set namespace(name: string | undefined) {
    this.#view = name === undefined ? undefined : this.#cache.namespace(name);
    this.#name = name;
  }

  async get<Value>(key: string): Promise<Value | undefined> {
    const [view, own] = this.#locate(key);
    return view.get<Value>(own);
  }

  async getMany<Value>(keys: string[]): Promise<(Value | undefined)[]> {
    if (keys.length === 0) return [];
    const view = this.#namespace();
    return view.mget<Value>(keys.map((key) => this.#own(key)));
  }

  /** @param ttl milliseconds; rounded up to whole seconds. */
  async set(key: string, value: unknown, ttl?: number): Promise<boolean> {
    const [view, own] = this.#locate(key);
    await view.set(own, value, ttlOption(ttl));
    return true;
  }

  /**
   * One pipelined round trip per node and distinct TTL. Resolves `true` per
   * entry (what `keyv.setMany` hands back to its caller); typed `void` as
   * Keyv's adapter contract declares it.
   */
  setMany(entries: Entry[]): Promise<void>;
  async setMany(entries: Entry[]): Promise<boolean[] | void> {
    const view = this.#namespace();
    const byTtl = new Map<number | undefined, [string, unknown][]>();
    for (const { key, value, ttl } of entries) {
      const seconds = ttlOption(ttl).ttl;
      let list = byTtl.get(seconds);
      if (list === undefined) byTtl.set(seconds, (list = []));
      list.push([this.#own(key), value]);
    }
    await Promise.all([...byTtl].map(([ttl, list]) => view.mset(list, ttl === undefined ? {} : { ttl })));
    return entries.map(() => true);
  }

  async delete(key: string): Promise<boolean> {
    const [view, own] = this.#locate(key);
    return view.del(own);
  }

  /** True when any of the keys existed (Keyv's contract), so each key is deleted on its own, all in parallel. */
  async deleteMany(keys: string[]): Promise<boolean> {
    const view = this.#namespace();
    const existed = await Promise.all(keys.map((key) => view.del(this.#own(key))));
    return existed.some(Boolean);
  }

  async has(key: string): Promise<boolean> {
    const [view, own] = this.#locate(key);
    return isLive(await view.get(own));
  }

  async hasMany(keys: string[]): Promise<boolean[]> {
    if (keys.length === 0) return [];
    const view = this.#namespace();
    return (await view.mget(keys.map((key) => this.#own(key)))).map(isLive);
  }

  /** Drops this namespace's entries, on every node, by moving it to a new version. */
  async clear(): Promise<void> {
    await this.#namespace().invalidate();
  }

  async disconnect(): Promise<void> {
    if (this.opts.closeOnDisconnect) await this.#cache.close();
  }

  /** The view of Keyv's namespace, or of `defaultNamespace` while Keyv gives none. */
  #namespace(): CacheNamespace {
    this.#view ??= this.#cache.namespace(this.#name ?? this.opts.defaultNamespace);
    return this.#view;
  }

  /** The key without Keyv's `<namespace>:` prefix (Keyv itself treats `a` and `<namespace>:a` as one key). */
  #own(key: string): string {
    if (typeof key !== 'string') throw new InvalidArgumentError(`Keyv keys are strings, got ${typeof key}`);
    const prefix = this.#name === undefined ? undefined : `${this.#name}:`;
    return prefix !== undefined && key.startsWith(prefix) && key.length > prefix.length ? key.slice(prefix.length) : key;
  }

  #locate(key: string): [CacheNamespace, string] {
    return [this.#namespace(), this.#own(key)];
  }
}

/**
 * shardcache's `{ ttl }` (seconds) for Keyv's milliseconds: rounded up, so a
 * TTL under a second still expires; none or 0 leaves the cache's default.
 * @throws {InvalidArgumentError} for a TTL that is not a finite number of milliseconds, 0 or more.
 */
function ttlOption(ttlMs: number | undefined): { ttl?: number } {
  if (ttlMs === undefined || ttlMs === null || ttlMs === 0) return {};
  if (typeof ttlMs !== 'number' || !Number.isFinite(ttlMs) || ttlMs < 0) {
    throw new InvalidArgumentError(`Keyv TTL must be a finite number of milliseconds, 0 or more, got ${String(ttlMs)}`);
  }
  return { ttl: Math.ceil(ttlMs / 1000) };
}

/** Present, and not past the expiry Keyv wrote into it (the server keeps it up to a second longer). */
function isLive(stored: unknown): boolean {
  if (stored === undefined) return false;
  let expires: unknown;
  if (typeof stored === 'string') expires = KEYV_EXPIRES.exec(stored.slice(-40))?.[1];
  else if (stored !== null && typeof stored === 'object' && 'expires' in stored) expires = (stored as { expires: unknown }).expires;
  if (expires === undefined || expires === null) return true;
  return Number(expires) > Date.now();
}
