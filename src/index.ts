/** shardcache: client-side sharding for Redis and Memcached. The public surface, and nothing else. */
export { createCache, type CreateCacheContext } from './create-cache.js';
export type { ShardedCache, SetOptions, Loader, BatchLoader, KeyResult, CacheStats } from './cache/sharded-cache.js';
export type { ShardcacheEvents, NodeState, BreakerState } from './events.js';
export type { Clock } from './health/clock.js';
export type { Codec } from './codec/codec.js';
export type {
  BackendKind,
  BreakerOptions,
  HealthOptions,
  KeyHash,
  MemoryOptions,
  NodeObject,
  NodeSpec,
  RingAlgorithm,
  RingCompat,
  RingOptions,
  ShardcacheOptions,
  TimeoutOptions,
} from './config/options.js';
export {
  BreakerOpenError,
  ClosedError,
  ConfigError,
  DeadlineError,
  InvalidArgumentError,
  InvalidKeyError,
  InvalidValueError,
  NodeError,
  ShardcacheError,
  WriteFailedError,
} from './errors.js';
