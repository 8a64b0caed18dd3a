/**
 * Every error shardcache raises on purpose is a `ShardcacheError` with a stable
 * `code`. Callers branch on `code` (or `instanceof`), never on message text;
 * messages say what to change.
 */
export class ShardcacheError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** An option, a node spec or a config file is invalid. Raised by `createCache`. */
export class ConfigError extends ShardcacheError {
  /** Dotted path of the offending option, e.g. `timeouts.getMs`. */
  readonly option: string;

  constructor(option: string, message: string, options?: { cause?: unknown }) {
    super('SHARDCACHE_CONFIG', `${option}: ${message}`, options);
    this.option = option;
  }
}

/** A key the backend cannot store: empty, too long, or with forbidden bytes. Nothing was sent. */
export class InvalidKeyError extends ShardcacheError {
  constructor(message: string) {
    super('SHARDCACHE_INVALID_KEY', message);
  }
}

/** A value the codec cannot encode, or one larger than the backend accepts. Nothing was sent. */
export class InvalidValueError extends ShardcacheError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('SHARDCACHE_INVALID_VALUE', message, options);
  }
}

/** The cache was used after `close()`. */
export class ClosedError extends ShardcacheError {
  constructor() {
    super('SHARDCACHE_CLOSED', 'the cache is closed; create a new one with createCache()');
  }
}

/** An operation on one node did not answer within its deadline. Counts against the node. */
export class DeadlineError extends ShardcacheError {
  readonly node: string;
  readonly deadlineMs: number;

  constructor(node: string, operation: string, deadlineMs: number) {
    super('SHARDCACHE_DEADLINE', `${operation} on ${node} did not answer within ${deadlineMs} ms`);
    this.node = node;
    this.deadlineMs = deadlineMs;
  }
}

/**
 * A cache node failed (refused, reset, protocol desync, server error). `cause`
 * holds the wire client's error with credentials removed.
 */
export class NodeError extends ShardcacheError {
  readonly node: string;
  /**
   * `unavailable`: no answer (refused, reset, closed, not connected).
   * `protocol`: the reply could not be understood.
   * `server`: the node answered with an error status (out of memory, busy, ...).
   * `rejected`: the node refused this request for its content (value too large,
   * wrong type): the node is healthy.
   */
  readonly reason: 'unavailable' | 'protocol' | 'server' | 'rejected';

  constructor(node: string, reason: NodeError['reason'], message: string, options?: { cause?: unknown }) {
    super('SHARDCACHE_NODE', `${node}: ${message}`, options);
    this.node = node;
    this.reason = reason;
  }
}

/** A write could not be done on any node. Reads never raise this: a failed read is a miss. */
export class WriteFailedError extends ShardcacheError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('SHARDCACHE_WRITE_FAILED', message, options);
  }
}

/** An argument of a cache call is invalid (a negative TTL, a loader that is not a function). */
export class InvalidArgumentError extends ShardcacheError {
  constructor(message: string) {
    super('SHARDCACHE_INVALID_ARGUMENT', message);
  }
}

/** The node's circuit breaker is open: the request was not sent. Reads turn this into a miss. */
export class BreakerOpenError extends ShardcacheError {
  readonly node: string;

  constructor(node: string) {
    super('SHARDCACHE_BREAKER_OPEN', `${node}: circuit breaker is open; the node is not being asked until it half-opens`);
    this.node = node;
  }
}

/** The backend cannot do what was asked (memcached cannot list its keys); the message names the alternative. Nothing was sent. */
export class UnsupportedOperationError extends ShardcacheError {
  constructor(message: string) {
    super('SHARDCACHE_UNSUPPORTED', message);
  }
}
