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
  /** The local tier's, kept by src/local/; `undefined` when there is no local tier. */
  readonly local: LocalCounters | undefined;
  /** Replicated routing's (copies or warm-up), kept by src/routing/; `undefined` when neither is configured. */
  readonly replication: ReplicationCounters | undefined;
}

/** Stale marks on copies that missed a write (routing/stale-copies.ts) and warm-up fills (routing/warmup.ts). */
export interface ReplicationCounters {
  readonly staleMarks: {
    /** Marks set: a copy missed a write or delete of a key (or a stand-in's copy could not be deleted after warm-up). */
    set: number;
    /** Marks cleared: the key deleted there by a repair, or a later write of it succeeded there. */
    repaired: number;
    /** Reads that passed over a copy marked stale for the key. */
    skippedReads: number;
  };
  readonly warmup: {
    /** Misses on a warming node looked up where the key lived before. */
    tried: number;
    /** Of those, found there: answered with that value. */
    fromPrevious: number;
    /** Values added to the warming node (its add stored them). */
    filled: number;
    /** Fills not added because a write or delete of the key raced them (or the add found a value already). */
    raced: number;
  };
}

/** Reads answered (or not) by the local tier, what invalidated it, and what it holds now. */
export interface LocalCounters {
  /** Keys answered from the tier, fresh. */
  hits: number;
  /** Keys the tier did not hold fresh: read from the servers. */
  misses: number;
  /** Expired entries served (within `graceMs`) because every node that could answer failed. */
  staleHits: number;
  /** Keys invalidated by the servers (Redis client tracking), each flush counting one. */
  invalidations: number;
  /** Entries evicted to stay within `maxEntries` / `maxBytes`. */
  evictions: number;
  /** Entries held now (expired ones kept for grace included). */
  entries: number;
  /** Bytes held now: encoded value sizes plus key lengths. */
  bytes: number;
  /** Redis nodes whose invalidation stream is not established now: their keys bypass the tier. */
  untrackedNodes: string[];
}

export function createCounters(withLocal = false, withReplication = false): CacheCounters {
  return {
    reads: { hits: 0, misses: 0, failures: 0, undecodable: 0 },
    loads: { calls: 0, coalesced: 0, writeBackFailures: 0, refreshes: 0, refreshFailures: 0 },
    local: withLocal ? { hits: 0, misses: 0, staleHits: 0, invalidations: 0, evictions: 0, entries: 0, bytes: 0, untrackedNodes: [] } : undefined,
    replication: withReplication ? { staleMarks: { set: 0, repaired: 0, skippedReads: 0 }, warmup: { tried: 0, fromPrevious: 0, filled: 0, raced: 0 } } : undefined,
  };
}
