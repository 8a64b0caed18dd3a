/**
 * Builds the local tier over the store below it and, on Redis, each node's
 * invalidation stream. Called by create-cache.ts only when `local` is
 * configured: otherwise the tier is not in the chain at all.
 */
import { RedisBackend } from '../backends/redis.js';
import type { LocalOptions } from '../config/options.js';
import type { LocalCounters } from '../counters.js';
import type { Clock } from '../node/clock.js';
import type { CacheNode } from '../node/node.js';
import type { Ring } from '../ring/ring.js';
import type { LoadingStore } from '../store.js';
import { LocalTier } from './local-tier.js';
import { RedisTracking } from './redis-tracking.js';

export interface LocalTierContext {
  readonly nodes: readonly CacheNode[];
  readonly membership: { readonly ring: Ring<CacheNode> };
  readonly clock: Clock;
  readonly counts: LocalCounters;
  readonly sizeOf: (value: unknown) => number | undefined;
  readonly connectMs: number;
}

export interface AttachedLocalTier {
  readonly tier: LocalTier;
  /**
   * Nodes joining the pool (`setNodes`), before they serve: each Redis one
   * gets its invalidation stream, and nothing it answers is kept until that
   * stream is established.
   */
  addNodes(nodes: readonly CacheNode[]): Promise<void>;
  /** Nodes that left the pool: their invalidation streams are stopped. */
  removeNodes(nodes: readonly CacheNode[]): Promise<void>;
  /** Stops the invalidation streams. */
  close(): Promise<void>;
}

/** The tier, with every Redis node's tracking set up (or known to be down), bounded by `connectMs`. */
export async function attachLocalTier(inner: LoadingStore, options: Required<LocalOptions>, context: LocalTierContext): Promise<AttachedLocalTier> {
  const tier = new LocalTier(options, { inner, membership: context.membership, clock: context.clock, counts: context.counts, sizeOf: context.sizeOf });
  const streams = new Map<CacheNode, RedisTracking>();
  const addNodes = async (nodes: readonly CacheNode[]) => {
    const redisNodes = nodes.filter((node) => node.backend instanceof RedisBackend);
    tier.requireTracking(redisNodes);
    const started = redisNodes.map((node) => {
      const stream = new RedisTracking(node.backend as RedisBackend, tier.trackingListener(node), {
        address: node.address,
        connectMs: context.connectMs,
        heartbeatMs: options.heartbeatMs,
        clock: context.clock,
      });
      streams.set(node, stream);
      return stream;
    });
    await Promise.all(started.map((stream) => stream.start()));
  };
  const removeNodes = async (nodes: readonly CacheNode[]) => {
    const stopped = nodes.flatMap((node) => {
      const stream = streams.get(node);
      streams.delete(node);
      return stream === undefined ? [] : [stream];
    });
    await Promise.all(stopped.map((stream) => stream.close()));
  };
  await addNodes(context.nodes);
  return { tier, addNodes, removeNodes, close: () => removeNodes([...streams.keys()]) };
}
