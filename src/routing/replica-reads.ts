/**
 * Reads over copies. A key is read from one copy on the serving ring: the
 * owner (`reads: 'primary'`) or the copies in turn (`'spread'`), never a
 * copy marked stale for the key. A failure or a timeout fails over to the
 * next copy not asked yet; a miss is an answer, except on a warming node,
 * where the key is read where it lived before (Warmup) and added back.
 * Attempts per key: the copies, or `1 + getRetries` if that is more (the
 * extra ones go to whichever node owns the key by then, as without copies).
 * A key no copy could answer is a failure, answered as a miss and counted.
 */
import { storedValueOf, type ReadValue } from '../backends/backend.js';
import type { ResolvedOptions } from '../config/options.js';
import type { ReplicationCounters } from '../counters.js';
import { debug, describeError } from '../debug.js';
import { isCacheFailure } from '../node/classify.js';
import type { CacheNode } from '../node/node.js';
import type { CallOptions, KeyResult } from '../store.js';
import type { NodeMembership } from './membership.js';
import { scatter, type Batch } from './scatter.js';
import type { StaleCopies } from './stale-copies.js';
import type { Values } from './values.js';
import type { Warmup } from './warmup.js';

export interface ReplicaReadsOptions {
  readonly timeouts: ResolvedOptions['timeouts'];
  readonly spread: boolean;
  readonly warmup: Warmup | undefined;
  /** TTL of the values warm-up adds. */
  readonly warmupTtlSeconds: number;
  /** Warm-up lookups and fills, for stats() and metrics. */
  readonly counts: ReplicationCounters['warmup'];
}

/** Misses on warming nodes, to read where the keys lived before. */
type Cold = { key: string; position: number; node: CacheNode; source: CacheNode }[];

export class ReplicaReads {
  readonly #membership: NodeMembership;
  readonly #values: Values;
  readonly #stale: StaleCopies;
  readonly #options: ReplicaReadsOptions;
  readonly #warmup: Warmup | undefined;
  readonly #attempts: number;
  readonly #copies: CacheNode[] = [];
  #turn = 0;

  constructor(membership: NodeMembership, values: Values, stale: StaleCopies, options: ReplicaReadsOptions) {
    this.#membership = membership;
    this.#values = values;
    this.#stale = stale;
    this.#options = options;
    this.#warmup = options.warmup;
    this.#attempts = Math.max(membership.copies, 1 + options.timeouts.getRetries);
  }

  /** @param keepStamp answer a refresh-ahead entry with its stamp (`getEntry`). */
  get(key: string, options: CallOptions | undefined, keepStamp: boolean): Promise<unknown> {
    const node = this.#pick(key, undefined);
    if (node === undefined) {
      this.#values.failed();
      return Promise.resolve(undefined);
    }
    return this.#readFrom(node, key, undefined, options, keepStamp);
  }

  #readFrom(node: CacheNode, key: string, tried: CacheNode[] | undefined, options: CallOptions | undefined, keepStamp: boolean): Promise<unknown> {
    return node.get(key, options?.deadlineMs).then(
      (stored) =>
        stored === undefined && this.#warmup?.active === true ? this.#warm(node, key, options, keepStamp) : this.#values.answer(stored, node.stats.reads.get, node.address, keepStamp),
      (error: unknown) => {
        const asked = tried ?? [node];
        const next = this.#failover(key, asked, error, options);
        if (next === undefined) {
          this.#values.failed();
          return undefined;
        }
        asked.push(next);
        return this.#readFrom(next, key, asked, options, keepStamp);
      },
    );
  }

  /**
   * The copy to read `key` from now: the first not in `tried` and not stale
   * for it, starting at the owner, or at the next copy in turn when spreading.
   */
  #pick(key: string, tried: readonly CacheNode[] | undefined): CacheNode | undefined {
    const copies = this.#copies;
    const count = this.#membership.copiesOf(key, copies);
    if (count === 0) return undefined;
    const first = this.#options.spread && tried === undefined ? this.#turn++ % count : 0;
    for (let i = 0; i < count; i++) {
      const node = copies[(first + i) % count]!;
      if (tried !== undefined && tried.includes(node)) continue;
      if (!this.#stale.isStale(node, key)) return node;
      this.#stale.skippedRead();
    }
    return undefined;
  }

  /** Where a failed read goes next: a copy not asked yet, else (retries left) the owner by then; undefined to give up. */
  #failover(key: string, tried: readonly CacheNode[], error: unknown, options: CallOptions | undefined): CacheNode | undefined {
    if (!isCacheFailure(error) || options?.signal?.aborted === true || tried.length >= this.#attempts) return undefined;
    return this.#pick(key, tried) ?? this.#pick(key, undefined);
  }

  /** A miss on `node`: read where the key lived before, when it is warming. */
  #warm(node: CacheNode, key: string, options: CallOptions | undefined, keepStamp: boolean): Promise<unknown> {
    const source = this.#warmup!.sourceFor(node, key);
    if (source === undefined) return Promise.resolve(this.#values.answer(undefined, node.stats.reads.get, node.address));
    const started = this.#warmup!.fillStarted();
    this.#options.counts.tried++;
    return source.get(key, options?.deadlineMs).then(
      (stored) => {
        if (stored === undefined) return this.#values.answer(undefined, node.stats.reads.get, node.address);
        this.#options.counts.fromPrevious++;
        this.#fill(node, key, stored, started);
        return this.#values.answer(stored, source.stats.reads.get, source.address, keepStamp);
      },
      () => this.#values.answer(undefined, node.stats.reads.get, node.address),
    );
  }

  /** Adds a warmed value to the warming node, unless a write of the key may have overtaken it; best effort. */
  #fill(node: CacheNode, key: string, read: ReadValue, started: number): void {
    const { counts } = this.#options;
    if (!this.#warmup!.mayAdd(key, started)) {
      counts.raced++;
      return;
    }
    // A read's bytes may be a view into the source's connection buffer: the add keeps its own.
    const stored = storedValueOf(read);
    const copy = { bytes: Buffer.from(stored.bytes), flags: stored.flags };
    node.call('add', this.#options.timeouts.setMs, (backend) => backend.add(key, copy, this.#options.warmupTtlSeconds)).then(
      (added) => {
        if (added) counts.filled++;
        else counts.raced++;
      },
      (error: unknown) => {
        debug('warm-up add on %s failed (%s)', node.address, describeError(error));
      },
    );
  }

  getMany(keys: readonly string[], options?: CallOptions): Promise<KeyResult[]> {
    const results = new Array<KeyResult>(keys.length);
    const { batches, repeats } = scatter(keys, { ownerOf: (key) => this.#pick(key, undefined) ?? null });
    const cold: Cold = [];
    return this.#readBatches(batches, 1, [], results, cold, options)
      .then(() => (cold.length === 0 ? undefined : this.#warmMany(cold, results, options)))
      .then(() => {
        for (const { at, sameAs } of repeats) results[at] = results[sameAs]!;
        return results;
      });
  }

  /** One round: every batch in parallel; keys of failed batches go to their next copies while attempts remain. */
  #readBatches(batches: Batch<CacheNode | null>[], attempt: number, failedNodes: CacheNode[], results: KeyResult[], cold: Cold, options: CallOptions | undefined): Promise<void> {
    const retry = { keys: [] as string[], positions: [] as number[] };
    const last = attempt >= this.#attempts || options?.signal?.aborted === true;
    const warming = this.#warmup?.active === true;
    const reads = batches.map((batch) => {
      const { node, keys, positions } = batch;
      if (node === null) return this.#failUnasked(keys, positions, results);
      return node.call('getMany', options?.deadlineMs ?? this.#options.timeouts.batchMs, (backend) => backend.getMany(keys)).then(
        (values) => {
          for (let i = 0; i < keys.length; i++) {
            const source = warming && values[i] === undefined ? this.#warmup!.sourceFor(node, keys[i]!) : undefined;
            if (source !== undefined) cold.push({ key: keys[i]!, position: positions[i]!, node, source });
            else this.#settle(results, positions[i]!, keys[i]!, this.#values.answer(values[i], node.stats.reads.getMany, node.address), node);
          }
        },
        (error: unknown) => {
          if (last || !isCacheFailure(error)) return this.#fail(keys, positions, node.address, results);
          failedNodes.push(node);
          for (let i = 0; i < keys.length; i++) {
            retry.keys.push(keys[i]!);
            retry.positions.push(positions[i]!);
          }
        },
      );
    });
    return Promise.all(reads).then(() => {
      if (retry.keys.length === 0) return;
      const next = scatter(retry.keys, { ownerOf: (key) => this.#pick(key, failedNodes) ?? this.#pick(key, undefined) ?? null }, retry.positions);
      return this.#readBatches(next.batches, attempt + 1, failedNodes, results, cold, options);
    });
  }

  /** Misses on warming nodes, read from their sources (one batch per source), answered, and added back. */
  #warmMany(cold: Cold, results: KeyResult[], options: CallOptions | undefined): Promise<void> {
    const started = this.#warmup!.fillStarted();
    this.#options.counts.tried += cold.length;
    const bySource = new Map<CacheNode, Cold>();
    for (const entry of cold) {
      const list = bySource.get(entry.source);
      if (list === undefined) bySource.set(entry.source, [entry]);
      else list.push(entry);
    }
    const reads = [...bySource].map(([source, entries]) =>
      source.call('getMany', options?.deadlineMs ?? this.#options.timeouts.batchMs, (backend) => backend.getMany(entries.map((entry) => entry.key))).then(
        (values) => values,
        () => [] as (ReadValue | undefined)[],
      ).then((values) => {
        for (let i = 0; i < entries.length; i++) {
          const { key, position, node } = entries[i]!;
          const stored = values[i];
          if (stored === undefined) {
            this.#settle(results, position, key, this.#values.answer(undefined, node.stats.reads.getMany, node.address), node);
            continue;
          }
          this.#options.counts.fromPrevious++;
          this.#fill(node, key, stored, started);
          this.#settle(results, position, key, this.#values.answer(stored, source.stats.reads.getMany, source.address), source);
        }
      }),
    );
    return Promise.all(reads).then(() => undefined);
  }

  /** Keys no copy may be asked for (each copy missed a write of the key): failed, each reported on its owner. */
  #failUnasked(keys: readonly string[], positions: readonly number[], results: KeyResult[]): void {
    this.#values.failed(keys.length);
    for (let i = 0; i < keys.length; i++) {
      const node = this.#membership.copiesOf(keys[i]!, this.#copies) === 0 ? '' : this.#copies[0]!.address;
      results[positions[i]!] = { key: keys[i]!, status: 'failed', value: undefined, node };
    }
  }

  #settle(results: KeyResult[], position: number, key: string, value: unknown, node: CacheNode): void {
    results[position] = { key, status: value === undefined ? 'miss' : 'hit', value, node: node.address };
  }

  #fail(keys: readonly string[], positions: readonly number[], node: string, results: KeyResult[]): void {
    this.#values.failed(keys.length);
    for (let i = 0; i < keys.length; i++) results[positions[i]!] = { key: keys[i]!, status: 'failed', value: undefined, node };
  }
}
