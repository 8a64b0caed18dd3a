/**
 * `SHARDCACHE_*` environment variables, read once by `createCache` and turned
 * into a partial options object. They only fill in what the caller left unset.
 */
import { ConfigError } from '../errors.js';
import type { ShardcacheOptions } from './options.js';
import { securityOptionsFromEnv } from './security-env.js';

type Setter = (options: Record<string, unknown>, raw: string, variable: string) => void;
/** The names of `T`'s options that a text can hold (a string or number, alone or in a union such as `codec`), from the types: a misspelt name does not compile. */
type Scalar<T> = { [K in keyof T]-?: Extract<NonNullable<T[K]>, string | number> extends never ? never : K & string }[keyof T];
type Groups = Required<Pick<ShardcacheOptions, 'ring' | 'timeouts' | 'health' | 'breaker' | 'memory' | 'metrics' | 'replication' | 'warmup' | 'local'>>;
type Top = Scalar<ShardcacheOptions>;

function number(option: Top): Setter;
function number<G extends keyof Groups>(group: G, key: Scalar<Groups[G]>): Setter;
function number(groupOrOption: string, key?: string): Setter {
  return (options, raw, variable) => {
    const value = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(value)) throw new ConfigError(variable, `expected a number, got ${JSON.stringify(raw)}`);
    assign(options, groupOrOption, key, value);
  };
}

function text(option: Top): Setter;
function text<G extends keyof Groups>(group: G, key: Scalar<Groups[G]>): Setter;
function text(groupOrOption: string, key?: string): Setter {
  return (options, raw) => assign(options, groupOrOption, key, raw);
}

/** Every variable read; README's configuration table lists the same ones (test/unit/config/env-readme.test.ts checks it). */
const ENV_VARIABLES: Readonly<Record<string, Setter>> = {
  SHARDCACHE_BACKEND: text('backend'),
  SHARDCACHE_NODES: (options, raw) => {
    options.nodes = raw.split(/[\s,]+/).filter((part) => part.length > 0);
  },
  SHARDCACHE_RING_ALGORITHM: text('ring', 'algorithm'),
  SHARDCACHE_RING_COMPAT: text('ring', 'compat'),
  SHARDCACHE_RING_KEY_HASH: text('ring', 'keyHash'),
  SHARDCACHE_RING_HASH_TAG: text('ring', 'hashTag'),
  SHARDCACHE_RING_POINTS_PER_SERVER: number('ring', 'pointsPerServer'),
  SHARDCACHE_RING_TABLE_SIZE: number('ring', 'tableSize'),
  SHARDCACHE_TIMEOUT_GET_MS: number('timeouts', 'getMs'),
  SHARDCACHE_TIMEOUT_SET_MS: number('timeouts', 'setMs'),
  SHARDCACHE_TIMEOUT_BATCH_MS: number('timeouts', 'batchMs'),
  SHARDCACHE_TIMEOUT_CONNECT_MS: number('timeouts', 'connectMs'),
  SHARDCACHE_TIMEOUT_GET_RETRIES: number('timeouts', 'getRetries'),
  SHARDCACHE_HEALTH_FAILURE_LIMIT: number('health', 'failureLimit'),
  SHARDCACHE_HEALTH_RETRY_TIMEOUT_MS: number('health', 'retryTimeoutMs'),
  SHARDCACHE_HEALTH_MAX_RETRY_TIMEOUT_MS: number('health', 'maxRetryTimeoutMs'),
  SHARDCACHE_HEALTH_MAX_EJECTED_FRACTION: number('health', 'maxEjectedFraction'),
  SHARDCACHE_HEALTH_FAILOVER_TTL_SECONDS: number('health', 'failoverTtlSeconds'),
  SHARDCACHE_HEALTH_MIN_HIT_RATE: number('health', 'minHitRate'),
  SHARDCACHE_HEALTH_MIN_HIT_RATE_SAMPLES: number('health', 'minHitRateSamples'),
  SHARDCACHE_BREAKER_ERROR_THRESHOLD_PERCENTAGE: number('breaker', 'errorThresholdPercentage'),
  SHARDCACHE_BREAKER_RESET_TIMEOUT_MS: number('breaker', 'resetTimeoutMs'),
  SHARDCACHE_REPLICATION_COPIES: number('replication', 'copies'),
  SHARDCACHE_REPLICATION_READS: text('replication', 'reads'),
  SHARDCACHE_WARMUP_DURATION_MS: number('warmup', 'durationMs'),
  SHARDCACHE_WARMUP_TTL_SECONDS: number('warmup', 'ttlSeconds'),
  SHARDCACHE_LOCAL_MAX_ENTRIES: number('local', 'maxEntries'),
  SHARDCACHE_LOCAL_MAX_BYTES: number('local', 'maxBytes'),
  SHARDCACHE_LOCAL_TTL_MS: number('local', 'ttlMs'),
  SHARDCACHE_LOCAL_GRACE_MS: number('local', 'graceMs'),
  SHARDCACHE_LOCAL_HEARTBEAT_MS: number('local', 'heartbeatMs'),
  SHARDCACHE_NAMESPACE_VERSION_CACHE_MS: number('namespaceVersionCacheMs'),
  SHARDCACHE_DEFAULT_TTL_SECONDS: number('defaultTtlSeconds'),
  SHARDCACHE_MAX_VALUE_BYTES: number('maxValueBytes'),
  SHARDCACHE_CODEC: text('codec'),
};

/** The names of every variable `optionsFromEnv` reads. */
export const ENV_VARIABLE_NAMES: readonly string[] = Object.freeze(Object.keys(ENV_VARIABLES));

export function optionsFromEnv(env: Readonly<Record<string, string | undefined>>): ShardcacheOptions {
  const options: Record<string, unknown> = {};
  for (const [variable, set] of Object.entries(ENV_VARIABLES)) {
    const raw = env[variable];
    if (raw !== undefined && raw !== '') set(options, raw, variable);
  }
  // TLS and login variables read files and hold secrets: their own module (security-env.ts).
  Object.assign(options, securityOptionsFromEnv(env));
  return options as ShardcacheOptions;
}

/** `assign(o, 'backend', undefined, v)` sets `o.backend`; `assign(o, 'ring', 'compat', v)` sets `o.ring.compat`. */
function assign(options: Record<string, unknown>, groupOrOption: string, key: string | undefined, value: unknown): void {
  if (key === undefined) {
    options[groupOrOption] = value;
    return;
  }
  const target = (options[groupOrOption] ??= {}) as Record<string, unknown>;
  target[key] = value;
}
