/**
 * Copies that missed a write or a delete while staying on the ring (the
 * node timed out, failed, or its breaker was open), so they may still hold
 * the key's old value. Replication only: with one copy a failed write
 * rejects and the caller knows.
 *
 * What must stay true: a copy marked here is never read for that key (the
 * next copy answers instead) until a delete of the key sent after the
 * missed write succeeded on it, or a later write of the key did. Repairs run
 * out of band, one `delMany` per node, retried with a doubling wait while
 * they fail; a node out of the ring is skipped (its return journal deletes
 * what was written elsewhere meanwhile, and the marks outlive its absence).
 * Past `limit` keys a node is read for no key at all until it is flushed.
 *
 * Limit: a write that timed out on a connection that was replaced since can
 * still be applied after the repair (CacheNode replaces hung connections);
 * the repair then deletes a newer value, or misses an older one.
 */
import { debug, describeError } from '../debug.js';
import type { Clock } from '../node/clock.js';
import type { CacheNode } from '../node/node.js';
import type { ReplicationCounters } from '../counters.js';

export interface StaleCopiesOptions {
  /** Keys remembered per node; past it the node is flushed instead. */
  readonly limit: number;
  /** Deadline of one repair request. */
  readonly deadlineMs: number;
  /** First wait before a repair; doubled while repairs fail, up to `maxDelayMs`. */
  readonly delayMs: number;
  readonly maxDelayMs: number;
  readonly clock: Clock;
  /** Whether a node is on the serving ring (repairs wait for its return). */
  readonly isServing: (node: CacheNode) => boolean;
  /** Marks set and cleared, for stats() and metrics. */
  readonly counts: ReplicationCounters['staleMarks'];
}

interface NodeMarks {
  /** Key -> sequence number of the last write or delete it missed. */
  readonly keys: Map<string, number>;
  overflowed: boolean;
}

export class StaleCopies {
  readonly #options: StaleCopiesOptions;
  readonly #byNode = new Map<CacheNode, NodeMarks>();
  #timer: NodeJS.Timeout | undefined;
  #delayMs: number;
  #repairing = false;
  #closed = false;
  /** Orders writes (and marks), so a success voids only the marks of earlier writes. */
  #sequence = 0;

  constructor(options: StaleCopiesOptions) {
    this.#options = options;
    this.#delayMs = options.delayMs;
  }

  /** Keys marked over every node (for tests and reports). */
  get size(): number {
    let size = 0;
    for (const marks of this.#byNode.values()) size += marks.keys.size;
    return size;
  }

  /** A number for a write that starts now: later than every mark and write before it. */
  nextSequence(): number {
    return ++this.#sequence;
  }

  /** A read passed over a copy marked stale for its key. */
  skippedRead(): void {
    this.#options.counts.skippedReads++;
  }

  /** Whether `node` may hold an old value of `key`. Nearly free while nothing is marked. */
  isStale(node: CacheNode, key: string): boolean {
    if (this.#byNode.size === 0) return false;
    const marks = this.#byNode.get(node);
    return marks !== undefined && (marks.overflowed || marks.keys.has(key));
  }

  /** `node` missed write number `sequence` of `key`. */
  mark(node: CacheNode, key: string, sequence: number): void {
    let marks = this.#byNode.get(node);
    if (marks === undefined) this.#byNode.set(node, (marks = { keys: new Map(), overflowed: false }));
    if (marks.keys.size >= this.#options.limit && !marks.keys.has(key)) marks.overflowed = true;
    else marks.keys.set(key, sequence);
    this.#options.counts.set++;
    this.#schedule();
  }

  /** Write number `sequence` of `key` succeeded on `node`: a mark from an earlier write is void. */
  wrote(node: CacheNode, key: string, sequence: number): void {
    if (this.#byNode.size === 0) return;
    const marks = this.#byNode.get(node);
    const missed = marks?.keys.get(key);
    if (missed !== undefined && missed < sequence) {
      marks!.keys.delete(key);
      this.#options.counts.repaired++;
    }
    if (marks !== undefined && marks.keys.size === 0 && !marks.overflowed) this.#byNode.delete(node);
  }

  /** Drops the marks of a node that left the pool. */
  forget(node: CacheNode): void {
    this.#byNode.delete(node);
  }

  close(): void {
    this.#closed = true;
    this.#options.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #schedule(): void {
    if (this.#timer !== undefined || this.#repairing || this.#closed) return;
    this.#timer = this.#options.clock.setTimeout(() => {
      this.#timer = undefined;
      void this.#repair();
    }, this.#delayMs);
  }

  async #repair(): Promise<void> {
    this.#repairing = true;
    let failed = false;
    try {
      await Promise.all(
        [...this.#byNode].map(async ([node, marks]) => {
          if (!this.#options.isServing(node)) {
            failed = true;
            return;
          }
          const taken = new Map(marks.keys);
          const flush = marks.overflowed;
          try {
            if (flush) await node.call('flush', this.#options.deadlineMs, (backend) => backend.flush());
            else await node.call('delMany', this.#options.deadlineMs, (backend) => backend.delMany([...taken.keys()]));
          } catch (error) {
            failed = true;
            debug('repair of %d stale cop(ies) on %s failed (%s); retried later', taken.size, node.address, describeError(error));
            return;
          }
          if (flush) marks.overflowed = false;
          for (const [key, sequence] of taken) {
            if (marks.keys.get(key) !== sequence) continue;
            marks.keys.delete(key);
            this.#options.counts.repaired++;
          }
          if (marks.keys.size === 0 && !marks.overflowed && this.#byNode.get(node) === marks) this.#byNode.delete(node);
        }),
      );
    } finally {
      this.#repairing = false;
    }
    this.#delayMs = failed ? Math.min(this.#delayMs * 2, this.#options.maxDelayMs) : this.#options.delayMs;
    if (this.#byNode.size > 0) this.#schedule();
  }
}
