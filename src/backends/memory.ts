/**
 * In-process nodes: one bounded LRU per node with per-entry TTL. Used by the
 * embedded demo and by applications that want a local tier; the same
 * conformance suite runs against it as against the servers.
 *
 * A node can be paused (see `shardcache/testing`): like a SIGSTOPped server
 * it accepts requests and answers none until resumed, so demos and tests of
 * applications can exercise deadlines, ejection and fallback without a server.
 */
import { LRUCache } from 'lru-cache';
import { NodeError } from '../errors.js';
import type { Backend, BackendNode, KeyRules, StoredValue } from './backend.js';
import { globMatcher } from './glob.js';

export const MEMORY_KEY_RULES: KeyRules = { maxKeyBytes: 64 * 1024, forbidSpaceAndControl: false };

export interface MemoryBackendOptions {
  readonly maxEntries: number;
}

export class MemoryBackend implements Backend {
  readonly address: string;
  /** Values with their flags, as memcached keeps them. */
  readonly #entries: LRUCache<string, StoredValue>;
  #paused: { promise: Promise<void>; release: () => void } | undefined;

  constructor(node: BackendNode, options: MemoryBackendOptions) {
    this.address = node.address;
    this.#entries = new LRUCache<string, StoredValue>({ max: options.maxEntries, ttlAutopurge: false });
  }

  /** Stops answering: requests wait until `resume()`, as on a SIGSTOPped server. */
  pause(): void {
    if (this.#paused) return;
    let release!: () => void;
    const promise = new Promise<void>((resolve) => (release = resolve));
    this.#paused = { promise, release };
  }

  resume(): void {
    this.#paused?.release();
    this.#paused = undefined;
  }

  async get(key: string): Promise<StoredValue | undefined> {
    await this.#answering();
    return this.#entries.get(key);
  }

  async getMany(keys: readonly string[]): Promise<(StoredValue | undefined)[]> {
    await this.#answering();
    return keys.map((key) => this.#entries.get(key));
  }

  async set(key: string, value: StoredValue, ttlSeconds: number): Promise<void> {
    await this.#answering();
    this.#entries.set(key, copyOf(value), { ttl: ttlSeconds * 1000 });
  }

  async setMany(entries: readonly (readonly [string, StoredValue])[], ttlSeconds: number): Promise<void> {
    await this.#answering();
    for (const [key, value] of entries) this.#entries.set(key, copyOf(value), { ttl: ttlSeconds * 1000 });
  }

  async add(key: string, value: StoredValue, ttlSeconds: number): Promise<boolean> {
    await this.#answering();
    if (this.#entries.has(key)) return false;
    this.#entries.set(key, copyOf(value), { ttl: ttlSeconds * 1000 });
    return true;
  }

  async del(key: string): Promise<boolean> {
    await this.#answering();
    return this.#entries.delete(key);
  }

  async delMany(keys: readonly string[]): Promise<void> {
    await this.#answering();
    for (const key of keys) this.#entries.delete(key);
  }

  async flush(): Promise<void> {
    await this.#answering();
    this.#entries.clear();
  }

  async counter(key: string, delta: number, initial: number, ttlSeconds: number): Promise<number> {
    await this.#answering();
    const stored = this.#entries.get(key);
    if (stored === undefined) {
      this.#entries.set(key, counterValue(initial), { ttl: ttlSeconds * 1000 });
      return initial;
    }
    const text = stored.bytes.toString('latin1');
    if (!/^\d{1,20}$/.test(text)) throw new NodeError(this.address, 'rejected', 'the value is not a counter');
    const value = Number(text) + delta;
    // As memcached's incr: the entry keeps the expiry it had.
    const remainingMs = this.#entries.getRemainingTTL(key);
    this.#entries.set(key, counterValue(value, stored.flags), { ttl: Number.isFinite(remainingMs) ? Math.max(1, remainingMs) : 0 });
    return value;
  }

  /** One pass over every entry, whatever `count` says: the node is in this process, there is no server to spare. */
  async scanDelete(_cursor: string, pattern: string, _count: number): Promise<{ cursor: string; deleted: number }> {
    await this.#answering();
    const matches = globMatcher(pattern);
    const doomed = [...this.#entries.keys()].filter(matches);
    for (const key of doomed) this.#entries.delete(key);
    return { cursor: '0', deleted: doomed.length };
  }

  async ping(): Promise<void> {
    await this.#answering();
  }

  reset(): void {}

  #answering(): Promise<void> | undefined {
    return this.#paused?.promise;
  }

  async connect(): Promise<void> {}

  async close(): Promise<void> {
    this.resume();
    this.#entries.clear();
  }
}

/** Copied: the caller may reuse its buffer, and a server would have copied too. */
function copyOf({ bytes, flags }: StoredValue): StoredValue {
  return { bytes: Buffer.from(bytes), flags };
}

/** Decimal text, as memcached's incr leaves a counter: flags 0 when created, kept when incremented. */
function counterValue(value: number, flags = 0): StoredValue {
  return { bytes: Buffer.from(String(value)), flags };
}
