/**
 * `cache.setNodes(nodes)`: a live membership change (add, remove,
 * re-weight) without a restart.
 *
 * - The new placement is built from the current one: nodes that stay keep
 *   their points (`Ring.without` / `Ring.with`), so only the keys the change
 *   moves change owner: onto a node that joins or gains weight, off one
 *   that leaves or loses weight, none between the others.
 * - Nodes that join are connected first (bounded by `timeouts.connectMs`;
 *   one that cannot be reached joins anyway, and its failures eject it as
 *   usual). The ring then changes in one tick.
 * - With warm-up, every node warms for `warmup.durationMs`: a miss on it is
 *   read from the key's copies under the old placement, answered and added.
 * - Nodes that leave get no new request; once their calls in flight have
 *   settled (each is bounded by its deadline) they are closed.
 * - Changes run one at a time, in the order they were asked for.
 */
import type { NodeSpec, ResolvedNode } from '../config/options.js';
import { validateNodes } from '../config/validate.js';
import { debug } from '../debug.js';
import { ConfigError } from '../errors.js';
import type { ShardcacheEmitter } from '../events.js';
import { withDeadline } from '../node/deadline.js';
import type { CacheNode } from '../node/node.js';
import type { NodeMembership } from './membership.js';
import type { StaleCopies } from './stale-copies.js';
import type { Warmup } from './warmup.js';

/** What a `setNodes` call changed, by `host:port`. */
export interface NodeChanges {
  readonly added: string[];
  readonly removed: string[];
  /** Nodes that stayed with another weight (or `name`): their points were placed again. */
  readonly reweighted: string[];
}

export interface PoolChangeDependencies {
  readonly membership: NodeMembership;
  /** The pool as reports and metrics read it: changed in place. */
  readonly pool: CacheNode[];
  /** A new node with its backend, not connected yet. */
  readonly createNode: (node: ResolvedNode) => CacheNode;
  readonly connectMs: number;
  readonly warmup: Warmup | undefined;
  readonly stale: StaleCopies | undefined;
  readonly closed: () => boolean;
  readonly events: ShardcacheEmitter;
  /** Tiers above routing that follow the pool (the local tier's invalidation streams): told of nodes before they join, and after they leave. */
  readonly followers?: { addNodes(nodes: readonly CacheNode[]): Promise<void>; removeNodes(nodes: readonly CacheNode[]): Promise<void> } | undefined;
}

export class PoolChange {
  readonly #dependencies: PoolChangeDependencies;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(dependencies: PoolChangeDependencies) {
    this.#dependencies = dependencies;
  }

  /**
   * @throws {ConfigError} for a malformed, duplicate or empty node list, or fewer nodes than `replication.copies`; nothing changes.
   */
  setNodes(specs: readonly NodeSpec[]): Promise<NodeChanges> {
    const wanted = validateNodes(specs);
    const { copies } = this.#dependencies.membership;
    if (wanted.length < copies) throw new ConfigError('nodes', `replication.copies is ${copies}: setNodes needs at least ${copies} nodes, got ${wanted.length}`);
    const change = this.#queue.then(() => this.#apply(wanted));
    this.#queue = change.catch(() => undefined);
    return change;
  }

  async #apply(wanted: readonly ResolvedNode[]): Promise<NodeChanges> {
    const { membership, pool, createNode, connectMs, warmup, stale, closed, events, followers } = this.#dependencies;
    const current = new Map(membership.placement.members.map((node) => [node.address, node]));
    const wantedAddresses = new Set(wanted.map((node) => node.address));
    const removed = [...current.values()].filter((node) => !wantedAddresses.has(node.address));
    const reweighted = wanted.filter((spec) => {
      const node = current.get(spec.address);
      return node !== undefined && (node.weight !== spec.weight || node.name !== spec.name);
    });
    const toAdd = wanted.filter((spec) => !current.has(spec.address));
    // The same pool again (a reload of an unchanged file): nothing moves, nothing warms.
    if (removed.length === 0 && reweighted.length === 0 && toAdd.length === 0) return { added: [], removed: [], reweighted: [] };
    const added = toAdd.map(createNode);
    await Promise.allSettled(added.map((node) => withDeadline(node.backend.connect(), connectMs, node.address, 'connect')));
    await followers?.addNodes(added);
    if (closed()) {
      await followers?.removeNodes(added);
      await closeNodes(added);
      return { added: [], removed: [], reweighted: [] };
    }
    const previous = membership.placement;
    let placement = previous.without(new Set([...removed, ...reweighted].map((node) => node.address)));
    for (const spec of reweighted) {
      const node = current.get(spec.address)!;
      node.weight = spec.weight;
      node.name = spec.name;
      placement = placement.with(node);
    }
    for (const node of added) placement = placement.with(node);
    // One tick: the ring, the pool the reports read, and the warm-up window.
    membership.changeMembers(placement, removed);
    pool.splice(0, pool.length, ...placement.members);
    warmup?.open(placement.members, previous, true);
    for (const node of removed) stale?.forget(node);
    const changes = { added: added.map((node) => node.address), removed: removed.map((node) => node.address), reweighted: reweighted.map((node) => node.address) };
    events.emit('nodes:changed', { ...changes, nodes: pool.length });
    debug('nodes changed: %d added, %d removed, %d re-weighted; %d in the pool', changes.added.length, changes.removed.length, changes.reweighted.length, pool.length);
    await followers?.removeNodes(removed);
    await closeNodes(removed);
    return changes;
  }
}

/** Stops probes and breakers at once, waits for calls in flight, then closes the connections. */
async function closeNodes(nodes: readonly CacheNode[]): Promise<void> {
  for (const node of nodes) node.close();
  await Promise.all(nodes.map(async (node) => {
    await node.drained();
    await node.backend.close();
  }));
}
