/**
 * Routing for a replicated pool (`replication.copies` > 1) or one with
 * warm-up: the `Store` over the pool's nodes that keeps every copy of a key
 * and reads one of them (replica-reads.ts, replica-writes.ts). Copies that
 * missed a write are repaired out of band (stale-copies.ts). Without
 * replication nor warm-up, `Router` serves instead and none of this is in
 * the chain.
 */
import type { StoredValue } from '../backends/backend.js';
import type { ResolvedOptions } from '../config/options.js';
import type { ReplicationCounters } from '../counters.js';
import { valuesOf, type CallOptions, type KeyResult, type Store } from '../store.js';
import type { NodeMembership } from './membership.js';
import { ReplicaReads } from './replica-reads.js';
import { ReplicaWrites } from './replica-writes.js';
import type { StaleCopies } from './stale-copies.js';
import type { Values } from './values.js';
import type { Warmup } from './warmup.js';

export interface ReplicaRouterOptions {
  readonly timeouts: ResolvedOptions['timeouts'];
  readonly reads: ResolvedOptions['replication']['reads'];
  readonly warmupTtlSeconds: number;
  readonly counts: ReplicationCounters['warmup'];
}

export class ReplicaRouter implements Store {
  readonly #values: Values;
  readonly #timeouts: ResolvedOptions['timeouts'];
  readonly #reads: ReplicaReads;
  readonly #writes: ReplicaWrites;

  constructor(membership: NodeMembership, values: Values, stale: StaleCopies, warmup: Warmup | undefined, options: ReplicaRouterOptions) {
    this.#values = values;
    this.#timeouts = options.timeouts;
    this.#reads = new ReplicaReads(membership, values, stale, { timeouts: options.timeouts, spread: options.reads === 'spread', warmup, warmupTtlSeconds: options.warmupTtlSeconds, counts: options.counts });
    this.#writes = new ReplicaWrites(membership, stale, warmup);
  }

  get(key: string, options?: CallOptions): Promise<unknown> {
    return this.#reads.get(key, options, false);
  }

  /** Like `get`, but an entry written by a refresh-ahead load comes back as a `Stamped`, with its expiry and load time. */
  getEntry(key: string, options?: CallOptions): Promise<unknown> {
    return this.#reads.get(key, options, true);
  }

  getMany(keys: readonly string[], options?: CallOptions): Promise<KeyResult[]> {
    return this.#reads.getMany(keys, options);
  }

  getValues(keys: readonly string[], options?: CallOptions): Promise<unknown[]> {
    return this.#reads.getMany(keys, options).then(valuesOf);
  }

  async set(key: string, value: unknown, ttlSeconds: number, options?: CallOptions): Promise<void> {
    const stored = this.#values.encode(value);
    await this.#writes.one('set', key, ttlSeconds, options?.deadlineMs ?? this.#timeouts.setMs, (backend, ttl) => backend.set(key, stored, ttl));
  }

  async setMany(entries: readonly (readonly [string, unknown])[], ttlSeconds: number, options?: CallOptions): Promise<void> {
    // Every value encoded before anything is sent; a key given twice keeps its last value.
    const encoded = new Map<string, StoredValue>();
    for (const [key, value] of entries) encoded.set(key, this.#values.encode(value));
    await this.#writes.many('setMany', [...encoded.keys()], ttlSeconds, options?.deadlineMs ?? this.#timeouts.batchMs, (backend, keys, ttl) =>
      backend.setMany(
        keys.map((key) => [key, encoded.get(key)!] as const),
        ttl,
      ),
    );
  }

  async del(key: string, options?: CallOptions): Promise<boolean> {
    const existed = await this.#writes.one('del', key, 0, options?.deadlineMs ?? this.#timeouts.setMs, (backend) => backend.del(key));
    return existed.includes(true);
  }

  async delMany(keys: readonly string[], options?: CallOptions): Promise<void> {
    await this.#writes.many('delMany', [...new Set(keys)], 0, options?.deadlineMs ?? this.#timeouts.batchMs, (backend, list) => backend.delMany(list));
  }
}
