/**
 * Namespaces: groups of keys dropped together by changing a version, on
 * every backend (memcached cannot list keys, so this is the only way there).
 *
 * - A namespace `users` stores `key` as `users:<version>:key`. Its version is
 *   a counter under `users:__version`, on whichever node the ring gives that
 *   key. `invalidateNamespace('users')` increments it: entries of older
 *   versions become unreachable and age out by their TTL (or LRU).
 * - A missing version counter is created holding the wall-clock time in
 *   microseconds (./version-clock.ts), never 0 or 1; an invalidation adds 1.
 *   The counter gets ahead of the clock only if the namespace is invalidated
 *   more than once a microsecond on average from the counter's creation on,
 *   and each invalidation is a round trip to the counter's server. So a
 *   counter lost to eviction, a restart or a flush, re-created from a later
 *   reading of the clock, starts above every version handed out before: a
 *   lost counter invalidates the namespace instead of resurrecting old
 *   entries. Milliseconds were too coarse: a counter created and bumped
 *   within one, then lost and re-created within the next, came back at the
 *   bumped version. This assumes the clocks of the processes sharing the
 *   cache agree to within the time between a counter's creation and its loss.
 * - Each process reuses a version it read for `namespaceVersionCacheMs`
 *   (1 s by default): an invalidation made by another process is seen here
 *   within that time; one made by this process, at once. Concurrent reads of
 *   one version share one request.
 * - When the version's node fails, the last version this process knew is
 *   used, however old: nobody can have moved the version on a node nobody
 *   reaches (an ejected node's counter is re-created on its stand-in, which
 *   invalidates). With no version known yet, reads are misses (getOrLoad calls
 *   its loader, without writing back, and concurrent loads of one key still
 *   share one loader call) and writes reject.
 * - Names are 1 to 128 characters of well-formed Unicode without ':' (so no
 *   namespace's keys can collide with another's), whitespace or control
 *   characters, short enough that the version key fits the backend's key
 *   limit. The prefix counts against that limit.
 */
import type { KeyRules } from '../backends/backend.js';
import { describe } from '../config/node-spec.js';
import type { ResolvedOptions } from '../config/options.js';
import { InvalidArgumentError } from '../errors.js';
import { alignLoaded } from '../loader/batch-answers.js';
import { SingleFlight } from '../loader/single-flight.js';
import { countsAgainstNode, isCacheFailure } from '../node/classify.js';
import type { Clock } from '../node/clock.js';
import type { NodeMembership } from '../routing/membership.js';
import type { BatchLoader, Loader } from '../store.js';
import { versionClockMicros } from './version-clock.js';

const NAME = /^[^\s:\u0000-\u001f\u007f]{1,128}$/u;

/**
 * @param rules the backend's key rules: the version counter's key (`name:__version`) is sent as it is, so it must fit them.
 */
export function checkNamespaceName(name: unknown, rules: KeyRules): asserts name is string {
  // Well-formed: a lone surrogate reaches the server as U+FFFD, so '\ud800' and '\ufffd' would share one version counter.
  if (typeof name !== 'string' || !NAME.test(name) || !name.isWellFormed()) {
    throw new InvalidArgumentError(`a namespace name is 1 to 128 characters of well-formed Unicode without ':', whitespace or control characters, got ${describe(name)}`);
  }
  const bytes = Buffer.byteLength(versionKey(name), 'utf8');
  if (bytes > rules.maxKeyBytes) {
    throw new InvalidArgumentError(`namespace name ${describe(name)} is too long for this backend: its version key (name + ':__version') would be ${bytes} bytes, over the ${rules.maxKeyBytes}-byte key limit`);
  }
}

function versionKey(name: string): string {
  return `${name}:__version`;
}

/** The versions of one cache's namespaces, as this process knows them. */
export class NamespaceVersions {
  readonly #membership: NodeMembership;
  readonly #clock: Clock;
  readonly #cacheMs: number;
  readonly #timeouts: ResolvedOptions['timeouts'];
  readonly #known = new Map<string, { version: number; readAt: number }>();
  readonly #reading = new Map<string, Promise<number>>();
  readonly #assertOpen: () => void;
  /** Loads made while a namespace's version is unknown, shared per namespaced key as every load is. */
  readonly #unversionedLoads = new SingleFlight<unknown>();
  readonly #loadCounts: { calls: number; coalesced: number };

  /**
   * @param assertOpen throws `ClosedError` once the cache is closed, before anything is sent.
   * @param loadCounts the cache's loader counters, which loads without a version count in too.
   */
  constructor(
    membership: NodeMembership,
    clock: Clock,
    options: Pick<ResolvedOptions, 'timeouts' | 'namespaceVersionCacheMs'>,
    assertOpen: () => void,
    loadCounts: { calls: number; coalesced: number },
  ) {
    this.#assertOpen = assertOpen;
    this.#loadCounts = loadCounts;
    this.#membership = membership;
    this.#clock = clock;
    this.#cacheMs = options.namespaceVersionCacheMs;
    this.#timeouts = options.timeouts;
  }

  /**
   * `name:<version>:`, the prefix of the namespace's keys now.
   * @throws {DeadlineError | NodeError | BreakerOpenError} when the version is unknown and its node failed.
   * @throws {ClosedError} once the cache is closed.
   */
  async prefix(name: string): Promise<string> {
    this.#assertOpen();
    const known = this.#known.get(name);
    if (known !== undefined && this.#clock.now() - known.readAt < this.#cacheMs) return `${name}:${known.version}:`;
    const startedAt = this.#clock.now();
    let reading = this.#reading.get(name);
    if (reading === undefined) {
      reading = this.#read(name).finally(() => this.#reading.delete(name));
      this.#reading.set(name, reading);
    }
    try {
      const version = await reading;
      // A bump that finished while this read was in flight knows better.
      const latest = this.#known.get(name);
      if (latest === undefined || latest.readAt <= startedAt) this.#known.set(name, { version, readAt: this.#clock.now() });
      return `${name}:${this.#known.get(name)!.version}:`;
    } catch (error) {
      if (known !== undefined && isCacheFailure(error)) return `${name}:${known.version}:`;
      throw error;
    }
  }

  /**
   * Moves the namespace to a new version and resolves it.
   * @throws {DeadlineError | NodeError | BreakerOpenError} when the version's node fails.
   */
  async bump(name: string): Promise<number> {
    this.#assertOpen();
    const version = await this.#counter(name, 1, this.#timeouts.adminMs);
    this.#known.set(name, { version, readAt: this.#clock.now() });
    return version;
  }

  /**
   * The loader's value for `key` of namespace `name` when its version cannot
   * be known: nothing to read or write back, but concurrent callers of one
   * key share one loader call, as they do when the cache answers.
   */
  loadUnversioned<T>(name: string, key: string, loader: Loader<T>, signal?: AbortSignal): Promise<T> {
    return this.#unversionedLoads.run(
      `${name}:${key}`,
      async (loadSignal) => {
        this.#loadCounts.calls++;
        return loader(key, { signal: loadSignal });
      },
      () => this.#loadCounts.coalesced++,
      signal,
    ) as Promise<T>;
  }

  /** `loadUnversioned` for a batch: one loader call for the keys no concurrent call is loading. */
  async loadManyUnversioned<T>(name: string, keys: readonly string[], loader: BatchLoader<T>, signal?: AbortSignal): Promise<(T | undefined)[]> {
    const prefix = `${name}:`;
    const flights = [...new Set(keys)].map((key) => prefix + key);
    const loaded = await this.#unversionedLoads.runMany(
      flights,
      async (toLoad, loadSignal) => {
        this.#loadCounts.calls++;
        const own = toLoad.map((flight) => flight.slice(prefix.length));
        const answers = alignLoaded(own, await loader(own, { signal: loadSignal }));
        return new Map(own.map((key, i) => [toLoad[i]!, answers.get(key)]));
      },
      (joined) => (this.#loadCounts.coalesced += joined),
      signal,
    );
    return keys.map((key) => loaded.get(prefix + key) as T | undefined);
  }

  /** Forgets every version (after a clear, which dropped the counters). */
  forget(): void {
    this.#known.clear();
  }

  /** Reads the version (creating it when missing), retried like a GET on whichever node owns it by then. */
  async #read(name: string): Promise<number> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#counter(name, 0, this.#timeouts.getMs);
      } catch (error) {
        if (attempt >= this.#timeouts.getRetries || !countsAgainstNode(error)) throw error;
      }
    }
  }

  #counter(name: string, delta: number, deadlineMs: number): Promise<number> {
    const key = versionKey(name);
    // A write: on a stand-in it is journaled and its TTL capped, like any other.
    const route = this.#membership.routeWrite(key, 0);
    // Wall-clock time, not the injected clock: versions are compared across processes and restarts.
    const initial = versionClockMicros();
    return route.node.call('counter', deadlineMs, (backend) => backend.counter(key, delta, initial, route.ttlSeconds));
  }
}
