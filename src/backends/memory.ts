/**
 * In-process nodes: one bounded LRU per node with per-entry TTL. Used by the
 * embedded demo and by applications that want a local tier; the same
 * conformance suite runs against it as against the servers.
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

  constructor(node: BackendNode, options: MemoryBackendOptions) {
    this.address = node.address;
    this.#entries = new LRUCache<string, Buffer>({ max: options.maxEntries, ttlAutopurge: false });
  }

  async get(key: string): Promise<Buffer | undefined> {
    return this.#entries.get(key);
  }

  async getMany(keys: readonly string[]): Promise<(Buffer | undefined)[]> {
    return keys.map((key) => this.#entries.get(key));
  }

  async set(key: string, value: Buffer, ttlSeconds: number): Promise<void> {
    // Copy: the caller may reuse its buffer, and a server would have copied too.
    this.#entries.set(key, Buffer.from(value), { ttl: ttlSeconds * 1000 });
  }

  async setMany(entries: readonly (readonly [string, Buffer])[], ttlSeconds: number): Promise<void> {
    for (const [key, value] of entries) this.#entries.set(key, Buffer.from(value), { ttl: ttlSeconds * 1000 });
  }

  async del(key: string): Promise<boolean> {
    return this.#entries.delete(key);
  }

  async delMany(keys: readonly string[]): Promise<void> {
    for (const key of keys) this.#entries.delete(key);
  }

  async flush(): Promise<void> {
    this.#entries.clear();
  }

  async ping(): Promise<void> {}

  reset(): void {}

  async connect(): Promise<void> {}

  async close(): Promise<void> {
    this.#entries.clear();
  }
}
