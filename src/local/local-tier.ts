/**
 * The local tier: an in-process near cache in front of read-through and
 * routing. A fresh entry answers a read without a round trip; anything else
 * goes to the layers below, and what the servers answered is kept.
 *
 * What must stay true:
 * - Only values read from the servers are kept, each for at most `ttlMs`
 *   from the moment its read was sent, and never past the TTL this process
 *   wrote the value with (written-expiries.ts). Loaded values reach the tier at the
 *   next read (on Redis that read is what makes the server track the key).
 * - Where the servers push invalidations (Redis client tracking), nothing is
 *   kept from a node whose tracking is not established now, and losing it
 *   drops (or, with `graceMs`, demotes to stale) what the node supplied, so
 *   nothing is served from it fresh again before it is re-read.
 * - This process's writes, deletes, pattern and namespace invalidations and
 *   clears drop the entries they touch when they are sent and again when
 *   they finish, so a read racing them cannot keep the old value.
 * - A ring change (a node ejected, re-admitted, added or removed) drops what
 *   the keys' new owners did not supply.
 * - An expired entry younger than `graceMs` is served only when the read
 *   of its key failed on every node that could answer (a stale hit).
 */
import type { LocalCounters } from '../counters.js';
import type { Clock } from '../node/clock.js';
import type { CacheNode } from '../node/node.js';
import type { Ring } from '../ring/ring.js';
import { valuesOf, type BatchLoader, type CallOptions, type KeyResult, type LoadCallOptions, type Loader, type LoadingStore } from '../store.js';
import { LocalEntries, type LocalEntry } from './entries.js';
import { NodeTrust } from './node-trust.js';
import type { TrackingListener } from './redis-tracking.js';
import { WrittenExpiries } from './written-expiries.js';

export interface LocalTierOptions {
  readonly maxEntries: number;
  readonly maxBytes: number;
  readonly ttlMs: number;
  readonly graceMs: number;
}

export interface LocalTierDependencies {
  readonly inner: LoadingStore;
  /** Where keys live now (the routing layer's membership). */
  readonly membership: { readonly ring: Ring<CacheNode> };
  readonly clock: Clock;
  readonly counts: LocalCounters;
  /** A value's encoded size, or `undefined` when it cannot be encoded. */
  readonly sizeOf: (value: unknown) => number | undefined;
}

/** What the facade tells the tier about its administration calls. */
export interface LocalAdmin {
  /** Drops everything (`clear`). */
  forgetAll(): void;
  /** Drops the keys `matches` accepts (`invalidate(pattern)`, `invalidateNamespace`). */
  forgetMatching(matches: (key: string) => boolean): void;
}

type Entry = LocalEntry<CacheNode>;

export class LocalTier implements LoadingStore, LocalAdmin {
  readonly #inner: LoadingStore;
  readonly #clock: Clock;
  readonly #counts: LocalCounters;
  readonly #sizeOf: (value: unknown) => number | undefined;
  readonly #entries: LocalEntries<CacheNode>;
  readonly #ttlMs: number;
  readonly #graceMs: number;
  readonly #trust: NodeTrust;
  readonly #written: WrittenExpiries;

  constructor(options: LocalTierOptions, dependencies: LocalTierDependencies) {
    this.#inner = dependencies.inner;
    this.#clock = dependencies.clock;
    this.#counts = dependencies.counts;
    this.#sizeOf = dependencies.sizeOf;
    this.#entries = new LocalEntries(options, dependencies.counts);
    this.#ttlMs = options.ttlMs;
    this.#graceMs = options.graceMs;
    this.#trust = new NodeTrust(dependencies.membership, this.#entries, this.#clock, this.#counts, options.graceMs);
    this.#written = new WrittenExpiries(options.maxEntries);
  }

  // Promise chains rather than async functions: a hit is the hottest path there is.
  get(key: string, options?: CallOptions): Promise<unknown> {
    this.#trust.check();
    const entry = this.#entries.lookup(key);
    if (entry !== undefined && entry.freshUntil > this.#clock.now()) {
      this.#counts.hits++;
      return Promise.resolve(entry.value);
    }
    this.#counts.misses++;
    const startedAt = this.#clock.now();
    const since = this.#entries.begin(key, false);
    if (this.#mayServeStale(entry, startedAt)) {
      return this.#inner.getMany([key], options).then(
        (results) => {
          const result = results[0]!;
          if (result.status === 'failed') {
            this.#entries.end(key, since, false);
            return this.#stale(key, entry!)?.value;
          }
          return this.#keep(key, result.value, since, false, startedAt);
        },
        (error: unknown) => this.#abandon(key, since, false, error),
      );
    }
    return this.#inner.get(key, options).then(
      (value) => this.#keep(key, value, since, false, startedAt),
      (error: unknown) => this.#abandon(key, since, false, error),
    );
  }

  getMany(keys: readonly string[], options?: CallOptions): Promise<KeyResult[]> {
    this.#trust.check();
    const now = this.#clock.now();
    const results = new Array<KeyResult>(keys.length);
    const missing: number[] = [];
    const held: (Entry | undefined)[] = [];
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      const entry = this.#entries.lookup(key);
      if (entry !== undefined && entry.freshUntil > now) {
        this.#counts.hits++;
        results[i] = { key, status: 'hit', value: entry.value, node: entry.node.address };
      } else {
        this.#counts.misses++;
        missing.push(i);
        held.push(entry);
      }
    }
    if (missing.length === 0) return Promise.resolve(results);
    const missingKeys = missing.map((i) => keys[i]!);
    const since = missingKeys.map((key) => this.#entries.begin(key, false));
    return this.#inner.getMany(missingKeys, options).then(
      (answers) => {
        for (let j = 0; j < answers.length; j++) {
          const answer = answers[j]!;
          const entry = held[j];
          if (answer.status === 'failed' && this.#mayServeStale(entry, now)) {
            this.#entries.end(answer.key, since[j]!, false);
            const stale = this.#stale(answer.key, entry!);
            results[missing[j]!] = stale === undefined ? answer : { key: answer.key, status: 'hit', value: stale.value, node: stale.node.address };
          } else {
            this.#keep(answer.key, answer.status === 'hit' ? answer.value : undefined, since[j]!, false, now);
            results[missing[j]!] = answer;
          }
        }
        return results;
      },
      (error: unknown) => {
        for (let j = 0; j < missingKeys.length; j++) this.#entries.end(missingKeys[j]!, since[j]!, false);
        throw error;
      },
    );
  }

  getValues(keys: readonly string[], options?: CallOptions): Promise<unknown[]> {
    return this.getMany(keys, options).then(valuesOf);
  }

  set(key: string, value: unknown, ttlSeconds: number, options?: CallOptions): Promise<void> {
    this.#entries.invalidate(key);
    this.#written.note(key, ttlSeconds, this.#clock.now());
    return this.#inner.set(key, value, ttlSeconds, options).finally(() => this.#entries.invalidate(key));
  }

  setMany(entries: readonly (readonly [string, unknown])[], ttlSeconds: number, options?: CallOptions): Promise<void> {
    const keys = entries.map(([key]) => key);
    this.#invalidateAll(keys);
    const sentAt = this.#clock.now();
    for (let i = 0; i < keys.length; i++) this.#written.note(keys[i]!, ttlSeconds, sentAt);
    return this.#inner.setMany(entries, ttlSeconds, options).finally(() => this.#invalidateAll(keys));
  }

  del(key: string, options?: CallOptions): Promise<boolean> {
    this.#entries.invalidate(key);
    return this.#inner.del(key, options).finally(() => this.#entries.invalidate(key));
  }

  delMany(keys: readonly string[], options?: CallOptions): Promise<void> {
    this.#invalidateAll(keys);
    return this.#inner.delMany(keys, options).finally(() => this.#invalidateAll(keys));
  }

  getOrLoad<T>(key: string, loader: Loader<T>, ttlSeconds: number, options?: LoadCallOptions): Promise<T> {
    this.#trust.check();
    const now = this.#clock.now();
    const entry = this.#entries.lookup(key);
    if (entry !== undefined && entry.freshUntil > now) {
      this.#counts.hits++;
      return Promise.resolve(entry.value as T);
    }
    this.#counts.misses++;
    const since = this.#entries.begin(key, true);
    // A loaded value is not kept: invalidating the key spoils the answer for every caller joined to this load.
    const marked: Loader<T> = (loadKey, context) => {
      this.#entries.invalidate(key);
      this.#written.note(key, ttlSeconds, this.#clock.now());
      return loader(loadKey, context);
    };
    return this.#inner.getOrLoad(key, marked, ttlSeconds, options).then(
      (value) => this.#keep(key, value, since, true, now) as T,
      (error: unknown) => this.#abandon(key, since, true, error),
    );
  }

  mgetOrLoad<T>(keys: readonly string[], loader: BatchLoader<T>, ttlSeconds: number, options?: CallOptions): Promise<(T | undefined)[]> {
    this.#trust.check();
    const now = this.#clock.now();
    const values = new Array<T | undefined>(keys.length);
    const missing: number[] = [];
    for (let i = 0; i < keys.length; i++) {
      const entry = this.#entries.lookup(keys[i]!);
      if (entry !== undefined && entry.freshUntil > now) {
        this.#counts.hits++;
        values[i] = entry.value as T;
      } else {
        this.#counts.misses++;
        missing.push(i);
      }
    }
    if (missing.length === 0) return Promise.resolve(values);
    const missingKeys = missing.map((i) => keys[i]!);
    const since = missingKeys.map((key) => this.#entries.begin(key, true));
    const marked: BatchLoader<T> = (loadKeys, context) => {
      this.#invalidateAll(loadKeys);
      const loadedAt = this.#clock.now();
      for (let i = 0; i < loadKeys.length; i++) this.#written.note(loadKeys[i]!, ttlSeconds, loadedAt);
      return loader(loadKeys, context);
    };
    return this.#inner.mgetOrLoad(missingKeys, marked, ttlSeconds, options).then(
      (answers) => {
        for (let j = 0; j < answers.length; j++) values[missing[j]!] = this.#keep(missingKeys[j]!, answers[j], since[j]!, true, now) as T | undefined;
        return values;
      },
      (error: unknown) => {
        for (let j = 0; j < missingKeys.length; j++) this.#entries.end(missingKeys[j]!, since[j]!, true);
        throw error;
      },
    );
  }

  forgetAll(): void {
    this.#entries.clear();
    this.#written.clear();
  }

  forgetMatching(matches: (key: string) => boolean): void {
    this.#entries.invalidateWhere(matches);
  }

  /** Nodes whose answers are not kept until their listener hears `tracked()` (Redis, before client tracking is set up). */
  requireTracking(nodes: readonly CacheNode[]): void {
    this.#trust.requireTracking(nodes);
  }

  /** What the invalidation stream of `node` reports to. */
  trackingListener(node: CacheNode): TrackingListener {
    return this.#trust.listener(node);
  }

  /** Ends a read and keeps its answer when nothing spoiled it; answers the value either way. */
  #keep(key: string, value: unknown, since: number, joinable: boolean, startedAt: number): unknown {
    this.#trust.check();
    const clean = this.#entries.end(key, since, joinable);
    if (value === undefined || !clean) return value;
    const node = this.#trust.keeper(key);
    if (node === undefined) return value;
    const size = this.#sizeOf(value);
    if (size === undefined) return value;
    // Never past the TTL this process wrote the value with, when it did.
    const freshUntil = this.#written.cap(key, startedAt + this.#ttlMs);
    if (freshUntil <= startedAt) return value;
    this.#entries.store(key, { value, node, freshUntil, staleUntil: freshUntil + this.#graceMs }, size);
    return value;
  }

  #abandon(key: string, since: number, joinable: boolean, error: unknown): never {
    this.#entries.end(key, since, joinable);
    throw error;
  }

  #mayServeStale(entry: Entry | undefined, now: number): boolean {
    return entry !== undefined && this.#graceMs > 0 && entry.staleUntil > now;
  }

  /** The stale entry, counted, when it is still held and within its grace; otherwise it is dropped. */
  #stale(key: string, entry: Entry): Entry | undefined {
    if (this.#entries.lookup(key) !== entry) return undefined;
    if (entry.staleUntil > this.#clock.now()) {
      this.#counts.staleHits++;
      return entry;
    }
    this.#entries.forget(key, entry);
    return undefined;
  }

  #invalidateAll(keys: readonly string[]): void {
    for (let i = 0; i < keys.length; i++) this.#entries.invalidate(keys[i]!);
  }
}
