/**
 * Every error shardcache raises on purpose is a `ShardcacheError` with a stable
 * `code`. Callers branch on `code` (or `instanceof`), never on message text;
 * messages say what to change.
 *
 * `instanceof` holds across copies of this package. An application can end up
 * with two installed copies (a library it uses bundles its own shardcache), and
 * an error made by one copy must still be `instanceof ShardcacheError` of the
 * other. So, as undici does (`lib/core/errors.js`), each class is branded with
 * a registry symbol, `Symbol.for('shardcache.error.<Name>')`, that every
 * instance carries (a non-enumerable property of the class's prototype), and
 * `instanceof` checks the brand instead of the prototype chain. What must stay
 * true: a brand name never changes once published (it is the cross-copy
 * contract), and subclasses are still told apart (a `NodeError` from another
 * copy is `instanceof NodeError` and `instanceof ShardcacheError` here, never
 * `instanceof DeadlineError`). A class that is not branded (an application's
 * own subclass) keeps the ordinary prototype-chain check.
 */

/** Each branded class and its brand. */
const BRANDS = new WeakMap<object, symbol>();

/** Brands `errorClass` as `shardcache.error.<name>`; its instances inherit the brand, and those of its subclasses too. */
function brand(errorClass: { prototype: object }, name: string): void {
  const symbol = Symbol.for(`shardcache.error.${name}`);
  Object.defineProperty(errorClass.prototype, symbol, { value: true });
  BRANDS.set(errorClass, symbol);
}

/**
 * The base of every shardcache error.
 * @example
 * try {
 *   await cache.set(key, value);
 * } catch (error) {
 *   if (error instanceof ShardcacheError && error.code === 'SHARDCACHE_NODE') retryLater(key, value);
 *   else throw error;
 * }
 */
export class ShardcacheError extends Error {
  static {
    brand(this, 'ShardcacheError');
  }

  /** Stable, machine-readable: `SHARDCACHE_CONFIG`, `SHARDCACHE_NODE`... Branch on this, not on the message. */
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }

  /** True for an instance of this class or a subclass, from this copy of shardcache or any other. */
  static override [Symbol.hasInstance]<T>(this: abstract new (...args: never[]) => T, instance: unknown): instance is T {
    const symbol = BRANDS.get(this);
    if (symbol === undefined) return Function.prototype[Symbol.hasInstance].call(this, instance);
    return typeof instance === 'object' && instance !== null && (instance as Record<symbol, unknown>)[symbol] === true;
  }
}

/**
 * An option, a node spec or a config file is invalid. Raised by `createCache`,
 * before anything is connected.
 * @example
 * // ConfigError: timeouts.getMs: expected an integer from 1 to 600000, got "10"
 * error.option; // 'timeouts.getMs'
 */
export class ConfigError extends ShardcacheError {
  static {
    brand(this, 'ConfigError');
  }

  /** Dotted path of the offending option, e.g. `timeouts.getMs`, `nodes[2]`, or the `SHARDCACHE_*` variable. */
  readonly option: string;

  constructor(option: string, message: string, options?: { cause?: unknown }) {
    super('SHARDCACHE_CONFIG', `${option}: ${message}`, options);
    this.option = option;
  }
}

/** A key the backend cannot store: empty, too long, or with forbidden bytes. Nothing was sent. Code `SHARDCACHE_INVALID_KEY`. */
export class InvalidKeyError extends ShardcacheError {
  static {
    brand(this, 'InvalidKeyError');
  }

  constructor(message: string) {
    super('SHARDCACHE_INVALID_KEY', message);
  }
}

/** A value the codec cannot encode, or one larger than the backend accepts. Nothing was sent. Code `SHARDCACHE_INVALID_VALUE`. */
export class InvalidValueError extends ShardcacheError {
  static {
    brand(this, 'InvalidValueError');
  }

  constructor(message: string, options?: { cause?: unknown }) {
    super('SHARDCACHE_INVALID_VALUE', message, options);
  }
}

/** The cache was used after `close()`. Code `SHARDCACHE_CLOSED`. */
export class ClosedError extends ShardcacheError {
  static {
    brand(this, 'ClosedError');
  }

  constructor() {
    super('SHARDCACHE_CLOSED', 'the cache is closed; create a new one with createCache()');
  }
}

/**
 * An operation on one node did not answer within its deadline. Counts against
 * the node. Reads turn it into a miss; writes reject with it. Code `SHARDCACHE_DEADLINE`.
 * @example
 * // DeadlineError: set on 10.0.0.2:11211 did not answer within 10 ms
 * error.node;       // '10.0.0.2:11211'
 * error.deadlineMs; // 10
 */
export class DeadlineError extends ShardcacheError {
  static {
    brand(this, 'DeadlineError');
  }

  /** `host:port` of the node that did not answer. */
  readonly node: string;
  /** The deadline it missed (`timeouts.getMs`, `setMs`, `batchMs`...). */
  readonly deadlineMs: number;

  constructor(node: string, operation: string, deadlineMs: number) {
    super('SHARDCACHE_DEADLINE', `${operation} on ${node} did not answer within ${deadlineMs} ms`);
    this.node = node;
    this.deadlineMs = deadlineMs;
  }
}

/**
 * A cache node failed (refused, reset, protocol desync, server error). `cause`
 * holds the wire client's error with credentials removed. Code `SHARDCACHE_NODE`.
 * @example
 * if (error instanceof NodeError && error.reason === 'rejected') {
 *   // the node is healthy; it refused this value (too large, wrong type)
 * }
 */
export class NodeError extends ShardcacheError {
  static {
    brand(this, 'NodeError');
  }

  /** `host:port` of the node that failed. */
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

/** A write could not be done on any node. Reads never raise this: a failed read is a miss. Code `SHARDCACHE_WRITE_FAILED`. */
export class WriteFailedError extends ShardcacheError {
  static {
    brand(this, 'WriteFailedError');
  }

  constructor(message: string, options?: { cause?: unknown }) {
    super('SHARDCACHE_WRITE_FAILED', message, options);
  }
}

/** An argument of a cache call is invalid (a negative TTL, a loader that is not a function). Code `SHARDCACHE_INVALID_ARGUMENT`. */
export class InvalidArgumentError extends ShardcacheError {
  static {
    brand(this, 'InvalidArgumentError');
  }

  constructor(message: string) {
    super('SHARDCACHE_INVALID_ARGUMENT', message);
  }
}

/** The node's circuit breaker is open: the request was not sent. Reads turn this into a miss. Code `SHARDCACHE_BREAKER_OPEN`. */
export class BreakerOpenError extends ShardcacheError {
  static {
    brand(this, 'BreakerOpenError');
  }

  /** `host:port` of the node whose breaker is open. */
  readonly node: string;

  constructor(node: string) {
    super('SHARDCACHE_BREAKER_OPEN', `${node}: circuit breaker is open; the node is not being asked until it half-opens`);
    this.node = node;
  }
}

/**
 * The backend cannot do what was asked (memcached cannot list its keys); the
 * message names the alternative. Nothing was sent. Code `SHARDCACHE_UNSUPPORTED`.
 * @example
 * // UnsupportedOperationError: memcached cannot list its keys, so it cannot invalidate by pattern:
 * // keep such keys in a namespace (cache.namespace(name)) and call cache.invalidateNamespace(name)
 */
export class UnsupportedOperationError extends ShardcacheError {
  static {
    brand(this, 'UnsupportedOperationError');
  }

  constructor(message: string) {
    super('SHARDCACHE_UNSUPPORTED', message);
  }
}

/**
 * A node refused this client's login: Redis AUTH (an ACL user, or the
 * password alone) or memcached SASL PLAIN. A configuration problem, not an
 * outage: the node is backed off like a dead one, reads are misses, writes
 * reject with this. It names the node and the user, never the secret.
 * Code `SHARDCACHE_AUTH`.
 * @example
 * // AuthError: 10.0.0.1:6379 refused the login of user "app": wrong password, or the user is unknown or disabled
 * error.node;     // '10.0.0.1:6379'
 * error.username; // 'app' (undefined: a password alone, Redis's legacy AUTH)
 * error.reason;   // 'rejected'
 */
export class AuthError extends ShardcacheError {
  static {
    brand(this, 'AuthError');
  }

  /** `host:port` of the node that refused the login. */
  readonly node: string;
  /** The user that was refused; `undefined` for a password alone (Redis legacy AUTH, user `default`). */
  readonly username: string | undefined;
  /**
   * `rejected`: wrong password, or the user is unknown or disabled. Redis
   * (`WRONGPASS`) and memcached SASL (status 0x20) answer these three with one
   * reply, on purpose, so a client cannot tell them apart.
   * `required`: the server asks for a login and none is configured (`auth`).
   */
  readonly reason: 'rejected' | 'required';

  constructor(node: string, username: string | undefined, reason: AuthError['reason'], message: string) {
    super('SHARDCACHE_AUTH', `${node}: ${message}`);
    this.node = node;
    this.username = username;
    this.reason = reason;
  }
}

/**
 * The TLS connection to a node could not be set up. Like `AuthError`, a
 * configuration problem: the node is backed off like a dead one, reads are
 * misses, writes reject with this. Code `SHARDCACHE_TLS`.
 * @example
 * // TlsError: 10.0.0.1:6379: the server's certificate is not trusted (SELF_SIGNED_CERT_IN_CHAIN): give its CA in tls.ca
 */
export class TlsError extends ShardcacheError {
  static {
    brand(this, 'TlsError');
  }

  /** `host:port` of the node. */
  readonly node: string;
  /**
   * `untrusted-certificate`: the certificate chain does not lead to a trusted
   * CA (`tls.ca`), or it expired. `hostname-mismatch`: the certificate is not
   * for this host (`tls.servername`). `handshake-timeout`: the TCP connection
   * opened but TLS did not complete within `timeouts.connectMs` (often a port
   * that does not speak TLS). `handshake-failed`: any other TLS failure (no
   * common protocol version or cipher, a client certificate refused).
   */
  readonly reason: 'untrusted-certificate' | 'hostname-mismatch' | 'handshake-timeout' | 'handshake-failed';

  constructor(node: string, reason: TlsError['reason'], message: string) {
    super('SHARDCACHE_TLS', `${node}: ${message}`);
    this.node = node;
    this.reason = reason;
  }
}
