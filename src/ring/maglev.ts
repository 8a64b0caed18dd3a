/**
 * Maglev hashing (Eisenbud et al., "Maglev: A Fast and Reliable Software
 * Network Load Balancer", NSDI 2016, section 3.4), weighted.
 *
 * A lookup table of M slots (M prime) is filled by letting the servers take
 * turns: each walks its own permutation of the slots (offset + j * skip mod
 * M, from two hashes of its name) and claims the first slot not yet taken. A
 * key's slot is its 32-bit hash scaled to [0, M), so every slot covers an
 * equal share of the hash space and a lookup is one multiply and one read.
 *
 * Balance: server i gets exactly q_i slots, q_i = M * w_i / W apportioned by
 * largest remainder, so its share is off its weight's share by under one
 * slot: max/mean <= 1 + 1 / q_min (1.004 for 1000 equal servers in the
 * default table; measured 1.0033).
 * Weights: a server of quota q_i takes q_i / q_max of a turn per round, so
 * every server reaches its quota at about the same round and each walks the
 * same depth of its permutation (the paper's weighted variant).
 *
 * Consistency: a built table depends only on the set of servers (name,
 * weight), never on their order (turns go in name order), so every process
 * with the same pool computes the same table. A plain rebuild after a
 * change would move 1.3x the ideal share of keys at 100 servers and 6.6x at
 * 1000 (every claim after the change reorders), so `without` and `with`
 * derive the new table from this one instead: only the leaving server's
 * slots, or the slots the joining one takes, change owner (1.00x the
 * ideal). The price: a derived table differs from a fresh build of the new
 * pool on about 1% of slots (6% at 10 servers); see BENCHMARKS.md, issue 16.
 */
import { hash as oneShotHash } from 'node:crypto';
import { apportion } from './apportion.js';

export interface MaglevServer {
  /** The text hashed for the server's permutation. Unique in the pool. */
  readonly name: string;
  readonly weight: number;
}

/**
 * Table size M: a prime, fixed rather than scaled with the pool, because a
 * table of another size places every key differently (a pool grown by one
 * node and rebuilt would move nearly all keys). 262,147 slots keep every
 * node within 1 + N / M of its share: 1.004 at 1000 equal nodes.
 */
export const DEFAULT_TABLE_SIZE = 262_147;
/** 2^-32, exact: scales a 32-bit hash to [0, 1) with a multiply instead of a division. */
const TWO_TO_MINUS_32 = 1 / 4294967296;

export class MaglevTable {
  readonly #servers: readonly MaglevServer[];
  /**
   * Slot -> server index (in the order the servers were given), in the
   * narrowest array that holds the indexes: 256 KB for up to 256 servers,
   * so small pools' tables stay in the CPU's L2 cache.
   */
  readonly #slots: Slots;
  /** M, also kept by an empty table (whose `#slots` is empty) for the servers that join it. */
  readonly #size: number;

  private constructor(servers: readonly MaglevServer[], slots: Slots, size: number) {
    this.#servers = servers;
    this.#slots = slots;
    this.#size = size;
  }

  /** A fresh table for `servers`; the same set gives the same table in any order. */
  static build(servers: readonly MaglevServer[], size = DEFAULT_TABLE_SIZE): MaglevTable {
    if (servers.length === 0) return new MaglevTable(servers, new Uint8Array(0), size);
    const slots = slotsFor(servers.length, size);
    fill(servers, slots, apportion(servers.map((s) => s.weight), size, byName(servers)));
    return new MaglevTable(servers, slots, size);
  }

  get size(): number {
    return this.#size;
  }

  /** Server index owning `hash`; -1 when the table is empty. */
  lookup(hash: number): number {
    const slots = this.#slots;
    if (slots.length === 0) return -1;
    // hash * size < 2^53 and the scale is a power of two: exact, and below size.
    return slots[(hash * slots.length * TWO_TO_MINUS_32) >>> 0]!;
  }

  /**
   * The first `n` distinct servers from `hash`'s slot onward through the
   * table (wrapping), written to `out[0..]` without allocating; answers how
   * many were found (fewer than `n` only when the table has fewer servers).
   * The slots after a key's slot are owned in an order that differs from key
   * to key, so a server's copies spread over all the others.
   */
  distinct(hash: number, n: number, out: Int32Array | number[]): number {
    const slots = this.#slots;
    const size = slots.length;
    if (size === 0) return 0;
    const start = (hash * size * TWO_TO_MINUS_32) >>> 0;
    let found = 0;
    for (let step = 0; step < size && found < n; step++) {
      const at = start + step < size ? start + step : start + step - size;
      const server = slots[at]!;
      let seen = false;
      for (let i = 0; i < found; i++) if (out[i] === server) seen = true;
      if (!seen) out[found++] = server;
    }
    return found;
  }

  /** Share of the hash space each server owns (its slots / M), in the order the servers were given. */
  shares(): number[] {
    return this.slotCounts().map((slots) => (this.#slots.length === 0 ? 0 : slots / this.#slots.length));
  }

  /** Slots held by each server, in the order the servers were given. */
  slotCounts(): number[] {
    const counts = new Array<number>(this.#servers.length).fill(0);
    for (const server of this.#slots) counts[server]!++;
    return counts;
  }

  /**
   * The table without the servers at `removed` (indexes; the survivors keep
   * their order, renumbered). Survivors keep every slot they hold; only the
   * removed servers' slots change hands, shared among the survivors below
   * their new share by how far below they are. So exactly the removed
   * servers' keys move, and balance stays within a slot or two of exact.
   * One pass over the table: this runs on every ejection.
   */
  without(removed: ReadonlySet<number>): MaglevTable {
    const survivors: MaglevServer[] = [];
    const renumbered = new Int32Array(this.#servers.length).fill(-1);
    for (let i = 0; i < this.#servers.length; i++) if (!removed.has(i)) renumbered[i] = survivors.push(this.#servers[i]!) - 1;
    if (survivors.length === this.#servers.length) return this;
    if (survivors.length === 0) return MaglevTable.build([], this.#size);
    const size = this.#size;
    const slots = slotsFor(survivors.length, size);
    const held = new Float64Array(survivors.length);
    let freed = 0;
    for (let slot = 0; slot < size; slot++) {
      const now = renumbered[this.#slots[slot]!]!;
      if (now === -1) {
        freed++;
        continue;
      }
      slots[slot] = now;
      held[now]!++;
    }
    const total = survivors.reduce((sum, s) => sum + s.weight, 0);
    const deficits = survivors.map((s, i) => Math.max(0, (size * s.weight) / total - held[i]!));
    const extra = apportion(deficits, freed, byName(survivors));
    // Freed slots in table order, dealt round the survivors still owed some (name order).
    const owed = byName(survivors).filter((i) => extra[i]! > 0);
    let turn = 0;
    for (let slot = 0; slot < size && owed.length > 0; slot++) {
      if (renumbered[this.#slots[slot]!] !== -1) continue;
      const survivor = owed[turn]!;
      slots[slot] = survivor;
      if (--extra[survivor]! === 0) {
        owed[turn] = owed[owed.length - 1]!;
        owed.pop();
      } else turn++;
      if (turn >= owed.length) turn = 0;
    }
    return new MaglevTable(survivors, slots, size);
  }

  /**
   * The table plus `server` (appended as the last index). It takes its share
   * of slots from the servers holding more than their new share, walking its
   * own permutation; every other slot keeps its owner. So only keys that
   * move onto the new server move.
   */
  with(server: MaglevServer): MaglevTable {
    const servers = [...this.#servers, server];
    if (this.#slots.length === 0) return MaglevTable.build(servers, this.#size);
    const total = servers.reduce((sum, s) => sum + s.weight, 0);
    const held = this.slotCounts();
    const share = apportion(servers.map((s) => s.weight), this.#size, byName(servers)).at(-1)!;
    const surplus = this.#servers.map((s, i) => Math.max(0, held[i]! - (this.#size * s.weight) / total));
    const give = apportion(surplus, share, byName(this.#servers));
    const slots = slotsFor(servers.length, this.#size);
    slots.set(this.#slots);
    const newcomer = this.#servers.length;
    const { offset, skip } = permutation(server.name, this.#size);
    for (let j = 0, slot = offset, claimed = 0; claimed < share && j < this.#size; j++) {
      const owner = slots[slot]!;
      if (give[owner]! > 0) {
        give[owner]!--;
        slots[slot] = newcomer;
        claimed++;
      }
      slot += skip;
      if (slot >= this.#size) slot -= this.#size;
    }
    return new MaglevTable(servers, slots, this.#size);
  }
}

type Slots = Uint8Array | Uint16Array | Uint32Array;

function slotsFor(servers: number, size: number): Slots {
  return servers <= 256 ? new Uint8Array(size) : servers <= 65_536 ? new Uint16Array(size) : new Uint32Array(size);
}

/**
 * Maglev's population loop: servers take turns in name order (so the
 * result does not depend on the configured order), each claiming the next
 * free slot of its permutation, until server i has claimed `quota[i]`. A server of quota q takes q / q_max of a turn per
 * round, so all reach their quota at about the same round.
 */
function fill(servers: readonly MaglevServer[], slots: Slots, quota: readonly number[]): void {
  const size = slots.length;
  const taken = new Uint8Array(size);
  const order = byName(servers);
  const count = order.length;
  // Walk state per turn, in typed arrays: this loop visits every slot at least once.
  const position = new Int32Array(count);
  const skip = new Int32Array(count);
  const claimed = new Float64Array(count);
  const credit = new Float64Array(count);
  const perRound = new Float64Array(count);
  const largest = quota.reduce((max, q) => Math.max(max, q), 0);
  order.forEach((server, turn) => {
    const walk = permutation(servers[server]!.name, size);
    position[turn] = walk.offset;
    skip[turn] = walk.skip;
    perRound[turn] = quota[server]! / largest;
  });
  let left = quota.reduce((sum, q) => sum + q, 0);
  while (left > 0) {
    for (let turn = 0; turn < count; turn++) {
      const server = order[turn]!;
      credit[turn]! += perRound[turn]!;
      while (credit[turn]! >= 1 && claimed[turn]! < quota[server]!) {
        credit[turn]! -= 1;
        // Next free slot of this server's permutation: slot + skip mod size, in int32.
        let slot = position[turn]!;
        while (taken[slot] === 1) {
          slot += skip[turn]!;
          if (slot >= size) slot -= size;
        }
        taken[slot] = 1;
        slots[slot] = server;
        slot += skip[turn]!;
        position[turn] = slot >= size ? slot - size : slot;
        claimed[turn]!++;
        left--;
      }
    }
  }
}

/** A server's walk through the slots: offset + j * skip mod size, a full cycle because size is prime. */
function permutation(name: string, size: number): { offset: number; skip: number } {
  const digest = oneShotHash('md5', name, 'buffer');
  return { offset: digest.readUInt32LE(0) % size, skip: (digest.readUInt32LE(4) % (size - 1)) + 1 };
}

/** Server indexes in name order: turns and ties follow it, so the configured order changes nothing. */
function byName(servers: readonly MaglevServer[]): number[] {
  return servers.map((_, i) => i).sort((a, b) => (servers[a]!.name < servers[b]!.name ? -1 : servers[a]!.name > servers[b]!.name ? 1 : a - b));
}
