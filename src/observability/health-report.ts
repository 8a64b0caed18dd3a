/**
 * `cache.health()`: one word for dashboards and load balancers, with the
 * reasons a human needs to act.
 *
 * - `down`: no node is serving (each is out of the ring, behind a breaker
 *   that is not closed, or failing while it stays on the ring): every read
 *   goes to the database.
 * - `degraded`: the cache answers, but a node is out (ejected, being probed),
 *   a breaker is open or half-open, a node keeps failing while it stays on
 *   the ring because `maxEjectedFraction` is reached, or the recent hit rate
 *   is under `health.minHitRate`.
 * - `up`: none of these.
 */
import type { HealthOptions } from '../config/options.js';
import type { BreakerState, NodeState } from '../events.js';
import type { CacheNode } from '../node/node.js';
import type { RecentHitRate } from './hit-rate-window.js';
import type { LocalCounters, ReplicationCounters } from '../counters.js';
import { localStats, replicationStats, type LocalTierStats, type ReplicationStats } from './cache-stats.js';

export type HealthStatus = 'up' | 'degraded' | 'down';

export interface NodeHealthReport {
  readonly address: string;
  readonly state: NodeState;
  readonly breaker: BreakerState;
  readonly consecutiveFailures: number;
  /** On the ring, breaker closed, and not failing `failureLimit` times in a row: it answers requests. */
  readonly serving: boolean;
  /**
   * Set while the node refuses this client's login or TLS set-up: the
   * error's code and reason (`SHARDCACHE_AUTH rejected`, `SHARDCACHE_TLS
   * hostname-mismatch`...) and its message, which names the node and the
   * user, never the secret. `undefined` otherwise.
   */
  readonly setupFailure: { readonly code: string; readonly reason: string; readonly message: string } | undefined;
}

export interface CacheHealth {
  readonly status: HealthStatus;
  /** Why the status is not `up`, one sentence each; empty when up. */
  readonly reasons: string[];
  readonly hitRate: RecentHitRate & { readonly minimum: number };
  readonly nodes: NodeHealthReport[];
  /** The local tier (absent when not configured); a node in `untrackedNodes` makes the cache `degraded`. */
  readonly local?: LocalTierStats;
  /** Stale marks and warm-up fills, as in `stats()`; absent unless replication or warm-up is configured. */
  readonly replication?: ReplicationStats;
}

export function buildHealth(nodes: readonly CacheNode[], hitRate: RecentHitRate, options: Required<HealthOptions>, local?: LocalCounters, replication?: ReplicationCounters): CacheHealth {
  const reasons: string[] = [];
  const reports = nodes.map((node): NodeHealthReport => {
    let reason: string | undefined;
    if (node.state !== 'up') {
      reason = `${node.address} is out of the ring (${node.state === 'ejected' ? 'ejected' : 'being probed'})`;
    } else if (node.breakerState !== 'closed') {
      reason = `${node.address} circuit breaker is ${node.breakerState}`;
    } else if (node.consecutiveFailures >= options.failureLimit) {
      reason = `${node.address} is failing (${node.consecutiveFailures} consecutive failures) but stays on the ring: health.maxEjectedFraction is reached`;
    }
    const setup = node.setupFailure;
    // The error's message starts with the node's address, which the reason already names.
    if (reason !== undefined) reasons.push(setup === undefined ? reason : `${reason}: ${setup.message.replace(`${node.address}: `, '')}`);
    const setupFailure = setup === undefined ? undefined : { code: setup.code, reason: setup.reason, message: setup.message };
    return { address: node.address, state: node.state, breaker: node.breakerState, consecutiveFailures: node.consecutiveFailures, serving: reason === undefined, setupFailure };
  });
  const lowHitRate = options.minHitRate > 0 && hitRate.value !== null && hitRate.reads >= options.minHitRateSamples && hitRate.value < options.minHitRate;
  if (lowHitRate) {
    reasons.push(`hit rate ${hitRate.value} over the last ${Math.round(hitRate.spanMs / 1000)} s (${hitRate.reads} reads) is under health.minHitRate ${options.minHitRate}`);
  }
  for (const node of local?.untrackedNodes ?? []) reasons.push(`${node} has no invalidation stream for the local tier now: its keys bypass the tier`);
  const serving = reports.filter((node) => node.serving).length;
  let status: HealthStatus = reasons.length === 0 ? 'up' : 'degraded';
  if (serving === 0) {
    status = 'down';
    reasons.unshift(`no node is serving (0 of ${reports.length}): every read falls back to the loader`);
  }
  const report = { status, reasons, hitRate: { ...hitRate, minimum: options.minHitRate }, nodes: reports };
  return {
    ...report,
    ...(local !== undefined && { local: localStats(local) }),
    ...(replication !== undefined && { replication: replicationStats(replication) }),
  };
}
