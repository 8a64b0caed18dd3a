/**
 * The wiring: options (object or JSON file, then `SHARDCACHE_*` variables,
 * then defaults) are validated once, then each node gets its backend, the
 * ring is built over them, and the first connections are attempted in
 * parallel, bounded by `timeouts.connectMs`. A node that cannot be reached
 * at start does not fail `createCache`: its reads are misses while its client
 * keeps reconnecting in the background.
 *
 * With `metrics: { registry }`, the prom-client adapter is attached before
 * any connection is made (a registry that already holds shardcache's metrics
 * fails `createCache` with nothing left open) and detached by `close()`.
 */
import type { Backend, KeyRules } from './backends/backend.js';
import { MEMCACHED_KEY_RULES, MemcachedBackend } from './backends/memcached.js';
import { MEMORY_KEY_RULES, MemoryBackend } from './backends/memory.js';
import { REDIS_KEY_RULES, RedisBackend } from './backends/redis.js';
import { NamespaceVersions } from './cache/namespace-versions.js';
import type { ShardedCache } from './cache/sharded-cache.js';
import { TracedCache } from './cache/traced-cache.js';
import { valueFormat } from './codec/codec.js';
import { loadOptions, type OptionsInput } from './config/load.js';
import type { ResolvedNode, ResolvedOptions } from './config/options.js';
import { createEmitter } from './events.js';
import { systemClock, type Clock } from './node/clock.js';
import { withDeadline } from './node/deadline.js';
import { NodeMembership } from './routing/membership.js';
import { CacheNode } from './node/node.js';
import { Ring } from './ring/ring.js';
import { createCounters, type ReplicationCounters } from './counters.js';
import { attachMetrics } from './observability/metrics.js';
import { createReports } from './observability/reports.js';
import { ReadThrough } from './loader/read-through.js';
import { Router } from './routing/router.js';
import { Values } from './routing/values.js';
import { ReplicaRouter } from './routing/replica-router.js';
import { StaleCopies } from './routing/stale-copies.js';
import { StandInRelease } from './routing/stand-in-release.js';
import { Warmup } from './routing/warmup.js';
import { PoolChange } from './routing/pool-change.js';
import { AuthError, ClosedError, TlsError } from './errors.js';
import { loadXxhash32 } from './ring/xxhash.js';
import { attachLocalTier } from './local/attach.js';

/** First wait before copies that missed a write are repaired (doubling while repairs fail, up to `health.retryTimeoutMs`). */
const STALE_REPAIR_DELAY_MS = 100;

/** How much longer createCache waits for a first connection than the adapters' own `connectMs`. */
const CONNECT_GRACE_MS = 50;

const nodesByCache = new WeakMap<ShardedCache, readonly CacheNode[]>();
/** Tells caches apart on the process-wide diagnostics channel. */
let lastCacheId = 0;

/** The nodes behind a cache, for `shardcache/testing`; not part of the public surface. */
export function nodesOf(cache: ShardedCache): readonly CacheNode[] | undefined {
  return nodesByCache.get(cache);
}

export interface CreateCacheContext {
  /** Where `SHARDCACHE_*` variables are read from. @default process.env */
  env?: Readonly<Record<string, string | undefined>>;
  /** Time for probes and backoff. @default the system clock */
  clock?: Clock;
}

/**
 * Creates a sharded cache.
 * @param options an options object, or a path to a JSON file holding one; omitted, options come from `SHARDCACHE_*` variables.
 * @throws {ConfigError} naming the first invalid option and its value.
 * @example
 * const cache = await createCache({ backend: 'memcached', nodes: ['10.0.0.1:11211', '10.0.0.2:11211:2'] });
 */
export async function createCache(options?: OptionsInput, context: CreateCacheContext = {}): Promise<ShardedCache> {
  const resolved = await loadOptions(options, context.env ?? process.env);
  const xxhash32 = resolved.ring.algorithm === 'ketama' ? undefined : await loadXxhash32();
  const events = createEmitter();
  const clock = context.clock ?? systemClock;
  const cacheId = ++lastCacheId;
  const healthOptions = { health: resolved.health, getMs: resolved.timeouts.getMs, breaker: resolved.breaker, clock, events, cacheId };
  const nodes = resolved.nodes.map((node) => new CacheNode(node, createBackend(node, resolved), healthOptions));
  const membership = new NodeMembership(Ring.build(nodes, { ...resolved.ring, xxhash32 }), resolved.health, events, resolved.replication.copies);
  const counters = createCounters(resolved.local !== undefined, resolved.replication.copies > 1 || resolved.warmup.durationMs > 0);
  const { registry, prefix, buckets } = resolved.metrics;
  let detachMetrics: (() => void) | undefined;
  if (registry) {
    try {
      detachMetrics = await attachMetrics({ registry, prefix, buckets }, { cacheId, nodes, counters, events, ringSize: () => membership.ring.members.length });
    } catch (error) {
      // Breakers keep interval timers; nothing may outlive a failed createCache.
      for (const node of nodes) node.close();
      await Promise.all(nodes.map((node) => node.backend.close()));
      throw error;
    }
  }
  // Bounded here, not only in the adapters: a server that accepts and never
  // answers completes memcached's TCP connect but not its first no-op.
  // A little past the adapters' own connect timeouts, so that theirs (a TLS handshake timeout, say) is the failure recorded.
  const connectMs = resolved.timeouts.connectMs + CONNECT_GRACE_MS;
  const connections = await Promise.allSettled(nodes.map((node) => withDeadline(node.backend.connect(), connectMs, node.address, 'connect')));
  await failIfEveryNodeRefusesUs(connections, nodes, detachMetrics);
  // The store chain, outermost first: the local tier (when configured) over read-through over routing over the nodes.
  const lifecycle = { closed: false };
  const values = new Values(valueFormat(resolved.codec, resolved.backend !== 'redis'), resolved.maxValueBytes, counters.reads);
  const replicas = createReplicaRouting(membership, values, resolved, clock, counters.replication);
  const router = replicas?.router ?? new Router(membership, values, resolved.timeouts);
  const loadTime = { wallNow: () => Date.now(), now: () => clock.now(), random: () => clock.random() };
  const readThrough = new ReadThrough(router, counters.loads, () => lifecycle.closed, loadTime, cacheId);
  const local =
    resolved.local === undefined
      ? undefined
      : await attachLocalTier(readThrough, resolved.local, { nodes, membership, clock, counts: counters.local!, sizeOf: sizeWith(values), connectMs });
  const store = local?.tier ?? readThrough;
  // `nodes` is the pool reports, metrics and shardcache/testing read: setNodes changes it in place.
  const poolChange = new PoolChange({
    membership,
    pool: nodes,
    createNode: (node) => new CacheNode(node, createBackend(node, resolved), healthOptions),
    connectMs,
    warmup: replicas?.warmup,
    stale: replicas?.stale,
    closed: () => lifecycle.closed,
    events,
    followers: local,
  });
  const assertOpen = () => {
    if (lifecycle.closed) throw new ClosedError();
  };
  const cache = new TracedCache({
    cacheId,
    store,
    membership,
    keyRules: keyRulesOf(resolved),
    options: resolved,
    events,
    namespaces: new NamespaceVersions(membership, clock, resolved, assertOpen, counters.loads),
    reports: createReports(nodes, counters, clock, resolved.health),
    lifecycle,
    poolChange,
    local: local && { admin: local.tier, close: local.close },
    onClose: () => {
      replicas?.stale.close();
      replicas?.standIns?.close();
      detachMetrics?.();
    },
  });
  nodesByCache.set(cache, nodes);
  return cache;
}

/** The replicated routing layer, when copies or warm-up are configured; undefined leaves the plain router in the chain. */
function createReplicaRouting(
  membership: NodeMembership,
  values: Values,
  options: ResolvedOptions,
  clock: Clock,
  counts: ReplicationCounters | undefined,
): { router: ReplicaRouter; stale: StaleCopies; warmup: Warmup | undefined; standIns: StandInRelease | undefined } | undefined {
  const { replication, warmup: warmupOptions, health, timeouts } = options;
  // The counters exist exactly when copies > 1 or warm-up is on.
  if (counts === undefined) return undefined;
  const stale = new StaleCopies({
    limit: health.returnJournalLimit,
    deadlineMs: health.probeTimeoutMs,
    delayMs: Math.min(STALE_REPAIR_DELAY_MS, health.retryTimeoutMs),
    maxDelayMs: health.retryTimeoutMs,
    clock,
    isServing: (node) => membership.isServing(node) && node.state === 'up',
    counts: counts.staleMarks,
  });
  let warmup: Warmup | undefined;
  let standIns: StandInRelease | undefined;
  if (warmupOptions.durationMs > 0) {
    const live = new Warmup({ durationMs: warmupOptions.durationMs, copies: replication.copies, now: () => clock.now(), usable: (node, key) => membership.isServing(node) && !stale.isStale(node, key) });
    // A returning node warms from its other copies and from the stand-ins that took its keys' writes, kept until the window ends.
    const release = new StandInRelease({
      durationMs: warmupOptions.durationMs,
      deadlineMs: health.probeTimeoutMs,
      clock,
      stale,
      isServing: (node) => membership.isServing(node) && node.state === 'up',
      isMember: (node) => membership.isMember(node),
    });
    membership.onReadmitted((node, standIns) => {
      live.open([node], membership.placement, false, standIns);
      release.hold(standIns);
    }, true);
    warmup = live;
    standIns = release;
  }
  const router = new ReplicaRouter(membership, values, stale, warmup, { timeouts, reads: replication.reads, warmupTtlSeconds: warmupOptions.ttlSeconds, counts: counts.warmup });
  return { router, stale, warmup, standIns };
}

function createBackend(node: ResolvedNode, options: ResolvedOptions): Backend {
  const { timeouts } = options;
  const security = securityOf(node, options);
  switch (options.backend) {
    case 'redis':
      return new RedisBackend(node, { ...timeouts, ...security, maxValueBytes: options.maxValueBytes });
    case 'memcached':
      return new MemcachedBackend(node, { ...timeouts, ...security, maxValueBytes: options.maxValueBytes });
    case 'memory':
      return new MemoryBackend(node, { maxEntries: options.memory.maxEntriesPerNode });
  }
}

/**
 * A wrong password or CA on every node is a configuration mistake, not an
 * outage: `createCache` rejects with the first node's `AuthError` or
 * `TlsError` (untrusted certificate, host name mismatch) rather than start
 * a cache whose every read is a miss. One node that connects is enough to
 * start; the others back off and are probed.
 */
async function failIfEveryNodeRefusesUs(connections: readonly PromiseSettledResult<void>[], nodes: readonly CacheNode[], detachMetrics: (() => void) | undefined): Promise<void> {
  const refusals = connections.flatMap((outcome) => (outcome.status === 'rejected' && isConfigurationRefusal(outcome.reason) ? [outcome.reason as Error] : []));
  if (refusals.length === 0 || refusals.length < connections.length) return;
  detachMetrics?.();
  for (const node of nodes) node.close();
  await Promise.all(nodes.map((node) => node.backend.close()));
  throw refusals[0];
}

function isConfigurationRefusal(error: unknown): boolean {
  return error instanceof AuthError || (error instanceof TlsError && (error.reason === 'untrusted-certificate' || error.reason === 'hostname-mismatch'));
}

/** The node's own TLS and login, else the cache's; a refused one is retried at the pace of a dead node's probes. */
function securityOf(node: ResolvedNode, options: ResolvedOptions) {
  return {
    tls: node.tls === undefined ? options.tls : node.tls || undefined,
    auth: node.auth ?? options.auth,
    setupRetryMs: options.health.retryTimeoutMs,
    maxSetupRetryMs: options.health.maxRetryTimeoutMs,
  };
}

/** A value's encoded size, the local tier's measure of its bytes; `undefined` when the codec refuses it. */
function sizeWith(values: Values): (value: unknown) => number | undefined {
  return (value) => {
    try {
      return values.encode(value).bytes.length;
    } catch {
      return undefined;
    }
  };
}

function keyRulesOf(options: ResolvedOptions): KeyRules {
  return { redis: REDIS_KEY_RULES, memcached: MEMCACHED_KEY_RULES, memory: MEMORY_KEY_RULES }[options.backend];
}
