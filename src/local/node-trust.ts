/**
 * Which nodes' answers the local tier may keep, and what it must forget
 * when that changes:
 * - Where servers push invalidations (Redis), a node's answers are kept
 *   only while its tracking is established; losing it drops (or, with
 *   `graceMs`, demotes to stale) what the node supplied, and reads out at
 *   either change are not kept.
 * - A ring change (a node ejected, re-admitted, added or removed): nodes
 *   that left take their entries with them; a node that joined takes keys
 *   from every other node, so nothing is trusted fresh after it. Seen by
 *   comparing the membership's ring with the last one seen, so any change
 *   of membership is caught, whoever made it, before the next answer.
 */
import type { LocalCounters } from '../counters.js';
import type { Clock } from '../node/clock.js';
import type { CacheNode } from '../node/node.js';
import type { Ring } from '../ring/ring.js';
import type { LocalEntries } from './entries.js';
import type { TrackingListener } from './redis-tracking.js';

export class NodeTrust {
  readonly #membership: { readonly ring: Ring<CacheNode> };
  readonly #entries: LocalEntries<CacheNode>;
  readonly #clock: Clock;
  readonly #counts: LocalCounters;
  readonly #graceMs: number;
  /** Nodes whose answers are not kept: their invalidations would not reach us. */
  readonly #untracked = new Set<CacheNode>();
  #ring: Ring<CacheNode>;

  constructor(membership: { readonly ring: Ring<CacheNode> }, entries: LocalEntries<CacheNode>, clock: Clock, counts: LocalCounters, graceMs: number) {
    this.#membership = membership;
    this.#entries = entries;
    this.#clock = clock;
    this.#counts = counts;
    this.#graceMs = graceMs;
    this.#ring = membership.ring;
  }

  /** Applies a ring change, if there was one, before anything is answered from the tier. */
  check(): void {
    if (this.#membership.ring !== this.#ring) this.#ringChanged();
  }

  /** The node that owns `key` now, when its answers may be kept; `undefined` otherwise. */
  keeper(key: string): CacheNode | undefined {
    this.check();
    const node = this.#ring.lookup(key)!;
    return this.#untracked.has(node) ? undefined : node;
  }

  /** Nodes whose answers are not kept until their listener hears `tracked()` (Redis, before client tracking is set up). */
  requireTracking(nodes: readonly CacheNode[]): void {
    for (const node of nodes) this.#untracked.add(node);
    this.#syncUntracked();
  }

  /** What the invalidation stream of `node` reports to. */
  listener(node: CacheNode): TrackingListener {
    return {
      tracked: () => {
        this.#untracked.delete(node);
        this.#syncUntracked();
        // A read out now may have been sent before tracking was on: the server does not know we hold its key.
        this.#entries.spoilReads();
      },
      untracked: () => {
        this.#untracked.add(node);
        this.#syncUntracked();
        this.#entries.demote((from) => from === node, this.#clock.now(), this.#graceMs);
      },
      invalidated: (keys) => {
        this.#counts.invalidations += keys.length;
        for (const key of keys) this.#entries.invalidate(key);
      },
      flushed: () => {
        this.#counts.invalidations++;
        this.#entries.dropFrom((from) => from === node);
      },
    };
  }

  #ringChanged(): void {
    const before = new Set(this.#ring.members);
    const ring = this.#membership.ring;
    const after = new Set(ring.members);
    this.#ring = ring;
    const joined = ring.members.some((node) => !before.has(node));
    this.#entries.demote((node) => joined || !after.has(node), this.#clock.now(), this.#graceMs);
  }

  #syncUntracked(): void {
    this.#counts.untrackedNodes = [...this.#untracked].map((node) => node.address).sort();
  }
}
