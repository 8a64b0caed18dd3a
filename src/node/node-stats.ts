/**
 * What one node has done since the cache was created: requests by operation
 * and outcome, keys read (hit or miss), and the latency of its last
 * requests. CacheNode records every request it sends or refuses;
 * ShardedCache records hits and misses, because only it decides that a
 * value is a hit (an undecodable value is a miss).
 *
 * Always on and cheap: a map lookup, a few increments and two array stores
 * per request, no allocation after an operation's first request. Readers
 * (`cache.stats()`, `cache.health()`, the prom-client adapter) take their
 * figures from here, so they always agree with each other.
 */
import type { OperationOutcome } from '../diagnostics.js';
import { LatencyWindow } from './latency-window.js';

/** Requests of one operation to one node, by outcome. */
export class OutcomeCounts {
  ok = 0;
  error = 0;
  timeout = 0;
  shortCircuited = 0;
}

/** Keys read from one node. */
export interface ReadTally {
  hits: number;
  /** Undecodable values included: the caller saw a miss. */
  misses: number;
  /** Stored bytes the codec could not decode (a custom codec threw, or 'legacy' met bytes not in its format; the default codec reads anything). */
  undecodable: number;
}

export class NodeStats {
  readonly latency = new LatencyWindow();
  /** Keys answered by single GETs and by batch reads. */
  readonly reads: { readonly get: ReadTally; readonly getMany: ReadTally } = { get: newTally(), getMany: newTally() };
  /** Clean-ups before this node's return that failed (on it or on a stand-in): it stayed out, its journal kept. */
  cleanupFailures = 0;
  readonly #operations = new Map<string, OutcomeCounts>();

  /**
   * One request's end. Short-circuited requests never reached the node, so
   * their (near zero) durations stay out of the latency window.
   */
  record(operation: string, outcome: OperationOutcome, durationMs: number, endedAt: number): void {
    let counts = this.#operations.get(operation);
    if (counts === undefined) {
      counts = new OutcomeCounts();
      this.#operations.set(operation, counts);
    }
    switch (outcome) {
      case 'ok':
        counts.ok++;
        break;
      case 'error':
        counts.error++;
        break;
      case 'timeout':
        counts.timeout++;
        break;
      case 'short-circuited':
        counts.shortCircuited++;
        return;
    }
    this.latency.record(durationMs, endedAt);
  }

  /** Counts by operation name (`get`, `getMany`, `set`, ...), live. */
  get operations(): ReadonlyMap<string, Readonly<OutcomeCounts>> {
    return this.#operations;
  }
}

function newTally(): ReadTally {
  return { hits: 0, misses: 0, undecodable: 0 };
}
