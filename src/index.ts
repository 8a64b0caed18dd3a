/** shardcache: client-side sharding for Redis and Memcached. The public surface, and nothing else. */
export { createCache, type CreateCacheContext } from './create-cache.js';
export type { ShardedCache, SetOptions, Loader } from './cache/sharded-cache.js';
export type { Codec } from './codec/codec.js';
export type {
  BackendKind,
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
