/**
 * Which nodes are on the ring now. Ejection removes a node's points and
 * keeps everyone else's, so only its keys move, to the next nodes clockwise.
 *
 * - At most floor(maxEjectedFraction * nodes) nodes are out at once, and
 *   never all of them; past that, failing nodes stay on the ring behind
 *   their breakers (fail open, as mcrouter does), so one network blip cannot
 *   pile every key onto a few survivors, and a key always has an owner.
 * - While a node is out, writes and deletes for its keys land on stand-ins
 *   with a TTL capped at `failoverTtlSeconds`, and the keys are journaled
 *   (return-journal.ts); readmission.ts cleans up with them before the node
 *   returns, and the ring changes in the tick of its last check.
 */
import type { HealthOptions } from '../config/options.js';
import type { ShardcacheEmitter } from '../events.js';
import type { Ring } from '../ring/ring.js';
import { debug } from '../debug.js';
import type { Membership, CacheNode } from '../node/node.js';
import { cleanUpForReturn, type ReadmissionContext, type Readmitted, type StandInCopies } from './readmission.js';
import { ReturnJournal } from './return-journal.js';

/** Told in the tick a node returns, with the stand-ins' copies handed over (empty unless kept). */
export type ReadmittedListener = (node: CacheNode, standIns: StandInCopies) => void;

/** Where one copy of a write goes, and the TTL it may keep there. */
export interface CopyRoute {
  readonly node: CacheNode;
  readonly ttlSeconds: number;
}

export class NodeMembership implements Membership {
  #full: Ring<CacheNode>;
  readonly #byAddress: Map<string, CacheNode>;
  readonly #ejected = new Set<string>();
  #maxEjected: number;
  readonly #journal: ReturnJournal;
  readonly #health: Required<HealthOptions>;
  readonly #events: ShardcacheEmitter;
  /** Nodes holding each key (`replication.copies`). */
  readonly copies: number;
  readonly #readmitted: ReadmittedListener[] = [];
  readonly #readmission: ReadmissionContext & { keepStandIns: boolean };
  /** Scratch for `routeCopies`: the ring is synchronous, so one buffer of each serves every call. */
  readonly #servingCopies: CacheNode[] = [];
  readonly #placedCopies: CacheNode[] = [];
  #current: Ring<CacheNode>;

  constructor(ring: Ring<CacheNode>, health: Required<HealthOptions>, events: ShardcacheEmitter, copies = 1) {
    this.#full = ring;
    this.#current = ring;
    this.#byAddress = new Map(ring.members.map((node) => [node.address, node]));
    this.#maxEjected = ejectionLimit(health.maxEjectedFraction, ring.members.length);
    this.#journal = new ReturnJournal(health.returnJournalLimit);
    this.#health = health;
    this.#events = events;
    this.copies = copies;
    this.#readmission = {
      journal: this.#journal,
      probeTimeoutMs: health.probeTimeoutMs,
      keepStandIns: false,
      isEjected: (address) => this.#ejected.has(address),
      member: (address) => this.#byAddress.get(address),
    };
    for (const node of ring.members) node.joinMembership(this);
  }

  /** The ring of every member, out or not: where keys are placed. */
  get placement(): Ring<CacheNode> {
    return this.#full;
  }

  /** The copies of `key` on the serving ring, owner first, written to `out` (no allocation); how many. */
  copiesOf(key: string, out: CacheNode[]): number {
    return this.#current.copiesOf(key, this.copies, out);
  }

  /** Whether `node` is in the pool now (on the ring or out); false once it left it (setNodes). */
  isMember(node: CacheNode): boolean {
    return this.#byAddress.get(node.address) === node;
  }

  /** Whether `node` is on the serving ring now. */
  isServing(node: CacheNode): boolean {
    return !this.#ejected.has(node.address) && this.#byAddress.get(node.address) === node;
  }

  /**
   * Runs `listener` in the tick a node returns to the ring (after its
   * clean-up). With `keepStandIns`, the stand-ins' copies of the keys written
   * while it was out are not deleted but handed to it: the listener owns
   * their deletion (warm-up reads them first).
   */
  onReadmitted(listener: ReadmittedListener, keepStandIns = false): void {
    this.#readmitted.push(listener);
    this.#readmission.keepStandIns ||= keepStandIns;
  }

  /**
   * Where each copy of a write or delete of `key` goes: its copies on the
   * serving ring. A node standing in for an ejected copy (it is not a copy of
   * the key on the full ring) keeps the capped TTL, and the key is journaled
   * for each ejected copy, so it is deleted from that copy before it returns
   * and from the stand-in once it does.
   */
  routeCopies(key: string, ttlSeconds: number): CopyRoute[] {
    const serving = this.#servingCopies;
    const count = this.#current.copiesOf(key, this.copies, serving);
    const routes = new Array<CopyRoute>(count);
    if (this.#ejected.size === 0) {
      for (let i = 0; i < count; i++) routes[i] = { node: serving[i]!, ttlSeconds };
      return routes;
    }
    const placed = this.#placedCopies;
    const placedCount = this.#full.copiesOf(key, this.copies, placed);
    const isPlaced = (node: CacheNode) => {
      for (let j = 0; j < placedCount; j++) if (placed[j] === node) return true;
      return false;
    };
    const cap = this.#health.failoverTtlSeconds;
    const standIns: string[] = [];
    for (let i = 0; i < count; i++) {
      const node = serving[i]!;
      if (isPlaced(node)) routes[i] = { node, ttlSeconds };
      else {
        routes[i] = { node, ttlSeconds: ttlSeconds === 0 ? cap : Math.min(ttlSeconds, cap) };
        standIns.push(node.address);
      }
    }
    for (let i = 0; i < placedCount; i++) {
      const copy = placed[i]!.address;
      if (!this.#ejected.has(copy)) continue;
      if (standIns.length === 0) this.#journal.record(copy, key);
      for (const standIn of standIns) this.#journal.record(copy, key, standIn);
    }
    return routes;
  }

  /** The ring of nodes currently serving. */
  get ring(): Ring<CacheNode> {
    return this.#current;
  }

  get nodes(): readonly CacheNode[] {
    return this.#full.members;
  }

  /**
   * Where a write or delete of `key` goes, and the TTL it may keep. A write
   * for an ejected owner goes to its stand-in with a capped TTL, journaled.
   */
  routeWrite(key: string, ttlSeconds: number): { node: CacheNode; ttlSeconds: number } {
    const node = this.#current.lookup(key)!;
    if (this.#ejected.size === 0) return { node, ttlSeconds };
    const owner = this.#full.lookup(key)!;
    if (owner === node) return { node, ttlSeconds };
    // Not warmable: these writes (namespace counters; the plain router has no warm-up) do not retire warm-up's stand-in copies.
    this.#journal.record(owner.address, key, node.address, false);
    const cap = this.#health.failoverTtlSeconds;
    return { node, ttlSeconds: ttlSeconds === 0 ? cap : Math.min(ttlSeconds, cap) };
  }

  requestEjection(node: CacheNode): boolean {
    if (this.#ejected.has(node.address)) return false;
    if (this.#ejected.size + 1 > this.#maxEjected) {
      this.#events.emit('node:ejection-refused', { node: node.address, ejectedNodes: this.#ejected.size });
      debug('%s kept on the ring behind its breaker: %d node(s) out already (maxEjectedFraction)', node.address, this.#ejected.size);
      return false;
    }
    this.#ejected.add(node.address);
    this.#journal.open(node.address);
    this.#current = this.#full.without(this.#ejected);
    this.#events.emit('node:ejected', { node: node.address, consecutiveFailures: node.consecutiveFailures, ejectedNodes: this.#ejected.size });
    debug('%s ejected after %d consecutive failures (%d node(s) out)', node.address, node.consecutiveFailures, this.#ejected.size);
    return true;
  }

  /**
   * For a node that is out (ejected or being probed): it will be flushed
   * before it returns, so a clear or an invalidation it could not be reached
   * for still holds once it is back. False when the node is on the ring.
   */
  flushOnReturn(node: CacheNode): boolean {
    return this.#ejected.has(node.address) && this.#journal.overflow(node.address);
  }

  /**
   * A live membership change: `placement` (built from the current one, so
   * the nodes that stay keep their points) becomes the ring, and `removed`
   * nodes leave it, with their ejection and journal. Nodes new to the pool
   * join it. The serving ring changes in this tick.
   */
  changeMembers(placement: Ring<CacheNode>, removed: readonly CacheNode[]): void {
    for (const node of removed) {
      this.#ejected.delete(node.address);
      this.#journal.close(node.address);
      this.#byAddress.delete(node.address);
    }
    for (const node of placement.members) {
      if (this.#byAddress.get(node.address) === node) continue;
      this.#byAddress.set(node.address, node);
      node.joinMembership(this);
    }
    this.#full = placement;
    this.#maxEjected = ejectionLimit(this.#health.maxEjectedFraction, placement.members.length);
    this.#current = this.#full.without(this.#ejected);
  }

  /**
   * Cleans up after `node`'s absence (readmission.ts) and puts it back on
   * the ring, in the tick of the clean-up's last check.
   */
  readmit(node: CacheNode): Promise<Readmitted> {
    this.#assertMember(node);
    return cleanUpForReturn(node, this.#readmission, (standIns) => {
      this.#journal.close(node.address);
      this.#ejected.delete(node.address);
      this.#current = this.#full.without(this.#ejected);
      for (const listener of this.#readmitted) listener(node, standIns);
    });
  }

  /** A node that left the pool (setNodes) while it was being probed must not return. */
  #assertMember(node: CacheNode): void {
    if (!this.isMember(node)) throw new Error(`${node.address} left the pool`);
  }
}

/**
 * How many nodes may be out at once: the configured share, but one node
 * always stays on the ring (even at `maxEjectedFraction: 1`), so every key
 * has an owner and a pool that is all down fails typed, behind breakers.
 */
function ejectionLimit(maxEjectedFraction: number, nodes: number): number {
  return Math.min(Math.floor(maxEjectedFraction * nodes), nodes - 1);
}
