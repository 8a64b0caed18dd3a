/**
 * What the local tier holds, and the reads of it that are in flight.
 *
 * Entries live in an lru-cache bounded by count and by bytes (each entry
 * weighs its value's encoded size plus its key's length). An entry records
 * the node it was read from, when it stops being fresh, and when it stops
 * being servable even as a stale answer (`graceMs` later).
 *
 * Reads in flight follow Redis's placeholder technique for client-side
 * caching: a read registers its key before it is sent; an invalidation of
 * the key while it is out, or a change that spoils every read (a flush, a
 * lost connection, a ring change), means its answer may predate the change,
 * and it is not kept. A read that may be answered by a load already in
 * flight (getOrLoad, mgetOrLoad: the read-through layer joins callers of one
 * key) counts from the oldest such read still out, since the answer it gets
 * may have been read that early.
 */
import { LRUCache } from 'lru-cache';
import type { LocalCounters } from '../counters.js';

export interface LocalEntry<N> {
  readonly value: unknown;
  /** The node the value was read from. */
  readonly node: N;
  /** Served fresh before this (clock time). */
  freshUntil: number;
  /** Served as a stale hit, when every node that could answer fails, before this. */
  staleUntil: number;
}

interface InFlight {
  /** Reads of the key out now. */
  readers: number;
  /** Of those, reads that may join a load in flight. */
  joiners: number;
  /** Where the oldest joinable read out now started. */
  joinersSince: number;
  /** The sequence number of the last invalidation of the key while reads were out. */
  invalidatedAt: number;
}

export class LocalEntries<N> {
  readonly #lru: LRUCache<string, LocalEntry<N>>;
  readonly #inFlight = new Map<string, InFlight>();
  readonly #counts: LocalCounters;
  /** Bumped by every invalidation that a read in flight must see. */
  #sequence = 0;
  /** Reads that started before this sequence number are not kept. */
  #spoiledAt = 0;

  constructor(limits: { maxEntries: number; maxBytes: number }, counts: LocalCounters) {
    this.#counts = counts;
    this.#lru = new LRUCache<string, LocalEntry<N>>({
      max: limits.maxEntries,
      maxSize: limits.maxBytes,
      dispose: (_value, _key, reason) => {
        if (reason === 'evict') counts.evictions++;
      },
    });
  }

  /** The entry held for `key` (fresh, stale or expired), marked as recently used. */
  lookup(key: string): LocalEntry<N> | undefined {
    return this.#lru.get(key);
  }

  /**
   * Registers a read of `key` about to be sent; answers where it starts,
   * for `end`. `joinable`: the read may be answered by a load already in flight.
   */
  begin(key: string, joinable: boolean): number {
    let flight = this.#inFlight.get(key);
    if (flight === undefined) {
      flight = { readers: 0, joiners: 0, joinersSince: 0, invalidatedAt: 0 };
      this.#inFlight.set(key, flight);
    }
    flight.readers++;
    if (!joinable) return this.#sequence;
    if (flight.joiners++ === 0) flight.joinersSince = this.#sequence;
    return flight.joinersSince;
  }

  /** Ends a read begun at `since`: true when nothing that concerns its key was invalidated since, so its answer may be kept. */
  end(key: string, since: number, joinable: boolean): boolean {
    const flight = this.#inFlight.get(key)!;
    if (joinable) flight.joiners--;
    if (--flight.readers === 0) this.#inFlight.delete(key);
    return flight.invalidatedAt <= since && this.#spoiledAt <= since;
  }

  /** Keeps `value`, read from `node`; `size` is its encoded size. An entry larger than `maxBytes` is not kept. */
  store(key: string, entry: LocalEntry<N>, size: number): void {
    this.#lru.set(key, entry, { size: size + key.length });
    this.#sync();
  }

  /** Drops `key`, and the answers of its reads in flight. */
  invalidate(key: string): void {
    this.#lru.delete(key);
    const flight = this.#inFlight.get(key);
    if (flight !== undefined) flight.invalidatedAt = ++this.#sequence;
    this.#sync();
  }

  /** Drops every key `matches` accepts, and the answers of their reads in flight. */
  invalidateWhere(matches: (key: string) => boolean): void {
    const doomed: string[] = [];
    for (const key of this.#lru.keys()) if (matches(key)) doomed.push(key);
    for (const key of doomed) this.#lru.delete(key);
    for (const [key, flight] of this.#inFlight) if (matches(key)) flight.invalidatedAt = ++this.#sequence;
    this.#sync();
  }

  /** Drops every entry read from a node `from` accepts; no read in flight now is kept. */
  dropFrom(from: (node: N) => boolean): void {
    const doomed: string[] = [];
    for (const [key, entry] of this.#lru.entries()) if (from(entry.node)) doomed.push(key);
    for (const key of doomed) this.#lru.delete(key);
    this.spoilReads();
  }

  /**
   * Entries read from a node `from` accepts can no longer be trusted fresh
   * (its invalidations may have been lost): with `graceMs` they stay only as
   * stale answers for when no node answers, for at most `graceMs` more;
   * without, they are dropped. No read in flight now is kept.
   */
  demote(from: (node: N) => boolean, now: number, graceMs: number): void {
    if (graceMs === 0) return this.dropFrom(from);
    for (const entry of this.#lru.values()) {
      if (!from(entry.node)) continue;
      entry.freshUntil = Math.min(entry.freshUntil, now);
      entry.staleUntil = Math.min(entry.staleUntil, now + graceMs);
    }
    this.spoilReads();
  }

  /** Drops `key` when `entry` is what it holds (an entry past its grace). */
  forget(key: string, entry: LocalEntry<N>): void {
    if (this.#lru.peek(key) === entry) this.#lru.delete(key);
    this.#sync();
  }

  /** Drops everything, and the answers of every read in flight. */
  clear(): void {
    this.#lru.clear();
    this.spoilReads();
  }

  /** The answers of every read in flight now will not be kept. */
  spoilReads(): void {
    this.#spoiledAt = ++this.#sequence;
    this.#sync();
  }

  #sync(): void {
    this.#counts.entries = this.#lru.size;
    this.#counts.bytes = this.#lru.calculatedSize;
  }
}
