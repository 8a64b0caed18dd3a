/**
 * One pass over the merged options: unknown keys, bad enums, bad numbers and
 * bad nodes are rejected with a `ConfigError` naming the option and the value.
 * The caller's objects are never written to; the result is a new object.
 */
import { ConfigError } from '../errors.js';
import { CODEC_NAMES, type Codec, type CodecName } from '../codec/codec.js';
import { describe, parseNodeSpec } from './node-spec.js';
import { resolveAuth, resolveTls } from './security.js';
import { maglevTableSize } from './table-size.js';
import { DEFAULTS, type BackendKind, type KeyHash, type MetricsRegistry, type ResolvedNode, type ResolvedOptions, type ReplicaReads, type RingAlgorithm, type RingCompat, type ShardcacheOptions } from './options.js';

type Raw = Record<string, unknown>;

/**
 * Every top-level option, and whether it is a group of options. Tied to
 * `ShardcacheOptions` both ways: an option added to the type and not listed
 * here, or listed here and not in the type, is a compile error.
 */
const TOP_LEVEL_KEYS = {
  backend: 'value',
  nodes: 'value',
  ring: 'group',
  timeouts: 'group',
  health: 'group',
  breaker: 'group',
  memory: 'group',
  metrics: 'group',
  replication: 'group',
  warmup: 'group',
  local: 'group',
  namespaceVersionCacheMs: 'value',
  defaultTtlSeconds: 'value',
  maxValueBytes: 'value',
  codec: 'value',
  tls: 'value',
  auth: 'value',
} as const satisfies Record<keyof ShardcacheOptions, 'value' | 'group'>;

type GroupName = { [K in keyof typeof TOP_LEVEL_KEYS]: (typeof TOP_LEVEL_KEYS)[K] extends 'group' ? K : never }[keyof typeof TOP_LEVEL_KEYS];
/** A group as given: its known names (any value yet), nothing else. */
type RawGroup<G extends GroupName> = { [K in keyof NonNullable<ShardcacheOptions[G]>]?: unknown };

const TOP_LEVEL: readonly string[] = Object.keys(TOP_LEVEL_KEYS);
/** Each group's option names, from `DEFAULTS`, whose groups are checked against their types both ways. */
const GROUPS = {
  ring: Object.keys(DEFAULTS.ring),
  timeouts: Object.keys(DEFAULTS.timeouts),
  health: Object.keys(DEFAULTS.health),
  breaker: Object.keys(DEFAULTS.breaker),
  memory: Object.keys(DEFAULTS.memory),
  metrics: Object.keys(DEFAULTS.metrics),
  replication: Object.keys(DEFAULTS.replication),
  warmup: Object.keys(DEFAULTS.warmup),
  local: Object.keys(DEFAULTS.local),
} satisfies Record<GroupName, readonly string[]>;

/** Every option name validation accepts, dotted for groups (`timeouts.getMs`). */
export const OPTION_NAMES: readonly string[] = Object.freeze(
  Object.entries(TOP_LEVEL_KEYS).flatMap(([key, kind]) => (kind === 'group' ? GROUPS[key as GroupName].map((name) => `${key}.${name}`) : [key])),
);

/** The members of a string union, listed once and checked against it both ways (a missing or an extra one does not compile). */
function members<T extends string>(listed: Record<T, true>): readonly T[] {
  return Object.freeze(Object.keys(listed) as T[]);
}
const BACKENDS = members<BackendKind>({ redis: true, memcached: true, memory: true });
const ALGORITHMS = members<RingAlgorithm>({ ketama: true, fast: true, maglev: true });
const COMPATS = members<RingCompat>({ libmemcached: true, twemproxy: true });
const KEY_HASHES = members<KeyHash>({ md5: true, fnv1a_64: true });
const REPLICA_READS = members<ReplicaReads>({ primary: true, spread: true });
/** More copies than this multiply every write for little gain (libmemcached and mcrouter pools use 2 or 3). */
const MAX_COPIES = 5;

/** Prometheus metric names: `[a-zA-Z_:][a-zA-Z0-9_:]*`; a prefix may also be empty. */
const METRIC_PREFIX = /^([a-zA-Z_:][a-zA-Z0-9_:]*)?$/;
const HOUR_MS = 3_600_000;

/**
 * lru-cache allocates every slot up front (about 28 bytes each): the old
 * bound, 2^31, made createCache die of an uncatchable out-of-memory error.
 */
const MAX_MEMORY_ENTRIES_PER_NODE = 1_000_000;

/** lru-cache allocates the local tier's slots up front too. */
const MAX_LOCAL_ENTRIES = 10_000_000;

/** Upper bound on TTLs (10 years). The memcached adapter sends TTLs over 30 days as a date, as its protocol requires. */
export const MAX_TTL_SECONDS = 60 * 60 * 24 * 365 * 10;

export function validateOptions(merged: Raw): ResolvedOptions {
  rejectUnknown(merged, TOP_LEVEL, '');
  const ring = group(merged, 'ring');
  const timeouts = group(merged, 'timeouts');
  const memory = group(merged, 'memory');
  const health = group(merged, 'health');
  const breaker = group(merged, 'breaker');
  const metrics = group(merged, 'metrics');
  const replication = group(merged, 'replication');
  const warmup = group(merged, 'warmup');
  // Backend first: with neither backend nor nodes, the missing backend is the error to name.
  const backendKind = backend(merged.backend);
  const resolvedNodes = nodes(merged.nodes);
  const local = group(merged, 'local');

  const algorithm = oneOf(ring.algorithm, ALGORITHMS, 'ring.algorithm', DEFAULTS.ring.algorithm);
  return {
    backend: backendKind,
    nodes: resolvedNodes,
    ring: {
      algorithm,
      compat: oneOf(ring.compat, COMPATS, 'ring.compat', DEFAULTS.ring.compat),
      keyHash: oneOf(ring.keyHash, KEY_HASHES, 'ring.keyHash', DEFAULTS.ring.keyHash),
      hashTag: hashTag(ring.hashTag),
      pointsPerServer: integer(ring.pointsPerServer, 'ring.pointsPerServer', DEFAULTS.ring.pointsPerServer, 1, 10_000),
      tableSize: maglevTableSize(ring.tableSize, algorithm === 'maglev' ? resolvedNodes.length : 0),
    },
    timeouts: {
      getMs: integer(timeouts.getMs, 'timeouts.getMs', DEFAULTS.timeouts.getMs, 1, 600_000),
      getRetries: integer(timeouts.getRetries, 'timeouts.getRetries', DEFAULTS.timeouts.getRetries, 0, 5),
      setMs: integer(timeouts.setMs, 'timeouts.setMs', DEFAULTS.timeouts.setMs, 1, 600_000),
      batchMs: integer(timeouts.batchMs, 'timeouts.batchMs', DEFAULTS.timeouts.batchMs, 1, 600_000),
      connectMs: integer(timeouts.connectMs, 'timeouts.connectMs', DEFAULTS.timeouts.connectMs, 1, 600_000),
      connectRetries: integer(timeouts.connectRetries, 'timeouts.connectRetries', DEFAULTS.timeouts.connectRetries, 0, 100),
      connectBackoffMs: integer(timeouts.connectBackoffMs, 'timeouts.connectBackoffMs', DEFAULTS.timeouts.connectBackoffMs, 0, 600_000),
      adminMs: integer(timeouts.adminMs, 'timeouts.adminMs', DEFAULTS.timeouts.adminMs, 1, 600_000),
    },
    health: {
      failureLimit: integer(health.failureLimit, 'health.failureLimit', DEFAULTS.health.failureLimit, 1, 1000),
      retryTimeoutMs: integer(health.retryTimeoutMs, 'health.retryTimeoutMs', DEFAULTS.health.retryTimeoutMs, 1, 24 * HOUR_MS),
      maxRetryTimeoutMs: integer(health.maxRetryTimeoutMs, 'health.maxRetryTimeoutMs', DEFAULTS.health.maxRetryTimeoutMs, 1, 24 * HOUR_MS),
      probeTimeoutMs: integer(health.probeTimeoutMs, 'health.probeTimeoutMs', DEFAULTS.health.probeTimeoutMs, 1, 600_000),
      maxEjectedFraction: fraction(health.maxEjectedFraction, 'health.maxEjectedFraction', DEFAULTS.health.maxEjectedFraction),
      failoverTtlSeconds: integer(health.failoverTtlSeconds, 'health.failoverTtlSeconds', DEFAULTS.health.failoverTtlSeconds, 1, MAX_TTL_SECONDS),
      returnJournalLimit: integer(health.returnJournalLimit, 'health.returnJournalLimit', DEFAULTS.health.returnJournalLimit, 0, 10_000_000),
      minHitRate: fraction(health.minHitRate, 'health.minHitRate', DEFAULTS.health.minHitRate),
      minHitRateSamples: integer(health.minHitRateSamples, 'health.minHitRateSamples', DEFAULTS.health.minHitRateSamples, 1, 1_000_000_000),
      hitRateWindowMs: integer(health.hitRateWindowMs, 'health.hitRateWindowMs', DEFAULTS.health.hitRateWindowMs, 1000, 24 * HOUR_MS),
    },
    breaker: {
      errorThresholdPercentage: integer(breaker.errorThresholdPercentage, 'breaker.errorThresholdPercentage', DEFAULTS.breaker.errorThresholdPercentage, 1, 100),
      rollingCountTimeoutMs: integer(breaker.rollingCountTimeoutMs, 'breaker.rollingCountTimeoutMs', DEFAULTS.breaker.rollingCountTimeoutMs, 10, 24 * HOUR_MS),
      resetTimeoutMs: integer(breaker.resetTimeoutMs, 'breaker.resetTimeoutMs', DEFAULTS.breaker.resetTimeoutMs, 1, 24 * HOUR_MS),
      volumeThreshold: integer(breaker.volumeThreshold, 'breaker.volumeThreshold', DEFAULTS.breaker.volumeThreshold, 0, 1_000_000),
    },
    memory: {
      maxEntriesPerNode: integer(memory.maxEntriesPerNode, 'memory.maxEntriesPerNode', DEFAULTS.memory.maxEntriesPerNode, 1, MAX_MEMORY_ENTRIES_PER_NODE),
    },
    metrics: {
      registry: registry(metrics.registry),
      prefix: metricPrefix(metrics.prefix),
      buckets: buckets(metrics.buckets),
    },
    replication: {
      copies: copies(replication.copies, resolvedNodes.length),
      reads: oneOf(replication.reads, REPLICA_READS, 'replication.reads', DEFAULTS.replication.reads),
    },
    warmup: {
      durationMs: integer(warmup.durationMs, 'warmup.durationMs', DEFAULTS.warmup.durationMs, 0, 24 * HOUR_MS),
      ttlSeconds: integer(warmup.ttlSeconds, 'warmup.ttlSeconds', DEFAULTS.warmup.ttlSeconds, 1, MAX_TTL_SECONDS),
    },
    // Absent means no tier at all: a layer that is not configured is not in the chain.
    local: merged.local === undefined ? undefined : {
      maxEntries: integer(local.maxEntries, 'local.maxEntries', DEFAULTS.local.maxEntries, 1, MAX_LOCAL_ENTRIES),
      maxBytes: integer(local.maxBytes, 'local.maxBytes', DEFAULTS.local.maxBytes, 1024, Number.MAX_SAFE_INTEGER),
      ttlMs: integer(local.ttlMs, 'local.ttlMs', DEFAULTS.local.ttlMs, 1, 24 * HOUR_MS),
      graceMs: integer(local.graceMs, 'local.graceMs', DEFAULTS.local.graceMs, 0, 24 * HOUR_MS),
      heartbeatMs: integer(local.heartbeatMs, 'local.heartbeatMs', DEFAULTS.local.heartbeatMs, 10, 60_000),
    },
    namespaceVersionCacheMs: integer(merged.namespaceVersionCacheMs, 'namespaceVersionCacheMs', DEFAULTS.namespaceVersionCacheMs, 0, HOUR_MS),
    defaultTtlSeconds: integer(merged.defaultTtlSeconds, 'defaultTtlSeconds', DEFAULTS.defaultTtlSeconds, 0, MAX_TTL_SECONDS),
    maxValueBytes: integer(merged.maxValueBytes, 'maxValueBytes', DEFAULTS.maxValueBytes, 1, 512 * 1024 * 1024),
    codec: codec(merged.codec),
    tls: resolveTls(merged.tls, 'tls') || undefined,
    auth: resolveAuth(merged.auth, 'auth'),
  };
}

function group<G extends GroupName>(merged: Raw, name: G): RawGroup<G> {
  const value = merged[name];
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError(name, `expected an object, got ${describe(value)}`);
  }
  rejectUnknown(value as Raw, GROUPS[name], `${name}.`);
  return value as RawGroup<G>;
}

/**
 * Required, with no default: nodes that look like server addresses must never
 * silently become in-process LRUs because the backend was left out.
 */
function backend(value: unknown): BackendKind {
  if (value === undefined) {
    throw new ConfigError(
      'backend',
      "required, there is no default: choose 'redis' or 'memcached' for the servers listed in nodes, or 'memory' for in-process nodes (nothing is dialled; the node addresses only name them); SHARDCACHE_BACKEND sets it from the environment",
    );
  }
  return oneOf(value, BACKENDS, 'backend');
}

function rejectUnknown(object: Raw, known: readonly string[], prefix: string): void {
  for (const key of Object.keys(object)) {
    if (!known.includes(key)) {
      throw new ConfigError(`${prefix}${key}`, `unknown option; expected one of ${known.join(', ')}`);
    }
  }
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[], option: string, fallback?: T): T {
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  throw new ConfigError(option, `expected one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${describe(value)}`);
}

function integer(value: unknown, option: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(option, `expected an integer from ${min} to ${max}, got ${describe(value)}`);
  }
  return value;
}

function fraction(value: unknown, option: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1) {
    throw new ConfigError(option, `expected a number from 0 to 1, got ${describe(value)}`);
  }
  return value;
}

function hashTag(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || [...value].length !== 2 || value[0] === value[1]) {
    throw new ConfigError('ring.hashTag', `expected two different characters such as '{}', got ${describe(value)}`);
  }
  return value;
}

/** Copies beyond the node count would be the same node twice. */
function copies(value: unknown, nodeCount: number): number {
  const copies = integer(value, 'replication.copies', DEFAULTS.replication.copies, 1, MAX_COPIES);
  if (copies > nodeCount) throw new ConfigError('replication.copies', `${copies} copies need at least ${copies} nodes; ${nodeCount} configured`);
  return copies;
}

/**
 * A node list, as `nodes` takes it (and `cache.setNodes`).
 * @throws {ConfigError} naming the first malformed or duplicate node.
 */
export function validateNodes(value: unknown): ResolvedNode[] {
  return nodes(value);
}

function nodes(value: unknown): ResolvedNode[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new ConfigError('nodes', `expected a non-empty array of "host:port[:weight]" or { host, port }, got ${describe(value)}`);
  }
  // Array.from visits holes (map skips them): a sparse list must fail on its hole, not leave one in the ring.
  const parsed = Array.from(value as unknown[], (spec, index) => parseNodeSpec(spec, `nodes[${index}]`));
  const seenAddresses = new Map<string, number>();
  const seenNames = new Map<string, number>();
  parsed.forEach((node, index) => {
    const first = seenAddresses.get(node.address);
    if (first !== undefined) throw new ConfigError(`nodes[${index}]`, `duplicate node ${node.address} (also nodes[${first}])`);
    seenAddresses.set(node.address, index);
    if (node.name !== undefined) {
      const firstNamed = seenNames.get(node.name);
      if (firstNamed !== undefined) throw new ConfigError(`nodes[${index}].name`, `duplicate name ${JSON.stringify(node.name)} (also nodes[${firstNamed}])`);
      seenNames.set(node.name, index);
    }
  });
  return parsed;
}

/** Anything with prom-client's Registry methods: the caller's prom-client copy may not be this package's. */
function registry(value: unknown): MetricsRegistry | undefined {
  if (value === undefined) return undefined;
  const candidate = value as Partial<Record<'registerMetric' | 'getSingleMetric' | 'removeSingleMetric' | 'metrics', unknown>> | null;
  const methods = ['registerMetric', 'getSingleMetric', 'removeSingleMetric', 'metrics'] as const;
  if (candidate === null || typeof candidate !== 'object' || methods.some((method) => typeof candidate[method] !== 'function')) {
    throw new ConfigError('metrics.registry', `expected a prom-client Registry (new Registry() from 'prom-client'), got ${describe(value)}`);
  }
  return value as MetricsRegistry;
}

function metricPrefix(value: unknown): string {
  if (value === undefined) return DEFAULTS.metrics.prefix;
  if (typeof value !== 'string' || !METRIC_PREFIX.test(value)) {
    throw new ConfigError('metrics.prefix', `expected letters, digits, '_' or ':' not starting with a digit, such as 'shardcache_', got ${describe(value)}`);
  }
  return value;
}

function buckets(value: unknown): readonly number[] {
  if (value === undefined) return DEFAULTS.metrics.buckets;
  const valid =
    Array.isArray(value) &&
    value.length > 0 &&
    value.every((bound, i) => typeof bound === 'number' && Number.isFinite(bound) && bound > 0 && (i === 0 || bound > (value[i - 1] as number)));
  if (!valid) throw new ConfigError('metrics.buckets', `expected a non-empty array of increasing positive numbers of seconds, got ${describe(value)}`);
  return Object.freeze([...(value as number[])]);
}

function codec(value: unknown): CodecName | Codec | undefined {
  if (value === undefined) return undefined;
  if ((CODEC_NAMES as readonly unknown[]).includes(value)) return value as CodecName;
  const candidate = value as Partial<Codec> | null;
  if (candidate === null || typeof candidate !== 'object' || typeof candidate.encode !== 'function' || typeof candidate.decode !== 'function') {
    throw new ConfigError('codec', `expected ${CODEC_NAMES.map((name) => `'${name}'`).join(', ')} or an object with encode(value) and decode(bytes, flags), got ${describe(value)}`);
  }
  return candidate as Codec;
}
