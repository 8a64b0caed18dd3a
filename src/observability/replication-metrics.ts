/**
 * The replicated routing layer's counters as prom-client metrics: stale
 * marks on copies that missed a write, and warm-up lookups and fills. Each
 * is read at scrape time from `CacheCounters.replication`, so the metrics
 * and `stats().replication` always agree. None when neither replication nor
 * warm-up is configured.
 */
import type { ReplicationCounters } from '../counters.js';

/** One scraped counter: name after the prefix, help text, and where its value is read. */
export type ScrapedCounter = readonly [suffix: string, help: string, value: () => number];

export function replicationCounters(counts: ReplicationCounters | undefined): ScrapedCounter[] {
  if (counts === undefined) return [];
  const { staleMarks, warmup } = counts;
  return [
    ['stale_marks_total', 'Copies marked stale for a key: they missed a write or delete of it (or a stand-in copy could not be deleted after warm-up); not read for it until repaired.', () => staleMarks.set],
    ['stale_marks_repaired_total', 'Stale marks cleared: the key deleted on that copy by a repair, or a later write of it succeeded there.', () => staleMarks.repaired],
    ['stale_reads_skipped_total', 'Reads that passed over a copy marked stale for the key (the next copy answered, or the read was a miss).', () => staleMarks.skippedReads],
    ['warmup_fills_tried_total', 'Misses on a warming node looked up where the key lived before (previous owner, other copy or stand-in).', () => warmup.tried],
    ['warmup_fills_from_previous_total', 'Warm-up lookups that found the key where it lived before and answered with that value.', () => warmup.fromPrevious],
    ['warmup_filled_total', 'Values added to a warming node by warm-up (its add stored them).', () => warmup.filled],
    ['warmup_fills_raced_total', 'Warm-up fills not added because a write or delete of the key raced them (or the add found a value already).', () => warmup.raced],
  ];
}
