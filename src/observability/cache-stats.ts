/**
 * `cache.stats()`: a snapshot, per node and for the whole cache, of requests
 * by outcome, key reads, hit rate and recent latency percentiles. Counters
 * run from the cache's creation; percentiles cover each node's last
 * LATENCY_WINDOW_SAMPLES requests that ended within LATENCY_WINDOW_MS.
 * Built only when asked: the per-request cost is in NodeStats.
 */
import type { BreakerState, NodeState } from '../events.js';
import type { CacheNode } from '../node/node.js';
import { LATENCY_WINDOW_MS, summarize, type LatencySummary } from '../node/latency-window.js';
import type { NodeStats } from '../node/node-stats.js';
import type { CacheCounters, ReplicationCounters } from '../counters.js';

/** Requests sent to nodes (or refused by an open breaker), by how they ended. */
export interface RequestCounts {
  /** Every request, whatever its outcome. */
  readonly total: number;
  /** Refused, reset, protocol or server errors (not timeouts). */
  readonly errors: number;
  /** Missed deadlines. */
  readonly timeouts: number;
  /** Not sent: the node's breaker was open. */
  readonly shortCircuited: number;
}

export interface NodeStatsSnapshot {
  readonly address: string;
  readonly state: NodeState;
  readonly breaker: BreakerState;
  readonly consecutiveFailures: number;
  readonly requests: RequestCounts;
  /** Keys this node answered; `undecodable` values were answered as misses and are counted in `misses` too. */
  readonly reads: { readonly hits: number; readonly misses: number; readonly undecodable: number };
  /** Clean-ups before this node's return that failed (on it or on a stand-in): it stayed out, its journal kept. */
  readonly cleanupFailures: number;
  /** hits / (hits + misses); `null` before the first read. */
  readonly hitRate: number | null;
  readonly latencyMs: LatencySummary & { readonly windowMs: number };
}

export interface CacheStats {
  /**
   * Keys read through the cache; `failures` were answered as misses because
   * no node answered; `undecodable` values (counted in `misses` too) were
   * stored in a form the codec could not read.
   */
  readonly reads: { readonly hits: number; readonly misses: number; readonly failures: number; readonly undecodable: number };
  /** Loader calls, loads joined while in flight, write-backs of loaded values that failed, refresh-ahead loads (among the calls) and refreshes that failed. */
  readonly loads: { readonly calls: number; readonly coalesced: number; readonly writeBackFailures: number; readonly refreshes: number; readonly refreshFailures: number };
  /** Failed clean-ups over every node (see NodeStatsSnapshot.cleanupFailures). */
  readonly cleanupFailures: number;
  /** hits / (hits + misses) over every key read; `null` before the first read. */
  readonly hitRate: number | null;
  readonly requests: RequestCounts;
  /** Percentiles over every node's recent requests together. */
  readonly latencyMs: LatencySummary & { readonly windowMs: number };
  readonly nodes: NodeStatsSnapshot[];
  /** The local tier; absent when it is not configured. */
  readonly local?: LocalTierStats;
  /** Stale marks and warm-up fills; absent unless `replication.copies` > 1 or warm-up is on. */
  readonly replication?: ReplicationStats;
}

/** Copies marked stale and warm-up fills, since creation (see ReplicationCounters in counters.ts). */
export interface ReplicationStats {
  readonly staleMarks: { readonly set: number; readonly repaired: number; readonly skippedReads: number };
  readonly warmup: { readonly tried: number; readonly fromPrevious: number; readonly filled: number; readonly raced: number };
}

/** The local tier's counters (since creation) and contents (now). */
export interface LocalTierStats {
  /** Keys answered from the tier, fresh. */
  readonly hits: number;
  /** Keys the tier did not hold fresh, read from the servers (stale hits included). */
  readonly misses: number;
  /** Expired entries served within `graceMs` because every node that could answer failed. */
  readonly staleHits: number;
  /** Keys the servers invalidated (Redis client tracking; each flush counts one). */
  readonly invalidations: number;
  /** Entries evicted to stay within `maxEntries` / `maxBytes`. */
  readonly evictions: number;
  readonly entries: number;
  /** Encoded value sizes plus key lengths. */
  readonly bytes: number;
  /** hits / (hits + misses); `null` before the first read. */
  readonly hitRate: number | null;
  /** Redis nodes whose invalidation stream is down now: their keys bypass the tier. */
  readonly untrackedNodes: readonly string[];
}

export function buildStats(nodes: readonly CacheNode[], counters: CacheCounters, now: number): CacheStats {
  const snapshots = nodes.map((node) => nodeSnapshot(node, now));
  const { hits, misses, failures, undecodable } = counters.reads;
  return {
    reads: { hits, misses, failures, undecodable },
    loads: { ...counters.loads },
    cleanupFailures: sum(snapshots, (node) => node.cleanupFailures),
    hitRate: ratio(hits, misses),
    requests: {
      total: sum(snapshots, (node) => node.requests.total),
      errors: sum(snapshots, (node) => node.requests.errors),
      timeouts: sum(snapshots, (node) => node.requests.timeouts),
      shortCircuited: sum(snapshots, (node) => node.requests.shortCircuited),
    },
    latencyMs: { ...summarize(nodes.map((node) => node.stats.latency), now), windowMs: LATENCY_WINDOW_MS },
    nodes: snapshots,
    ...(counters.local !== undefined && { local: localStats(counters.local) }),
    ...(counters.replication !== undefined && { replication: replicationStats(counters.replication) }),
  };
}

export function localStats(local: NonNullable<CacheCounters['local']>): LocalTierStats {
  const { hits, misses, staleHits, invalidations, evictions, entries, bytes, untrackedNodes } = local;
  return { hits, misses, staleHits, invalidations, evictions, entries, bytes, hitRate: ratio(hits, misses), untrackedNodes: [...untrackedNodes] };
}

export function replicationStats(counts: ReplicationCounters): ReplicationStats {
  return { staleMarks: { ...counts.staleMarks }, warmup: { ...counts.warmup } };
}

function nodeSnapshot(node: CacheNode, now: number): NodeStatsSnapshot {
  const { get, getMany } = node.stats.reads;
  const hits = get.hits + getMany.hits;
  const misses = get.misses + getMany.misses;
  return {
    address: node.address,
    state: node.state,
    breaker: node.breakerState,
    consecutiveFailures: node.consecutiveFailures,
    requests: requestCounts(node.stats),
    reads: { hits, misses, undecodable: get.undecodable + getMany.undecodable },
    cleanupFailures: node.stats.cleanupFailures,
    hitRate: ratio(hits, misses),
    latencyMs: { ...summarize([node.stats.latency], now), windowMs: LATENCY_WINDOW_MS },
  };
}

function requestCounts(stats: NodeStats): RequestCounts {
  let ok = 0;
  let errors = 0;
  let timeouts = 0;
  let shortCircuited = 0;
  for (const counts of stats.operations.values()) {
    ok += counts.ok;
    errors += counts.error;
    timeouts += counts.timeout;
    shortCircuited += counts.shortCircuited;
  }
  return { total: ok + errors + timeouts + shortCircuited, errors, timeouts, shortCircuited };
}

/** hits / (hits + misses), rounded to 4 places; `null` when there were none. */
export function ratio(hits: number, misses: number): number | null {
  const reads = hits + misses;
  return reads === 0 ? null : Math.round((hits / reads) * 10_000) / 10_000;
}

function sum<T>(items: readonly T[], value: (item: T) => number): number {
  let total = 0;
  for (const item of items) total += value(item);
  return total;
}
