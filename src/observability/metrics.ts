/**
 * The prom-client adapter. It exists only when `metrics: { registry }` is
 * given, and prom-client is loaded then (a dynamic import), so the core never
 * needs it. It registers on the caller's Registry, never the global one.
 *
 * Sources, all published by the core, none of them knowing about metrics:
 * - counters and gauges are read at scrape time (`collect`) from what the
 *   core keeps anyway for `cache.stats()` (NodeStats, CacheCounters, node and
 *   breaker state, the ring), so `/metrics` and `stats()` always agree and a
 *   request pays nothing for them;
 * - the latency histogram observes the `shardcache:operation` diagnostics
 *   channel, keeping only this cache's messages (the channel is process-wide);
 * - ejections, re-admissions, refused ejections and failed probes come from
 *   `cache.events`.
 * `detach()` (called by `cache.close()`) unsubscribes and unregisters
 * everything, so a new cache can register on the same registry.
 *
 * Naming follows Prometheus practice: the prefix, base units (seconds),
 * `_total` on counters, and labels with bounded values (op, node address,
 * result, state), never keys.
 */
import type { Registry } from 'prom-client';
import type { MetricsRegistry } from '../config/options.js';
import type { OperationMessage } from '../diagnostics.js';
import { operationChannel } from '../diagnostics.js';
import { ConfigError } from '../errors.js';
import type { BreakerState, NodeState, ShardcacheEmitter, ShardcacheEvents } from '../events.js';
import type { CacheNode } from '../node/node.js';
import type { CacheCounters } from '../counters.js';
import { replicationCounters } from './replication-metrics.js';

export interface ResolvedMetricsOptions {
  readonly registry: MetricsRegistry;
  readonly prefix: string;
  readonly buckets: readonly number[];
}

/** What the adapter reads; all of it owned by the core. */
export interface MetricsSource {
  readonly cacheId: number;
  readonly nodes: readonly CacheNode[];
  readonly counters: CacheCounters;
  readonly events: ShardcacheEmitter;
  /** Nodes on the ring now. */
  ringSize(): number;
}

const NODE_STATES: readonly NodeState[] = ['up', 'ejected', 'probing'];
const BREAKER_STATES: readonly BreakerState[] = ['closed', 'open', 'half-open'];
const READ_OPERATIONS = ['get', 'getMany'] as const;

/**
 * Registers the metrics and starts observing; resolves with the function that undoes both.
 * @throws {ConfigError} when prom-client cannot be loaded or the registry already holds a metric of the same name.
 */
export async function attachMetrics(options: ResolvedMetricsOptions, source: MetricsSource): Promise<() => void> {
  const client = await loadPromClient();
  const { prefix } = options;
  // The caller's registry is a prom-client Registry (checked at validation); the option type only spells out what shardcache calls.
  const registry = options.registry as Registry;
  const name = (suffix: string) => `${prefix}${suffix}`;
  // Created unregistered, then registered together once no name is taken, so a clash leaves the registry as it was.
  const registers: Registry[] = [];
  const { nodes, counters } = source;

  const operations = new client.Counter({
    name: name('operations_total'),
    help: 'Requests to cache nodes by operation and result: ok, error, timeout, short-circuited (breaker open, not sent). Concurrent gets batched into one request count once; keys read are in read_keys_total.',
    labelNames: ['op', 'node', 'result'],
    registers,
    collect() {
      this.reset();
      for (const node of nodes) {
        for (const [op, counts] of node.stats.operations) {
          const labels = (result: string) => ({ op, node: node.address, result });
          this.inc(labels('ok'), counts.ok);
          this.inc(labels('error'), counts.error);
          this.inc(labels('timeout'), counts.timeout);
          this.inc(labels('short-circuited'), counts.shortCircuited);
        }
      }
    },
  });

  const readKeys = new client.Counter({
    name: name('read_keys_total'),
    help: 'Keys answered by cache nodes, by operation (get, getMany) and result (hit, miss). Hit ratio: hit / (hit + miss).',
    labelNames: ['op', 'node', 'result'],
    registers,
    collect() {
      this.reset();
      for (const node of nodes) {
        for (const op of READ_OPERATIONS) {
          this.inc({ op, node: node.address, result: 'hit' }, node.stats.reads[op].hits);
          this.inc({ op, node: node.address, result: 'miss' }, node.stats.reads[op].misses);
        }
      }
    },
  });

  /** A counter read at scrape time from one number the core keeps. */
  const scraped = (suffix: string, help: string, value: () => number) =>
    new client.Counter({
      name: name(suffix),
      help,
      registers,
      collect() {
        this.reset();
        this.inc(value());
      },
    });
  /** The same, per node. */
  const scrapedPerNode = (suffix: string, help: string, value: (node: CacheNode) => number) =>
    new client.Counter({
      name: name(suffix),
      help,
      labelNames: ['node'],
      registers,
      collect() {
        this.reset();
        for (const node of nodes) this.inc({ node: node.address }, value(node));
      },
    });

  const readFailures = scraped('read_failures_total', 'Keys whose read failed on every attempt (node down, hung or breaker open) and were answered as misses.', () => counters.reads.failures);

  const undecodable = scrapedPerNode(
    'undecodable_values_total',
    "Stored values the codec could not decode (a custom codec threw, or 'legacy' met another format), answered as misses and counted there too.",
    (node) => node.stats.reads.get.undecodable + node.stats.reads.getMany.undecodable,
  );

  const writeBackFailures = scraped(
    'write_back_failures_total',
    'Best-effort writes of loaded values (getOrLoad, mgetOrLoad) that failed; the caller had its value, the next read misses again.',
    () => counters.loads.writeBackFailures,
  );

  const cleanupFailures = scrapedPerNode(
    'cleanup_failures_total',
    'Clean-ups before a node returns (journaled keys deleted from it and from its stand-ins) that failed: the node stayed out, its journal kept for the next probe.',
    (node) => node.stats.cleanupFailures,
  );

  const duration = new client.Histogram({
    name: name('operation_duration_seconds'),
    help: 'Time from a request to a cache node until its reply or its missed deadline, by operation. Requests refused by an open breaker are not observed.',
    labelNames: ['op', 'node'],
    buckets: [...options.buckets],
    registers,
  });

  const loaderCalls = scraped('loader_calls_total', 'Loader (database) calls made by getOrLoad and mgetOrLoad.', () => counters.loads.calls);

  const loaderCoalesced = scraped(
    'loader_coalesced_total',
    'Loads that joined a load of the same key already in flight instead of calling the loader (keys, for batches).',
    () => counters.loads.coalesced,
  );

  const loaderRefreshes = scraped('loader_refreshes_total', 'Refresh-ahead loads started in the background by getOrLoad (counted in loader_calls_total too).', () => counters.loads.refreshes);

  const loaderRefreshFailures = scraped(
    'loader_refresh_failures_total',
    'Refresh-ahead loads that failed; the entry kept serving until it expired.',
    () => counters.loads.refreshFailures,
  );

  const nodeState = new client.Gauge({
    name: name('node_state'),
    help: 'Node state: 1 for the current one of up, ejected (out of the ring), probing (out, being probed); 0 for the others.',
    labelNames: ['node', 'state'],
    registers,
    collect() {
      for (const node of nodes) for (const state of NODE_STATES) this.set({ node: node.address, state }, node.state === state ? 1 : 0);
    },
  });

  const breakerState = new client.Gauge({
    name: name('breaker_state'),
    help: "Circuit breaker state per node: 1 for the current one of closed, open, half-open; 0 for the others.",
    labelNames: ['node', 'state'],
    registers,
    collect() {
      for (const node of nodes) for (const state of BREAKER_STATES) this.set({ node: node.address, state }, node.breakerState === state ? 1 : 0);
    },
  });

  const ringNodes = new client.Gauge({
    name: name('ring_nodes'),
    help: 'Nodes on the ring now (configured nodes minus those out).',
    registers,
    collect() {
      this.set(source.ringSize());
    },
  });

  /** A per-node counter of one event, every node's series present from the start. */
  const counted = (event: keyof ShardcacheEvents, suffix: string, help: string) => {
    const counter = new client.Counter({ name: name(suffix), help, labelNames: ['node'], registers });
    for (const node of nodes) counter.inc({ node: node.address }, 0);
    return { event, counter, listener: ({ node }: { node: string }) => counter.inc({ node }) };
  };
  const listeners = [
    counted('node:ejected', 'node_ejections_total', 'Times a node was taken off the ring after failureLimit consecutive failures.'),
    counted('node:ejection-refused', 'node_ejections_refused_total', 'Ejections refused because maxEjectedFraction of the nodes were out already (the node stayed, behind its breaker).'),
    counted('node:readmitted', 'node_readmissions_total', 'Times an ejected node passed its probe and returned to the ring.'),
    counted('node:probe-failed', 'node_probe_failures_total', 'Failed probes of ejected nodes.'),
  ];

  const local = counters.local;
  /** A gauge read at scrape time from one number the core keeps. */
  const gauged = (suffix: string, help: string, value: () => number) =>
    new client.Gauge({
      name: name(suffix),
      help,
      registers,
      collect() {
        this.set(value());
      },
    });
  const localMetrics =
    local === undefined
      ? []
      : [
          scraped('local_hits_total', 'Keys answered by the local (in-process) tier, fresh.', () => local.hits),
          scraped('local_misses_total', 'Keys the local tier did not hold fresh, read from the cache nodes (stale hits included).', () => local.misses),
          scraped('local_stale_hits_total', 'Expired local entries served within local.graceMs because every node that could answer failed.', () => local.staleHits),
          scraped('local_invalidations_total', 'Keys the servers invalidated in the local tier (Redis client tracking; a flush counts one).', () => local.invalidations),
          scraped('local_evictions_total', 'Local entries evicted to stay within local.maxEntries and local.maxBytes.', () => local.evictions),
          gauged('local_entries', 'Entries the local tier holds now.', () => local.entries),
          gauged('local_bytes', 'Bytes the local tier holds now: encoded value sizes plus key lengths.', () => local.bytes),
        ];

  const replicationMetrics = replicationCounters(counters.replication).map(([suffix, help, value]) => scraped(suffix, help, value));

  const metrics = [operations, readKeys, readFailures, undecodable, writeBackFailures, cleanupFailures, duration, loaderCalls, loaderCoalesced, loaderRefreshes, loaderRefreshFailures, nodeState, breakerState, ringNodes, ...localMetrics, ...replicationMetrics, ...listeners.map((l) => l.counter)];
  const taken = metrics.find((metric) => registry.getSingleMetric(nameOf(metric)) !== undefined);
  if (taken !== undefined) {
    throw new ConfigError('metrics.registry', `already holds a metric named ${nameOf(taken)} (another cache?): give each cache its own registry or metrics.prefix`);
  }
  for (const metric of metrics) registry.registerMetric(metric);

  for (const { event, listener } of listeners) source.events.on(event, listener as never);

  const observe = (message: unknown) => {
    const { cache, outcome, operation, node, durationMs } = message as OperationMessage;
    if (cache === source.cacheId && outcome !== 'short-circuited') duration.observe({ op: operation, node }, durationMs / 1000);
  };
  operationChannel.subscribe(observe);

  return () => {
    operationChannel.unsubscribe(observe);
    for (const { event, listener } of listeners) source.events.off(event, listener as never);
    for (const metric of metrics) registry.removeSingleMetric(nameOf(metric));
  };
}

/** Every prom-client metric carries its name; the type declarations leave it out. */
function nameOf(metric: object): string {
  return (metric as { name: string }).name;
}

async function loadPromClient(): Promise<typeof import('prom-client')> {
  try {
    return await import('prom-client');
  } catch (error) {
    throw new ConfigError('metrics.registry', 'metrics need the prom-client package: npm install prom-client', { cause: error });
  }
}
