/**
 * `cache.stats()` and `cache.health()`, built from the counters the core
 * keeps. Wired in by create-cache.ts, so the facade does not depend on how
 * reports are made.
 */
import type { HealthOptions } from '../config/options.js';
import type { CacheCounters } from '../counters.js';
import type { Clock } from '../node/clock.js';
import type { CacheNode } from '../node/node.js';
import { buildStats, type CacheStats } from './cache-stats.js';
import { buildHealth, type CacheHealth } from './health-report.js';
import { HitRateWindow } from './hit-rate-window.js';

export interface Reports {
  stats(): CacheStats;
  health(): CacheHealth;
}

export function createReports(nodes: readonly CacheNode[], counters: CacheCounters, clock: Clock, health: Required<HealthOptions>): Reports {
  const hitRate = new HitRateWindow(health.hitRateWindowMs, clock.now());
  return {
    stats: () => buildStats(nodes, counters, clock.now()),
    health: () => buildHealth(nodes, hitRate.observe(clock.now(), counters.reads.hits, counters.reads.misses), health, counters.local, counters.replication),
  };
}
