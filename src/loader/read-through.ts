/**
 * Read-through: `getOrLoad` and `mgetOrLoad` over the store below. A miss
 * or a cache failure calls the loader, whose answer goes back to the caller
 * at once and is written back best effort (a failed write-back is counted,
 * never thrown). Concurrent loads of one key share one cache read and one
 * loader call (single-flight); an `undefined` answer is not cached; loader
 * errors reach every caller of that load and are not cached.
 *
 * The loader gets the key and a signal that aborts once no caller waits for
 * its answer: a caller whose own signal aborts stops waiting at once, and
 * the load goes on for the others.
 *
 * With `refreshAhead` (and a TTL), getOrLoad stores the entry's expiry and
 * load time next to the value and refreshes it in the background before it
 * expires (refresh-ahead.ts).
 */
import type { CacheCounters } from '../counters.js';
import { debug, describeError } from '../debug.js';
import type { BatchLoader, CallOptions, KeyResult, LoadCallOptions, Loader, LoadingStore } from '../store.js';
import { alignLoaded } from './batch-answers.js';
import { RefreshAhead, type EntryStore, type LoadTime } from './refresh-ahead.js';
import { SingleFlight } from './single-flight.js';
import { callLoader } from './traced-load.js';

export class ReadThrough implements LoadingStore {
  readonly #inner: EntryStore;
  readonly #loads = new SingleFlight<unknown>();
  readonly #counts: CacheCounters['loads'];
  readonly #closed: () => boolean;
  readonly #cacheId: number;
  readonly #ahead: RefreshAhead;

  /**
   * @param closed whether the cache is closed (write-backs are skipped then).
   * @param time clocks and randomness for refresh-ahead; `cacheId` names the cache in traces.
   */
  constructor(inner: EntryStore, counts: CacheCounters['loads'], closed: () => boolean, time: LoadTime, cacheId: number) {
    this.#inner = inner;
    this.#counts = counts;
    this.#closed = closed;
    this.#cacheId = cacheId;
    this.#ahead = new RefreshAhead(inner, counts, closed, time, cacheId);
  }

  get(key: string, options?: CallOptions): Promise<unknown> {
    return this.#inner.get(key, options);
  }

  getMany(keys: readonly string[], options?: CallOptions): Promise<KeyResult[]> {
    return this.#inner.getMany(keys, options);
  }

  getValues(keys: readonly string[], options?: CallOptions): Promise<unknown[]> {
    return this.#inner.getValues(keys, options);
  }

  set(key: string, value: unknown, ttlSeconds: number, options?: CallOptions): Promise<void> {
    return this.#inner.set(key, value, ttlSeconds, options);
  }

  setMany(entries: readonly (readonly [string, unknown])[], ttlSeconds: number, options?: CallOptions): Promise<void> {
    return this.#inner.setMany(entries, ttlSeconds, options);
  }

  del(key: string, options?: CallOptions): Promise<boolean> {
    return this.#inner.del(key, options);
  }

  delMany(keys: readonly string[], options?: CallOptions): Promise<void> {
    return this.#inner.delMany(keys, options);
  }

  getOrLoad<T>(key: string, loader: Loader<T>, ttlSeconds: number, options?: LoadCallOptions): Promise<T> {
    // The shared read answers every caller, so it keeps the call's deadline but not one caller's signal.
    const readOptions = options?.deadlineMs === undefined ? undefined : { deadlineMs: options.deadlineMs };
    const ahead = options?.refreshAhead;
    if (ahead !== undefined && ttlSeconds > 0) {
      return this.#loads.run(key, (signal) => this.#ahead.readOrLoad(key, loader, ttlSeconds, ahead.beta, readOptions, signal), () => this.#counts.coalesced++, options?.signal) as Promise<T>;
    }
    return this.#loads.run(
      key,
      async (signal) => {
        const cached = await this.#inner.get(key, readOptions);
        if (cached !== undefined) return cached;
        this.#counts.calls++;
        const value = await callLoader(this.#cacheId, key, (context) => loader(key, context), { signal });
        if (value !== undefined) this.#writeBack([[key, value]], ttlSeconds);
        return value;
      },
      () => this.#counts.coalesced++,
      options?.signal,
    ) as Promise<T>;
  }

  async mgetOrLoad<T>(keys: readonly string[], loader: BatchLoader<T>, ttlSeconds: number, options?: CallOptions): Promise<(T | undefined)[]> {
    const results = await this.#inner.getMany(keys, options);
    const missing = [...new Set(results.filter((r) => r.status !== 'hit').map((r) => r.key))];
    if (missing.length === 0) return results.map((r) => r.value as T);
    const loaded = await this.#loads.runMany(
      missing,
      async (toLoad, signal) => {
        this.#counts.calls++;
        const answers = alignLoaded(toLoad, await callLoader(this.#cacheId, toLoad, (context) => loader(toLoad, context), { signal }));
        this.#writeBack([...answers].filter((entry): entry is [string, T] => entry[1] !== undefined), ttlSeconds);
        return answers as Map<string, unknown>;
      },
      (joined) => (this.#counts.coalesced += joined),
      options?.signal,
    );
    return results.map((r) => (r.status === 'hit' ? r.value : loaded.get(r.key)) as T | undefined);
  }

  #writeBack(entries: [string, unknown][], ttlSeconds: number): void {
    if (this.#closed() || entries.length === 0) return;
    const write = entries.length === 1 ? this.#inner.set(entries[0]![0], entries[0]![1], ttlSeconds) : this.#inner.setMany(entries, ttlSeconds);
    write.catch((error: unknown) => {
      this.#counts.writeBackFailures++;
      debug('write-back of %d loaded value(s) failed (%s)', entries.length, describeError(error));
    });
  }
}
