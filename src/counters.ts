/**
 * Cache-wide counters the request path keeps (per-node ones live in
 * node/node-stats.ts). Plain numbers, bumped in place: `cache.stats()`,
 * `cache.health()` and the metrics adapter read them, so they always agree.
 */
/** Keys read (by the routing layer) and loads (by the read-through layer). */
export interface CacheCounters {
  /** Keys read: answered hit or miss, or failed on every attempt (answered as a miss); undecodable values are misses too. */
  readonly reads: { hits: number; misses: number; failures: number; undecodable: number };
  /**
   * Loader calls of getOrLoad/mgetOrLoad, callers (keys, for batches) that
   * joined a load in flight, and best-effort write-backs of loaded values that failed;
   * refresh-ahead loads started in the background (counted in `calls` too), and those that failed.
   */
  readonly loads: { calls: number; coalesced: number; writeBackFailures: number; refreshes: number; refreshFailures: number };
}

export function createCounters(): CacheCounters {
  return { reads: { hits: 0, misses: 0, failures: 0, undecodable: 0 }, loads: { calls: 0, coalesced: 0, writeBackFailures: 0, refreshes: 0, refreshFailures: 0 } };
}
