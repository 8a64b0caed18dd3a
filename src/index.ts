/** shardcache: client-side sharding for Redis and Memcached. The public surface, and nothing else. */
export { createCache, type CreateCacheContext } from './create-cache.js';
export type { ShardedCache } from './cache/sharded-cache.js';
export type { Cache } from './cache/cache.js';
export type { SetOptions, WriteOptions } from './cache/call-options.js';
export type { LoadOptions, RefreshAheadOptions } from './cache/load-options.js';
export type { WrapOptions } from './cache/wrap.js';
export type { TraceContext } from './tracing.js';
export type { BatchLoader, CallOptions, KeyResult, LoadContext, Loader } from './store.js';
export type { CacheNamespace } from './cache/namespace.js';
export type { AdminResult, InvalidateOptions, NodeAdminOutcome } from './cache/invalidation.js';
export type { CacheStats, LocalTierStats, NodeStatsSnapshot, ReplicationStats, RequestCounts } from './observability/cache-stats.js';
export type { CacheHealth, HealthStatus, NodeHealthReport } from './observability/health-report.js';
export type { RecentHitRate } from './observability/hit-rate-window.js';
export type { LatencySummary } from './node/latency-window.js';
export type { ShardcacheEvents, NodeState, BreakerState } from './events.js';
export type { Clock } from './node/clock.js';
export type { Codec, CodecName, EncodedValue } from './codec/codec.js';
export type { NodeChanges } from './routing/pool-change.js';
export type {
  BackendKind,
  BreakerOptions,
  HealthOptions,
  KeyHash,
  LocalOptions,
  MemoryOptions,
  MetricsOptions,
  MetricsRegistry,
  NodeObject,
  NodeSpec,
  ReplicaReads,
  ReplicationOptions,
  RingAlgorithm,
  RingCompat,
  RingOptions,
  ShardcacheOptions,
  TimeoutOptions,
  TlsOption,
  AuthOptions,
  WarmupOptions,
} from './config/options.js';
export {
  AuthError,
  BreakerOpenError,
  ClosedError,
  ConfigError,
  DeadlineError,
  InvalidArgumentError,
  InvalidKeyError,
  InvalidValueError,
  NodeError,
  ShardcacheError,
  TlsError,
  UnsupportedOperationError,
  WriteFailedError,
} from './errors.js';
