/**
 * What the core publishes. Metrics, logs and tests subscribe; the core never
 * depends on who listens. Payloads carry node addresses, never keys or values.
 */
import { EventEmitter } from 'node:events';

export type NodeState = 'up' | 'ejected' | 'probing';
export type BreakerState = 'closed' | 'open' | 'half-open';

export interface ShardcacheEvents {
  /** A node left the ring after `failureLimit` consecutive failures. */
  'node:ejected': [{ node: string; consecutiveFailures: number; ejectedNodes: number }];
  /** A node would have been ejected, but `maxEjectedFraction` was reached: it stays, behind its breaker. */
  'node:ejection-refused': [{ node: string; ejectedNodes: number }];
  /** A probe succeeded and the node is back on the ring. */
  'node:readmitted': [{ node: string; outMs: number; invalidatedKeys: number; flushed: boolean }];
  /** A probe failed; the next one is due in `nextProbeMs`. */
  'node:probe-failed': [{ node: string; attempt: number; nextProbeMs: number; error: unknown }];
  /** `setNodes` changed the pool (by `host:port`); `nodes` is the pool's size after it. */
  'nodes:changed': [{ added: string[]; removed: string[]; reweighted: string[]; nodes: number }];
  'breaker:open': [{ node: string }];
  'breaker:half-open': [{ node: string }];
  'breaker:closed': [{ node: string }];
}

export type ShardcacheEmitter = EventEmitter<ShardcacheEvents>;

export function createEmitter(): ShardcacheEmitter {
  return new EventEmitter<ShardcacheEvents>();
}
