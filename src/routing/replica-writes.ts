/**
 * Writes and deletes over copies: each key goes to every copy on the
 * serving ring in parallel (`membership.routeCopies`: a stand-in for an
 * ejected copy keeps a capped TTL, journaled), each request under the
 * call's one deadline, sent at once.
 *
 * - A write succeeds when every copy that could be reached acknowledged it.
 *   A copy that failed (timeout, error, open breaker) is marked stale for
 *   the key (StaleCopies): no read goes to it for that key until it is
 *   repaired. The call rejects only when no copy took the write:
 *   `WriteFailedError` with every copy's error as its cause (with a single
 *   copy, that copy's own error, as without replication).
 * - While nodes take keys over (`setNodes` with warm-up), the nodes that
 *   held a key before are sent a delete with each write or delete of it
 *   (`Warmup.retireFrom`), awaited, so a warm-up fill can never read back a
 *   value older than the write; so are the stand-ins still holding the copy
 *   they took while a returning node was out.
 */
import type { Backend } from '../backends/backend.js';
import { WriteFailedError } from '../errors.js';
import type { CacheNode } from '../node/node.js';
import type { CopyRoute, NodeMembership } from './membership.js';
import type { StaleCopies } from './stale-copies.js';
import type { Warmup } from './warmup.js';

/** One request to one node: the keys it carries, with one TTL. */
interface Share {
  readonly node: CacheNode;
  readonly ttlSeconds: number;
  readonly keys: string[];
}

export class ReplicaWrites {
  readonly #membership: NodeMembership;
  readonly #stale: StaleCopies;
  readonly #warmup: Warmup | undefined;

  constructor(membership: NodeMembership, stale: StaleCopies, warmup: Warmup | undefined) {
    this.#membership = membership;
    this.#stale = stale;
    this.#warmup = warmup;
  }

  /**
   * Sends `send` to every copy of `key` (and a delete to former owners being retired).
   * @returns the answers of the copies that succeeded.
   * @throws the copy's error with a single copy; else {WriteFailedError} when no copy succeeded.
   */
  async one<T>(operation: string, key: string, ttlSeconds: number, deadlineMs: number, send: (backend: Backend, ttlSeconds: number) => Promise<T>): Promise<T[]> {
    const routes = this.#membership.routeCopies(key, ttlSeconds);
    // A node the write goes to anyway (a stand-in again) is not sent a delete racing it.
    const retired = this.#warmup?.active === true ? this.#warmup.retireFrom(key, this.#membership.placement)?.filter((node) => !routes.some((route) => route.node === node)) : undefined;
    const sequence = this.#stale.nextSequence();
    this.#warmup?.writeStarted(key);
    try {
      const copies = routes.map((route) => route.node.call(operation, deadlineMs, (backend) => send(backend, route.ttlSeconds)).then(ok, failed));
      // Sent alongside the copies' requests; awaited before the write is over.
      if (retired !== undefined) await Promise.all(retired.map((node) => this.#retire(node, [key], deadlineMs, sequence)));
      const outcomes = await Promise.all(copies);
      const answers: T[] = [];
      for (let i = 0; i < routes.length; i++) {
        const outcome = outcomes[i]!;
        if (outcome.ok) {
          this.#stale.wrote(routes[i]!.node, key, sequence);
          answers.push(outcome.value);
        } else if (this.#membership.copies > 1) this.#stale.mark(routes[i]!.node, key, sequence);
      }
      if (answers.length === 0) throw failure(operation, routes, outcomes);
      return answers;
    } finally {
      this.#warmup?.writeEnded(key);
    }
  }

  /**
   * Sends every key's copies, one request per node (and TTL), all in parallel.
   * @throws {WriteFailedError} naming the nodes that failed, when some key reached none of its copies.
   */
  async many(operation: string, keys: readonly string[], ttlSeconds: number, deadlineMs: number, send: (backend: Backend, keys: string[], ttlSeconds: number) => Promise<void>): Promise<void> {
    const shares = new Map<CacheNode, Map<number, Share>>();
    const copiesOf = new Map<string, number>();
    const retiring: Share[] = [];
    const warming = this.#warmup?.active === true;
    for (const key of keys) {
      const routes = this.#membership.routeCopies(key, ttlSeconds);
      copiesOf.set(key, routes.length);
      for (const route of routes) shareFor(shares, route).keys.push(key);
      if (!warming) continue;
      for (const node of this.#warmup!.retireFrom(key, this.#membership.placement) ?? []) {
        if (!routes.some((route) => route.node === node)) retiringShare(retiring, node).keys.push(key);
      }
    }
    const sequence = this.#stale.nextSequence();
    for (const key of keys) this.#warmup?.writeStarted(key);
    try {
      const all = [...shares.values()].flatMap((byTtl) => [...byTtl.values()]);
      const sent = all.map((share) => share.node.call(operation, deadlineMs, (backend) => send(backend, share.keys, share.ttlSeconds)).then(ok, failed));
      await Promise.all(retiring.map((share) => this.#retire(share.node, share.keys, deadlineMs, sequence)));
      const outcomes = await Promise.all(sent);
      const failedNodes = new Set<string>();
      const errors: unknown[] = [];
      for (let i = 0; i < all.length; i++) {
        const share = all[i]!;
        const outcome = outcomes[i]!;
        if (outcome.ok) {
          for (const key of share.keys) this.#stale.wrote(share.node, key, sequence);
          continue;
        }
        failedNodes.add(share.node.address);
        errors.push(outcome.error);
        for (const key of share.keys) {
          if (this.#membership.copies > 1) this.#stale.mark(share.node, key, sequence);
          copiesOf.set(key, copiesOf.get(key)! - 1);
        }
      }
      if ([...copiesOf.values()].some((left) => left <= 0)) {
        throw new WriteFailedError(`${operation} failed on ${[...failedNodes].join(', ')}: some keys reached none of their copies`, { cause: new AggregateError(errors) });
      }
    } finally {
      for (const key of keys) this.#warmup?.writeEnded(key);
    }
  }

  /** Deletes `keys` from a node that held them before a change; one that cannot be reached is marked stale for them instead. */
  async #retire(node: CacheNode, keys: string[], deadlineMs: number, sequence: number): Promise<void> {
    // A node that left the pool is closed: nothing of it is read again.
    if (!this.#membership.isMember(node)) return;
    const reached = this.#membership.isServing(node) && (await node.call('delMany', deadlineMs, (backend) => backend.delMany(keys)).then(() => true, () => false));
    for (const key of keys) {
      if (reached) this.#stale.wrote(node, key, sequence);
      else this.#stale.mark(node, key, sequence);
    }
  }
}

type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };
const ok = <T>(value: T): Outcome<T> => ({ ok: true, value });
const failed = (error: unknown): Outcome<never> => ({ ok: false, error });

function failure<T>(operation: string, routes: readonly CopyRoute[], outcomes: readonly Outcome<T>[]): unknown {
  const errors = outcomes.map((outcome) => (outcome.ok ? undefined : outcome.error));
  if (routes.length === 1) return errors[0];
  return new WriteFailedError(`${operation} failed on every copy (${routes.map((route) => route.node.address).join(', ')})`, { cause: new AggregateError(errors) });
}

function shareFor(shares: Map<CacheNode, Map<number, Share>>, route: CopyRoute): Share {
  let byTtl = shares.get(route.node);
  if (byTtl === undefined) shares.set(route.node, (byTtl = new Map()));
  let share = byTtl.get(route.ttlSeconds);
  if (share === undefined) byTtl.set(route.ttlSeconds, (share = { node: route.node, ttlSeconds: route.ttlSeconds, keys: [] }));
  return share;
}

function retiringShare(retiring: Share[], node: CacheNode): Share {
  let share = retiring.find((candidate) => candidate.node === node);
  if (share === undefined) retiring.push((share = { node, ttlSeconds: 0, keys: [] }));
  return share;
}
