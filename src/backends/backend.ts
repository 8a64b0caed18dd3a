/**
 * The one interface every server type implements. An adapter owns the wire
 * client of ONE node; it knows nothing of rings, deadlines or breakers.
 *
 * Contract:
 * - values are opaque bytes plus memcached's 32-bit flags word (the codec,
 *   routing's business, decides both; Redis has no flags and reads 0);
 * - a miss is `undefined`, never an error;
 * - a failure of the node (refused, reset, protocol error, server error) is
 *   a rejected promise with a `NodeError` whose cause is redacted;
 * - `getMany` answers in one round trip, aligned with its keys;
 * - TTLs are whole seconds, 0 meaning no expiry;
 * - `close()` leaves no socket, timer or listener behind.
 */
/**
 * What a node holds under a key: the bytes, and the flags word memcached
 * keeps beside them for clients to say what the bytes are (pylibmc and PHP
 * Memcached put the value's type there). Redis has no such word: it stores
 * the bytes only and reads back flags 0. `bytes` read from a server may be a
 * view into the connection's buffer: copy what is kept.
 */
export interface StoredValue {
  readonly bytes: Buffer;
  /** An unsigned 32-bit integer. */
  readonly flags: number;
}

/**
 * A value as a read answers it: the bare bytes from a server without a
 * flags word (Redis: no object per value on the read path, which every key
 * of a large batch crosses), or the bytes with their flags.
 */
export type ReadValue = Buffer | StoredValue;

/** A read value with its flags (0 for bare bytes). */
export function storedValueOf(read: ReadValue): StoredValue {
  return read instanceof Uint8Array ? { bytes: read, flags: 0 } : read;
}

export interface Backend {
  /** `host:port` of the node, for errors. */
  readonly address: string;
  get(key: string): Promise<ReadValue | undefined>;
  getMany(keys: readonly string[]): Promise<(ReadValue | undefined)[]>;
  set(key: string, value: StoredValue, ttlSeconds: number): Promise<void>;
  setMany(entries: readonly (readonly [string, StoredValue])[], ttlSeconds: number): Promise<void>;
  /**
   * Stores `value` only when `key` holds nothing (Redis `SET NX`, memcached
   * `add`): true when stored, false when a value was there. Warm-up uses it
   * so that it never overwrites a newer value.
   */
  add(key: string, value: StoredValue, ttlSeconds: number): Promise<boolean>;
  /** True when the key existed. */
  del(key: string): Promise<boolean>;
  /** Deletes every key in one round trip. */
  delMany(keys: readonly string[]): Promise<void>;
  /** Drops every entry on the node (Redis: the selected database). */
  flush(): Promise<void>;
  /**
   * An integer counter, in one atomic step: when `key` is absent it is
   * created holding `initial` (expiring after `ttlSeconds`, 0 = never) and
   * `initial` is the answer; otherwise `delta` (0 to read it) is added and
   * the new value is the answer. Stored as decimal text, as memcached's
   * incr stores it. A value that is not a counter rejects with a `rejected`
   * NodeError.
   */
  counter(key: string, delta: number, initial: number, ttlSeconds: number): Promise<number>;
  /**
   * One step of deleting the keys that match a glob `pattern` (Redis MATCH
   * syntax: `*`, `?`, `[...]`, `\` escapes): from `cursor` (`'0'` to start)
   * it looks at about `count` keys, deletes the matching ones, and answers the
   * next cursor (`'0'` when the pass is complete) and how many it deleted.
   * Absent where the server cannot enumerate its keys (memcached).
   */
  scanDelete?(cursor: string, pattern: string, count: number): Promise<{ cursor: string; deleted: number }>;
  /** Resolves when the node answers a no-op request. */
  ping(): Promise<void>;
  /** Resolves when connected, or rejects when the first connection attempt failed. */
  connect(): Promise<void>;
  /**
   * Drops the current connection (failing whatever is outstanding on it) and
   * connects afresh on next use: a hung server's socket stays open, and
   * requests would otherwise queue behind it.
   */
  reset(): void;
  close(): Promise<void>;
}

/** What keys a server type accepts; checked before anything is sent. */
export interface KeyRules {
  readonly maxKeyBytes: number;
  /** memcached's text protocol (and so every cross-client pool) forbids spaces and control bytes. */
  readonly forbidSpaceAndControl: boolean;
}

export interface BackendNode {
  readonly host: string;
  readonly port: number;
  readonly address: string;
}
