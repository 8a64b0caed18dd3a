/**
 * The cache's hit rate over a recent window, for `cache.health()`, with no
 * cost per read: the cumulative hit and miss counters are snapshotted when
 * health is asked for (at most a dozen snapshots per window are kept), and
 * the rate is the difference between now and the oldest snapshot still in
 * the window. When health was last asked for longer ago than the window, the
 * rate covers the time since then.
 */
interface Snapshot {
  readonly at: number;
  readonly hits: number;
  readonly misses: number;
}

/** Snapshots per window: the window's start is known to within 1/12 of its length. */
const SNAPSHOTS_PER_WINDOW = 12;

export interface RecentHitRate {
  /** hits / (hits + misses) in the window; `null` when there was no read. */
  readonly value: number | null;
  /** Key reads (hits + misses) in the window. */
  readonly reads: number;
  /** How far back the window actually reaches. */
  readonly spanMs: number;
}

export class HitRateWindow {
  readonly #windowMs: number;
  readonly #snapshots: Snapshot[];

  constructor(windowMs: number, now: number) {
    this.#windowMs = windowMs;
    this.#snapshots = [{ at: now, hits: 0, misses: 0 }];
  }

  observe(now: number, hits: number, misses: number): RecentHitRate {
    const snapshots = this.#snapshots;
    while (snapshots.length > 1 && snapshots[0]!.at < now - this.#windowMs) snapshots.shift();
    const base = snapshots[0]!;
    if (now - snapshots[snapshots.length - 1]!.at >= this.#windowMs / SNAPSHOTS_PER_WINDOW) snapshots.push({ at: now, hits, misses });
    const windowHits = hits - base.hits;
    const reads = windowHits + misses - base.misses;
    return { value: reads === 0 ? null : Math.round((windowHits / reads) * 10_000) / 10_000, reads, spanMs: Math.round(now - base.at) };
  }
}
