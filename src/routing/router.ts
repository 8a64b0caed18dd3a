/**
 * Routing: the `Store` over the pool's nodes. Each key goes to the node the
 * membership's ring gives it now; values are encoded on the way out and
 * decoded on the way back, and each key read is tallied on the node that
 * answered it.
 *
 * - Values become bytes and memcached flags by the codec's format for this
 *   backend (codec/codec.ts), and back.
 * - Reads never reject because of the cache. A failed GET (or a node's share
 *   of a batch) is retried at once, `timeouts.getRetries` times, on whichever
 *   node owns the key by then; then it is a failure, answered as a miss and
 *   counted. An undecodable value is a miss, counted as such.
 * - Batches go out as one request per owning node, all nodes in parallel,
 *   and come back in the caller's order; a repeated key is read once.
 * - Writes and deletes follow `membership.routeWrite` (a stand-in, with a
 *   capped TTL, while the owner is out) and reject when their node fails;
 *   batch writes encode every value before anything is sent.
 * - An aborted signal stops retries: nothing more is sent for that caller.
 */
import type { StoredValue } from '../backends/backend.js';
import type { ResolvedOptions } from '../config/options.js';
import { WriteFailedError } from '../errors.js';
import { countsAgainstNode } from '../node/classify.js';
import type { CacheNode } from '../node/node.js';
import type { CallOptions, KeyResult, Store } from '../store.js';
import type { NodeMembership } from './membership.js';
import { scatter, type Batch, type Placement } from './scatter.js';
import type { Values } from './values.js';

type Retry = { keys: string[]; positions: number[] };

/** One key's answer, as `getMany` (a `KeyResult`) or `getValues` (the value alone: no object per key) gives it. */
type AnswerOf<A> = (key: string, status: KeyResult['status'], value: unknown, node: string) => A;
const asResult: AnswerOf<KeyResult> = (key, status, value, node) => ({ key, status, value, node });
const asValue: AnswerOf<unknown> = (_key, _status, value) => value;

export class Router implements Store {
  readonly #membership: NodeMembership;
  readonly #values: Values;
  readonly #timeouts: ResolvedOptions['timeouts'];

  constructor(membership: NodeMembership, values: Values, timeouts: ResolvedOptions['timeouts']) {
    this.#membership = membership;
    this.#values = values;
    this.#timeouts = timeouts;
  }

  // Promise chains rather than async functions: this is the hottest path.
  get(key: string, options?: CallOptions): Promise<unknown> {
    return this.#read(key, 0, options, false);
  }

  /** Like `get`, but an entry written by a refresh-ahead load comes back as a `Stamped`, with its expiry and load time. */
  getEntry(key: string, options?: CallOptions): Promise<unknown> {
    return this.#read(key, 0, options, true);
  }

  #read(key: string, attempt: number, options: CallOptions | undefined, keepStamp: boolean): Promise<unknown> {
    const node = this.#membership.ring.lookup(key)!;
    return node.get(key, options?.deadlineMs).then(
      (stored) => this.#values.answer(stored, node.stats.reads.get, node.address, keepStamp),
      (error: unknown) => {
        if (attempt < this.#timeouts.getRetries && countsAgainstNode(error) && options?.signal?.aborted !== true) return this.#read(key, attempt + 1, options, keepStamp);
        this.#values.failed();
        return undefined;
      },
    );
  }

  getMany(keys: readonly string[], options?: CallOptions): Promise<KeyResult[]> {
    return this.#collect(keys, options, asResult);
  }

  getValues(keys: readonly string[], options?: CallOptions): Promise<unknown[]> {
    return this.#collect(keys, options, asValue);
  }

  /** Reads `keys` into one answer per key, as `answerOf` makes them. */
  #collect<A>(keys: readonly string[], options: CallOptions | undefined, answerOf: AnswerOf<A>): Promise<A[]> {
    const { batches, repeats } = scatter(keys, this.#placement());
    const answers = new Array<A>(keys.length);
    return this.#readBatches(batches, 0, answers, answerOf, options).then(() => {
      for (const { at, sameAs } of repeats) answers[at] = answers[sameAs]!;
      return answers;
    });
  }

  /** By the ring's hash of each key, which also finds repeated keys (scatter.ts); a one-member ring hashes nothing. */
  #placement(): Placement<CacheNode> {
    return this.#membership.ring.hashesKeys ? this.#byHash : this.#byKey;
  }

  readonly #byHash: Placement<CacheNode> = {
    hashOf: (key) => this.#membership.ring.hashKey(key),
    ownerOf: (_key, hash) => this.#membership.ring.lookupHash(hash)!,
  };

  readonly #byKey: Placement<CacheNode> = { ownerOf: (key) => this.#membership.ring.lookup(key)! };

  /** Reads every batch in parallel; keys of failed batches are read again, by their owners by then, while retries remain. */
  #readBatches<A>(batches: Batch<CacheNode>[], attempt: number, answers: A[], answerOf: AnswerOf<A>, options: CallOptions | undefined): Promise<void> {
    const lastAttempt = attempt >= this.#timeouts.getRetries;
    const retry: Retry = { keys: [], positions: [] };
    const reads =
      batches.length === 1
        ? this.#readBatch(batches[0]!, lastAttempt, retry, answers, answerOf, options)
        : Promise.all(batches.map((batch) => this.#readBatch(batch, lastAttempt, retry, answers, answerOf, options)));
    return reads.then(() => {
      if (retry.keys.length === 0) return;
      return this.#readBatches(scatter(retry.keys, this.#placement(), retry.positions).batches, attempt + 1, answers, answerOf, options);
    });
  }

  /** Reads one node's batch into `answers`; on a failure worth retrying, queues its keys in `retry` instead. */
  #readBatch<A>(batch: Batch<CacheNode>, lastAttempt: boolean, retry: Retry, answers: A[], answerOf: AnswerOf<A>, options: CallOptions | undefined): Promise<void> {
    const { keys, positions } = batch;
    const node = batch.node.address;
    const tally = batch.node.stats.reads.getMany;
    return batch.node.call('getMany', options?.deadlineMs ?? this.#timeouts.batchMs, (backend) => backend.getMany(keys)).then(
      (values) => {
        for (let i = 0; i < keys.length; i++) {
          const value = this.#values.answer(values[i], tally, node, false);
          answers[positions[i]!] = answerOf(keys[i]!, value === undefined ? 'miss' : 'hit', value, node);
        }
      },
      (error: unknown) => {
        if (!lastAttempt && countsAgainstNode(error) && options?.signal?.aborted !== true) {
          // One at a time: spreading a batch into push() overflows the stack past about 100,000 keys.
          for (let i = 0; i < keys.length; i++) {
            retry.keys.push(keys[i]!);
            retry.positions.push(positions[i]!);
          }
          return;
        }
        this.#values.failed(keys.length);
        for (let i = 0; i < keys.length; i++) answers[positions[i]!] = answerOf(keys[i]!, 'failed', undefined, node);
      },
    );
  }

  async set(key: string, value: unknown, ttlSeconds: number, options?: CallOptions): Promise<void> {
    const stored = this.#values.encode(value);
    const route = this.#membership.routeWrite(key, ttlSeconds);
    await route.node.call('set', options?.deadlineMs ?? this.#timeouts.setMs, (backend) => backend.set(key, stored, route.ttlSeconds));
  }

  async setMany(entries: readonly (readonly [string, unknown])[], ttlSeconds: number, options?: CallOptions): Promise<void> {
    const encoded = new Map<string, StoredValue>();
    for (const [key, value] of entries) encoded.set(key, this.#values.encode(value));
    // Grouped by node and by TTL: stand-in writes carry the capped TTL.
    const groups = new Map<CacheNode, Map<number, [string, StoredValue][]>>();
    for (const [key, stored] of encoded) {
      const route = this.#membership.routeWrite(key, ttlSeconds);
      let byTtl = groups.get(route.node);
      if (byTtl === undefined) groups.set(route.node, (byTtl = new Map()));
      let list = byTtl.get(route.ttlSeconds);
      if (list === undefined) byTtl.set(route.ttlSeconds, (list = []));
      list.push([key, stored]);
    }
    const deadlineMs = options?.deadlineMs ?? this.#timeouts.batchMs;
    const writes: { node: CacheNode; send: () => Promise<void> }[] = [];
    for (const [node, byTtl] of groups) {
      for (const [ttl, list] of byTtl) writes.push({ node, send: () => node.call('setMany', deadlineMs, (backend) => backend.setMany(list, ttl)) });
    }
    await settleAll('mset', writes);
  }

  async del(key: string, options?: CallOptions): Promise<boolean> {
    const { node } = this.#membership.routeWrite(key, 0);
    return node.call('del', options?.deadlineMs ?? this.#timeouts.setMs, (backend) => backend.del(key));
  }

  async delMany(keys: readonly string[], options?: CallOptions): Promise<void> {
    const byNode = new Map<CacheNode, string[]>();
    for (const key of new Set(keys)) {
      const { node } = this.#membership.routeWrite(key, 0);
      let list = byNode.get(node);
      if (list === undefined) byNode.set(node, (list = []));
      list.push(key);
    }
    const deadlineMs = options?.deadlineMs ?? this.#timeouts.batchMs;
    await settleAll('mdel', [...byNode].map(([node, list]) => ({ node, send: () => node.call('delMany', deadlineMs, (backend) => backend.delMany(list)) })));
  }
}

/**
 * Sends every node's share in parallel and waits for all of them.
 * @throws {WriteFailedError} naming the nodes that failed; the others were written.
 */
async function settleAll(operation: string, writes: readonly { node: CacheNode; send: () => Promise<void> }[]): Promise<void> {
  const outcomes = await Promise.all(writes.map(({ node, send }) => send().then(() => undefined, (error: unknown) => ({ node: node.address, error }))));
  const failures = outcomes.filter((failure) => failure !== undefined);
  if (failures.length > 0) {
    throw new WriteFailedError(`${operation} failed on ${[...new Set(failures.map((f) => f.node))].join(', ')}`, { cause: new AggregateError(failures.map((f) => f.error)) });
  }
}
