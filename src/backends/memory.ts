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
import type { Backend, BackendNode, KeyRules } from './backend.js';

export const MEMORY_KEY_RULES: KeyRules = { maxKeyBytes: 64 * 1024, forbidSpaceAndControl: false };

export interface MemoryBackendOptions {
  readonly maxEntries: number;
}

export class MemoryBackend implements Backend {
  readonly address: string;
  readonly #entries: LRUCache<string, Buffer>;
  #paused: { promise: Promise<void>; release: () => void } | undefined;

  constructor(node: BackendNode, options: MemoryBackendOptions) {
    this.address = node.address;
    this.#entries = new LRUCache<string, Buffer>({ max: options.maxEntries, ttlAutopurge: false });
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

  async get(key: string): Promise<Buffer | undefined> {
    await this.#answering();
    return this.#entries.get(key);
  }

  async getMany(keys: readonly string[]): Promise<(Buffer | undefined)[]> {
    await this.#answering();
    return keys.map((key) => this.#entries.get(key));
  }

  async set(key: string, value: Buffer, ttlSeconds: number): Promise<void> {
    await this.#answering();
    // Copy: the caller may reuse its buffer, and a server would have copied too.
    this.#entries.set(key, Buffer.from(value), { ttl: ttlSeconds * 1000 });
  }

  async setMany(entries: readonly (readonly [string, Buffer])[], ttlSeconds: number): Promise<void> {
    await this.#answering();
    for (const [key, value] of entries) this.#entries.set(key, Buffer.from(value), { ttl: ttlSeconds * 1000 });
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
