/**
 * The public options of `createCache`, their documented defaults, and the
 * resolved shape the rest of the library works with. Units live in names.
 * Validation lives in `validate.ts`; nothing else reads raw options.
 */
import type { ConnectionOptions } from 'node:tls';
import type { Codec, CodecName } from '../codec/codec.js';
import type { Credentials, TlsSettings } from '../secrets.js';

/**
 * What the nodes are: `'redis'` (ioredis), `'memcached'` (memjs, binary
 * protocol), or `'memory'`: in-process LRU nodes, nothing dialled, for demos,
 * tests and single-process use.
 */
export type BackendKind = 'redis' | 'memcached' | 'memory';
/** How keys are placed: `'ketama'` (MD5, cross-client compatible), `'fast'` (the same continuum, xxhash32) or `'maglev'` (a balanced lookup table, xxhash32). */
export type RingAlgorithm = 'ketama' | 'fast' | 'maglev';
/** Whose ketama server naming to reproduce: libmemcached's (pylibmc, PHP Memcached) or twemproxy's. */
export type RingCompat = 'libmemcached' | 'twemproxy';
/** The key hash of the ketama ring: `'md5'` (libmemcached, twemproxy `hash: md5`) or `'fnv1a_64'` (twemproxy's default). */
export type KeyHash = 'md5' | 'fnv1a_64';

/**
 * A cache server: `host:port`, `host:port:weight`, `[v6addr]:port[:weight]`,
 * or an object.
 * @example
 * ['10.0.0.1:11211', '10.0.0.2:11211:2', '[::1]:6379', { host: 'cache-c', port: 11211, weight: 2, name: 'c' }]
 */
export type NodeSpec = string | NodeObject;

/** A cache server as an object. Hosts are kept as written, never resolved: the ring hashes the configured text. */
export interface NodeObject {
  /** Host name or address (IPv6 without brackets or with them). Required. */
  host: string;
  /** TCP port, 1 to 65535. Required. */
  port: number;
  /** Relative share of keys, a whole number from 1 to 2^32-1. @default 1 */
  weight?: number;
  /**
   * Alias hashed onto the ring instead of the address (twemproxy's
   * `host:port:weight name`), so a server can move without moving its keys.
   * Used with `ring.compat: 'twemproxy'`.
   * @default undefined (the address is hashed)
   */
  name?: string;
  /** This node's TLS, instead of the cache-wide `tls`; `false` dials it in plain TCP. @default the cache-wide `tls` */
  tls?: TlsOption;
  /** This node's login, instead of the cache-wide `auth`. @default the cache-wide `auth` */
  auth?: AuthOptions;
}

/**
 * `tls`: `true` dials every node over TLS with Node's defaults (system CAs,
 * host name checked); an object is handed to `tls.connect` (`ca`, `cert`,
 * `key`, `servername`, `rejectUnauthorized`, `minVersion`...).
 * @example
 * { tls: { ca: readFileSync('/etc/cache/ca.pem') } }
 */
export type TlsOption = boolean | ConnectionOptions;

/**
 * `auth`: the login every node is sent. Redis: an ACL user (`AUTH username
 * password`), or the password alone (legacy `AUTH password`, user `default`).
 * Memcached: SASL PLAIN (memcached `-S`), which needs `username`. The
 * password never appears in an error, event, log line, report or metric.
 * @example
 * { auth: { username: 'app', password: process.env.CACHE_PASSWORD } }
 */
export interface AuthOptions {
  /** ACL (Redis 6+) or SASL user. @default undefined (Redis: the password alone, for user `default`) */
  username?: string;
  /** The password. Required. */
  password: string;
}

/** `ring`: how keys are placed on the nodes. */
export interface RingOptions {
  /**
   * `ketama`: MD5 points, placement identical to libmemcached's weighted ketama
   * and twemproxy. `fast`: the same weighted continuum hashed with xxhash32,
   * for pools that no other client shares. `maglev`: Maglev hashing (Eisenbud
   * et al., NSDI 2016), each node's share within 1% of its weight's share
   * (a continuum of 160 points is off by 11% to 37%), lookups as fast as
   * `fast`; no other client shares it either.
   * @default 'ketama'
   */
  algorithm?: RingAlgorithm;
  /**
   * How a server is named on the continuum (ketama only). `libmemcached`:
   * `host` on port 11211, else `host:port`; `name` is ignored, as libmemcached
   * has none. `twemproxy`: the node's `name` when given, else the same rule.
   * @default 'libmemcached'
   */
  compat?: RingCompat;
  /**
   * Hash of the key (ketama only). `md5` is libmemcached's and
   * `hash: md5` in twemproxy; `fnv1a_64` is twemproxy's default `hash`.
   * @default 'md5'
   */
  keyHash?: KeyHash;
  /**
   * Two characters, e.g. `'{}'`: only the text between the first opening
   * character and the next closing one is hashed, when that text is not empty.
   * @default undefined (the whole key is hashed)
   */
  hashTag?: string;
  /** Points per server of average weight in `fast` mode. @default 160 */
  pointsPerServer?: number;
  /**
   * Slots of the `maglev` table: a prime from 1,009 to 16,777,213, at least
   * 100 per node. Each node's share is within 1 + nodes / tableSize of its
   * weight's share. Every process sharing a pool must use the same size: a
   * table of another size places keys differently.
   * @default 262147
   */
  tableSize?: number;
}

/** `timeouts`: every deadline runs from the call to the reply. Milliseconds unless the name says otherwise. */
export interface TimeoutOptions {
  /** Deadline of one GET attempt, from the call to the reply. @default 10 */
  getMs?: number;
  /** Immediate retries of a failed GET (and of a failed node's share of an mget), no backoff. @default 1 */
  getRetries?: number;
  /** Deadline of one SET or DELETE. @default 10 */
  setMs?: number;
  /** Deadline of one node's share of an mget/mset (one pipelined round trip). @default 50 */
  batchMs?: number;
  /** Deadline of one connection attempt. @default 5000 */
  connectMs?: number;
  /** Redis: reconnection attempts after a connection is lost or refused, before the client rests until a request or a probe wakes it. @default 2 */
  connectRetries?: number;
  /** Redis: wait between reconnection attempts (a probe does not wait for it). @default 1000 */
  connectBackoffMs?: number;
  /** Deadline of one step of `clear`, `invalidate` and namespace version changes: a flush, one SCAN page and its UNLINK, one counter. @default 5000 */
  adminMs?: number;
}

/** `health`: when a node is ejected, probed and re-admitted, and when `cache.health()` reports `degraded`. */
export interface HealthOptions {
  /** Consecutive failures (timeouts, refusals, resets, protocol errors) that eject a node. @default 2 */
  failureLimit?: number;
  /** How long an ejected node stays out before the first probe. @default 30000 */
  retryTimeoutMs?: number;
  /** Longest wait between probes of a node that keeps failing them (backoff doubles, with jitter). @default 300000 */
  maxRetryTimeoutMs?: number;
  /** Deadline of one probe (a no-op request on a fresh connection). @default 250 */
  probeTimeoutMs?: number;
  /**
   * Largest share of the nodes that may be ejected at once (one node always
   * stays on the ring, even at 1). Past it, failing nodes stay on the ring
   * behind their breakers (fail open), so a network blip cannot pile the
   * whole keyspace onto a few servers. @default 0.5
   */
  maxEjectedFraction?: number;
  /** TTL cap for writes that land on a stand-in while the owner is ejected. @default 60 */
  failoverTtlSeconds?: number;
  /**
   * Keys written or deleted elsewhere while a node was out, remembered per
   * node so they can be deleted from it before it returns. Past this many,
   * the returning node is flushed instead. @default 10000
   */
  returnJournalLimit?: number;
  /**
   * `cache.health()` reports `degraded` when the share of key reads that hit,
   * over the last `hitRateWindowMs`, falls below this. 0 turns the check off.
   * @default 0
   */
  minHitRate?: number;
  /** Key reads the hit-rate window must hold before `minHitRate` is judged (a quiet cache is not degraded). @default 100 */
  minHitRateSamples?: number;
  /** How far back `cache.health()` looks for the hit rate. @default 60000 */
  hitRateWindowMs?: number;
}

/** `breaker`: one opossum circuit breaker per node. An open breaker makes a read a miss at once. */
export interface BreakerOptions {
  /** Failure percentage over the rolling window that opens the breaker. @default 50 */
  errorThresholdPercentage?: number;
  /** Length of the rolling window. @default 10000 */
  rollingCountTimeoutMs?: number;
  /** Time open before one trial request (half-open). @default 30000 */
  resetTimeoutMs?: number;
  /** Requests in the window before the breaker may open. @default 10 */
  volumeThreshold?: number;
}

/** Which copy answers a read: the owner first (`'primary'`), or the copies in turn (`'spread'`). */
export type ReplicaReads = 'primary' | 'spread';

/**
 * `replication`: how many nodes hold each key. The copies of a key are the
 * first `copies` distinct nodes clockwise from its point on the ring, the
 * owner first. Writes and deletes go to every copy; reads go to one and fail
 * over to the next on a failure.
 */
export interface ReplicationOptions {
  /** Nodes holding each key, the owner included, from 1 to 5 (at most the number of nodes). @default 1 */
  copies?: number;
  /**
   * `'primary'`: reads go to the owner, and to the next copy only when it
   * fails. `'spread'`: reads take the copies in turn, so a hot key's reads
   * are shared by every copy.
   * @default 'primary'
   */
  reads?: ReplicaReads;
}

/**
 * `warmup` (mcrouter's WarmUpRoute): for `durationMs` after a node joins
 * (`setNodes`) or returns from ejection, a miss on it reads the key where it
 * lived before (the previous owner, or another copy), answers with that
 * value and adds it to the node without overwriting a newer value.
 */
export interface WarmupOptions {
  /**
   * How long a node warms after it joins or returns; 0 turns warm-up off.
   * Also how long the stand-ins of a returning node keep the copies they took
   * while it was out (its warm-up source), before they are deleted.
   * @default 0
   */
  durationMs?: number;
  /** TTL of the values warm-up adds to a warming node. @default 300 */
  ttlSeconds?: number;
}

/**
 * What shardcache uses of a prom-client `Registry`, written out so that the
 * type declarations need no prom-client (it is an optional peer dependency).
 */
export interface MetricsRegistry {
  registerMetric(metric: unknown): void;
  getSingleMetric(name: string): unknown;
  removeSingleMetric(name: string): void;
  metrics(): Promise<string>;
}

/**
 * `metrics`: Prometheus metrics through prom-client, an optional peer
 * dependency (`npm install prom-client`), loaded only when `registry` is given.
 */
export interface MetricsOptions {
  /**
   * The prom-client `Registry` the metrics are registered on. Without it
   * there are no metrics and prom-client is never loaded. Pass your own
   * registry; the global one only if that is what you want.
   * @default undefined (no metrics)
   */
  registry?: MetricsRegistry;
  /** Prefix of every metric name. @default 'shardcache_' */
  prefix?: string;
  /**
   * Upper bounds, in seconds, of the latency histogram buckets. The default
   * starts at 0.1 ms, fine enough to tell a 10 ms deadline apart from a
   * healthy 0.3 ms reply (prom-client's own default starts at 5 ms).
   * @default [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1]
   */
  buckets?: number[];
}

/** `memory`: the in-process nodes of `backend: 'memory'`. */
export interface MemoryOptions {
  /** Entries kept per in-process node before the least recently used is evicted; at most 1,000,000 (the slots are allocated up front). @default 10000 */
  maxEntriesPerNode?: number;
}

/**
 * `local`: an in-process tier in front of the servers (hot keys answered
 * without a round trip). Absent, there is no local tier at all. On Redis,
 * other processes' writes reach it through server-assisted invalidation
 * (client tracking); on Memcached and in-process nodes `ttlMs` is the bound
 * on how stale it can be for other processes' writes. This process's own
 * writes, deletes, invalidations and clears take effect in it at once.
 */
export interface LocalOptions {
  /** Entries held before the least recently used is evicted (lru-cache allocates about 28 bytes a slot up front). @default 10000 */
  maxEntries?: number;
  /** Bytes held, counted as each value's encoded size plus its key's length, before the least recently used is evicted. @default 67108864 (64 MiB) */
  maxBytes?: number;
  /** Longest life of an entry (also bounded by the TTL this process wrote it with): the staleness bound for other processes' writes where the server cannot push invalidations (Memcached, in-process nodes). @default 1000 */
  ttlMs?: number;
  /** When every node that could answer a read fails, an entry expired less than this long ago is served (a stale hit). 0: nothing stale is ever served. @default 0 */
  graceMs?: number;
  /** Redis: the invalidation connection of each node is pinged this often; a ping unanswered by the next one drops that node's local entries. @default 250 */
  heartbeatMs?: number;
}

/**
 * Options of `createCache`: an object, or the same shape in a JSON file whose
 * path is passed instead. `SHARDCACHE_*` environment variables fill what is
 * left unset. Unknown names are refused.
 * @example
 * const cache = await createCache({
 *   backend: 'memcached',
 *   nodes: ['10.0.0.1:11211', '10.0.0.2:11211:2'],
 *   timeouts: { getMs: 20 },
 * });
 */
export interface ShardcacheOptions {
  /**
   * What the nodes are. Required, with no default (here, in the config file,
   * or `SHARDCACHE_BACKEND`): an address list alone never silently becomes
   * in-process nodes. `'memory'` runs the nodes in this process and dials
   * nothing. Changing only this moves an application between Redis and
   * Memcached.
   */
  backend?: BackendKind;
  /**
   * The servers, at least one. Required (here, in the config file, or
   * `SHARDCACHE_NODES`). With `backend: 'memory'` the addresses only name the
   * in-process nodes.
   */
  nodes?: NodeSpec[];
  /** Key placement. @default {} (each field at its own default) */
  ring?: RingOptions;
  /** Deadlines and connection retries. @default {} (each field at its own default) */
  timeouts?: TimeoutOptions;
  /** Ejection, probes, fail-open and the hit-rate check. @default {} (each field at its own default) */
  health?: HealthOptions;
  /** Each node's circuit breaker. @default {} (each field at its own default) */
  breaker?: BreakerOptions;
  /** In-process nodes (`backend: 'memory'`). @default {} (each field at its own default) */
  memory?: MemoryOptions;
  /** prom-client metrics. @default {} (no metrics) */
  metrics?: MetricsOptions;
  /** Copies of each key, and which copy answers reads. @default {} (one copy: no replication) */
  replication?: ReplicationOptions;
  /** Warm-up of nodes that join or return. @default {} (off) */
  warmup?: WarmupOptions;
  /** The in-process tier in front of the servers. @default undefined (no local tier) */
  local?: LocalOptions;
  /**
   * How long a namespace's version (see `cache.namespace()`) is reused in this
   * process before it is read again from its node: another process's
   * `invalidateNamespace` takes up to this long to be seen here. 0 reads it
   * on every call.
   * @default 1000
   */
  namespaceVersionCacheMs?: number;
  /** TTL applied when `set` is given none; 0 means no expiry. @default 0 */
  defaultTtlSeconds?: number;
  /**
   * Largest encoded value accepted; larger ones are rejected before sending.
   * memcached's default item size is 1 MiB including the key and header.
   * @default 1048000
   */
  maxValueBytes?: number;
  /**
   * How values become what a node stores. `'default'`: on memcached the
   * value's type goes in the item flags (pylibmc's flag values, so Python
   * and PHP services read the values and the reverse); on Redis strings are
   * bare UTF-8 and other values carry a marker no text starts with. Values
   * other clients wrote read back typed where their flags say so, else as a
   * Buffer of their exact bytes. `'raw'`: bare bytes, no types (strings and
   * Buffers as they are, other values as text). `'legacy'`: the marker-byte
   * format of versions before flags. Or a `Codec` of your own, which gets and
   * gives memcached's flags. See README "Sharing a pool with other languages".
   * @default 'default'
   */
  codec?: CodecName | Codec;
  /**
   * TLS for every node (a node object's `tls` overrides it). `SHARDCACHE_TLS`
   * and `SHARDCACHE_TLS_CA_FILE` (and `_CERT_FILE`, `_KEY_FILE`) set it from
   * the environment.
   * @default false (plain TCP)
   */
  tls?: TlsOption;
  /**
   * The login for every node (a node object's `auth`, or a
   * `user:pass@host:port` node string, overrides it).
   * `SHARDCACHE_AUTH_USERNAME` with `SHARDCACHE_AUTH_PASSWORD` or
   * `SHARDCACHE_AUTH_PASSWORD_FILE` set it from the environment.
   * @default undefined (no login)
   */
  auth?: AuthOptions;
}

/** Options after merging and validation: every field present, nodes parsed. */
export interface ResolvedOptions {
  backend: BackendKind;
  nodes: ResolvedNode[];
  ring: Required<Omit<RingOptions, 'hashTag'>> & { hashTag: string | undefined };
  timeouts: Required<TimeoutOptions>;
  health: Required<HealthOptions>;
  breaker: Required<BreakerOptions>;
  memory: Required<MemoryOptions>;
  metrics: { registry: MetricsRegistry | undefined; prefix: string; buckets: readonly number[] };
  replication: Required<ReplicationOptions>;
  warmup: Required<WarmupOptions>;
  /** `undefined`: no local tier. */
  local: Required<LocalOptions> | undefined;
  namespaceVersionCacheMs: number;
  defaultTtlSeconds: number;
  maxValueBytes: number;
  codec: CodecName | Codec | undefined;
  /** Every node's TLS unless the node has its own. */
  tls: TlsSettings | undefined;
  /** Every node's login unless the node has its own. */
  auth: Credentials | undefined;
}

export interface ResolvedNode {
  host: string;
  port: number;
  weight: number;
  name: string | undefined;
  /** `host:port`: how the node is reported (nodeFor, errors, metrics). Never holds credentials. */
  address: string;
  /** The node's own TLS (`false`: plain TCP even when the cache's `tls` is on); `undefined`: the cache's. */
  tls?: TlsSettings | false;
  /** The node's own login; `undefined`: the cache's. */
  auth?: Credentials;
}

/**
 * The documented defaults, one frozen object. Each group is checked against
 * its options type both ways (`satisfies Record<keyof ...>` on the literal:
 * a missing or an extra name is a compile error), and validation takes each
 * group's option names from here, so the names exist once, in the types.
 * `backend` and `nodes` have no default: both are required.
 */
export const DEFAULTS = Object.freeze({
  ring: Object.freeze({
    algorithm: 'ketama' as RingAlgorithm,
    compat: 'libmemcached' as RingCompat,
    keyHash: 'md5' as KeyHash,
    hashTag: undefined as string | undefined,
    pointsPerServer: 160,
    tableSize: 262_147,
  } satisfies Record<keyof RingOptions, unknown>),
  timeouts: Object.freeze({
    getMs: 10,
    getRetries: 1,
    setMs: 10,
    batchMs: 50,
    connectMs: 5000,
    connectRetries: 2,
    connectBackoffMs: 1000,
    adminMs: 5000,
  } satisfies Record<keyof TimeoutOptions, number>),
  health: Object.freeze({
    failureLimit: 2,
    retryTimeoutMs: 30_000,
    maxRetryTimeoutMs: 300_000,
    probeTimeoutMs: 250,
    maxEjectedFraction: 0.5,
    failoverTtlSeconds: 60,
    returnJournalLimit: 10_000,
    minHitRate: 0,
    minHitRateSamples: 100,
    hitRateWindowMs: 60_000,
  } satisfies Record<keyof HealthOptions, number>),
  breaker: Object.freeze({
    errorThresholdPercentage: 50,
    rollingCountTimeoutMs: 10_000,
    resetTimeoutMs: 30_000,
    volumeThreshold: 10,
  } satisfies Record<keyof BreakerOptions, number>),
  memory: Object.freeze({ maxEntriesPerNode: 10_000 } satisfies Record<keyof MemoryOptions, number>),
  metrics: Object.freeze({
    registry: undefined as MetricsRegistry | undefined,
    prefix: 'shardcache_',
    buckets: Object.freeze([0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1]),
  } satisfies Record<keyof MetricsOptions, unknown>),
  replication: Object.freeze({ copies: 1, reads: 'primary' as ReplicaReads } satisfies Record<keyof ReplicationOptions, unknown>),
  warmup: Object.freeze({ durationMs: 0, ttlSeconds: 300 } satisfies Record<keyof WarmupOptions, number>),
  local: Object.freeze({
    maxEntries: 10_000,
    maxBytes: 64 * 1024 * 1024,
    ttlMs: 1000,
    graceMs: 0,
    heartbeatMs: 250,
  } satisfies Record<keyof LocalOptions, number>),
  namespaceVersionCacheMs: 1000,
  defaultTtlSeconds: 0,
  maxValueBytes: 1_048_000,
});
