/**
 * Refresh ahead for `getOrLoad(key, loader, { ttl, refreshAhead })`: a hot
 * entry is reloaded in the background before it expires, so its readers
 * keep getting the cached value and never wait for the loader.
 *
 * When to refresh is XFetch (probabilistic early expiration, Vattani,
 * Chierichetti and Lowenstein, VLDB 2015): a read at time `now` refreshes
 * when `now - loadMs * beta * ln(random()) >= expiresAt`. The chance grows
 * as the expiry nears and with how long the load takes, so a slow load
 * starts earlier, and many readers in many processes trigger about one
 * refresh rather than one each (a fixed threshold, cache-manager's
 * `refreshThreshold`, refreshes once per process that reads inside the
 * window, and needs tuning per key). `beta` > 1 refreshes earlier.
 *
 * What must stay true:
 * - the expiry and load time travel with the value (codec/stamp.ts), written
 *   only for these entries; a plain entry (written by `set` or another
 *   client) is served as it is, and replaced with a stamped one when it
 *   next misses;
 * - one refresh per key at a time in this process; a reader that misses
 *   while it runs waits for it rather than loading again;
 * - a refresh never rejects anywhere: its failure is counted, the entry
 *   stays until it expires;
 * - the stamped expiry is a second early (at most half the TTL): Memcached
 *   counts expiry in whole seconds of its own clock.
 */
import { Stamped } from '../codec/stamp.js';
import type { CacheCounters } from '../counters.js';
import { debug, describeError } from '../debug.js';
import type { CallOptions, Loader, Store } from '../store.js';
import { callLoader } from './traced-load.js';

/** A store that can answer an entry with its stamp (the routing layer). */
export interface EntryStore extends Store {
  getEntry(key: string, options?: CallOptions): Promise<unknown>;
}

export interface LoadTime {
  /** Wall clock, ms since the epoch: stamps are compared across processes. */
  wallNow(): number;
  /** Monotonic ms, to time loads. */
  now(): number;
  /** In [0, 1). */
  random(): number;
}

const EXPIRY_MARGIN_MS = 1000;

/** XFetch's rule: whether a read at `nowMs` should refresh `entry` now. */
export function refreshDue(entry: Stamped, nowMs: number, random: number, beta: number): boolean {
  return nowMs - entry.loadMs * beta * Math.log(random) >= entry.expiresAtMs;
}

export class RefreshAhead {
  readonly #inner: EntryStore;
  readonly #counts: CacheCounters['loads'];
  readonly #closed: () => boolean;
  readonly #time: LoadTime;
  readonly #cacheId: number;
  readonly #refreshing = new Map<string, Promise<unknown>>();

  constructor(inner: EntryStore, counts: CacheCounters['loads'], closed: () => boolean, time: LoadTime, cacheId: number) {
    this.#inner = inner;
    this.#counts = counts;
    this.#closed = closed;
    this.#time = time;
    this.#cacheId = cacheId;
  }

  /** The shared read of one getOrLoad: the cached value (refreshing it when due), or the loader's. */
  async readOrLoad<T>(key: string, loader: Loader<T>, ttlSeconds: number, beta: number, readOptions: CallOptions | undefined, signal: AbortSignal): Promise<T> {
    const entry = await this.#inner.getEntry(key, readOptions);
    if (entry instanceof Stamped) {
      if (refreshDue(entry, this.#time.wallNow(), this.#time.random(), beta)) this.#refresh(key, loader, ttlSeconds);
      return entry.value as T;
    }
    if (entry !== undefined) return entry as T;
    const refreshing = this.#refreshing.get(key);
    if (refreshing !== undefined) {
      const refreshed = await refreshing.catch(() => undefined);
      if (refreshed !== undefined) return refreshed as T;
    }
    const { value, write } = await this.#load(key, loader, ttlSeconds, signal, false);
    write?.catch((error: unknown) => this.#writeBackFailed(error));
    return value;
  }

  get refreshing(): number {
    return this.#refreshing.size;
  }

  #refresh<T>(key: string, loader: Loader<T>, ttlSeconds: number): void {
    if (this.#refreshing.has(key) || this.#closed()) return;
    this.#counts.refreshes++;
    // Nobody waits for a refresh, so nobody can cancel it: its signal never aborts.
    const refresh = this.#load(key, loader, ttlSeconds, new AbortController().signal, true).then(async ({ value, write }) => {
      // Kept in flight until the new entry is stored: a reader missing meanwhile waits for it.
      await write?.catch((error: unknown) => this.#writeBackFailed(error));
      return value;
    });
    this.#refreshing.set(key, refresh);
    refresh
      .catch((error: unknown) => {
        this.#counts.refreshFailures++;
        debug('refresh-ahead load failed (%s): the entry stays until it expires', describeError(error));
      })
      .finally(() => this.#refreshing.delete(key));
  }

  async #load<T>(key: string, loader: Loader<T>, ttlSeconds: number, signal: AbortSignal, refresh: boolean): Promise<{ value: T; write: Promise<void> | undefined }> {
    this.#counts.calls++;
    const started = this.#time.now();
    const value = await callLoader(this.#cacheId, key, (context) => loader(key, context), { signal }, refresh);
    if (value === undefined || this.#closed()) return { value, write: undefined };
    const loadMs = Math.max(0, this.#time.now() - started);
    const ttlMs = ttlSeconds * 1000;
    const stamped = new Stamped(value, this.#time.wallNow() + ttlMs - Math.min(EXPIRY_MARGIN_MS, ttlMs / 2), loadMs);
    return { value, write: this.#inner.set(key, stamped, ttlSeconds) };
  }

  #writeBackFailed(error: unknown): void {
    this.#counts.writeBackFailures++;
    debug('write-back of a loaded value failed (%s)', describeError(error));
  }
}
