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
  /** Stops the invalidation streams. */
  close(): Promise<void>;
}

/** The tier, with every Redis node's tracking set up (or known to be down), bounded by `connectMs`. */
export async function attachLocalTier(inner: LoadingStore, options: Required<LocalOptions>, context: LocalTierContext): Promise<AttachedLocalTier> {
  const tier = new LocalTier(options, { inner, membership: context.membership, clock: context.clock, counts: context.counts, sizeOf: context.sizeOf });
  const redisNodes = context.nodes.filter((node) => node.backend instanceof RedisBackend);
  tier.requireTracking(redisNodes);
  const streams = redisNodes.map(
    (node) =>
      new RedisTracking(node.backend as RedisBackend, tier.trackingListener(node), {
        address: node.address,
        connectMs: context.connectMs,
        heartbeatMs: options.heartbeatMs,
        clock: context.clock,
      }),
  );
  await Promise.all(streams.map((stream) => stream.start()));
  return { tier, close: async () => void (await Promise.all(streams.map((stream) => stream.close()))) };
}
