/**
 * A sorted continuum of 32-bit points, each owned by a server index.
 * `lookup(hash)` returns the owner of the first point >= hash, wrapping past
 * the end to the first point (libmemcached and twemproxy use the same rule).
 * Points with equal values keep the order they were added in, so the server
 * given first wins a tie, as in libmemcached.
 *
 * Immutable: removing servers builds a new continuum from the survivors'
 * unchanged points, so no key moves between survivors.
 */
export interface ServerPoints {
  /** Index of the server in the ring's node list. */
  readonly server: number;
  readonly points: Uint32Array;
}

export class Continuum {
  readonly #values: Uint32Array;
  readonly #owners: Uint32Array;

  constructor(servers: readonly ServerPoints[]) {
    let total = 0;
    for (const s of servers) total += s.points.length;
    const values = new Uint32Array(total);
    const owners = new Uint32Array(total);
    const order = new Uint32Array(total);
    let at = 0;
    for (const s of servers) {
      values.set(s.points, at);
      owners.fill(s.server, at, at + s.points.length);
      at += s.points.length;
    }
    for (let i = 0; i < total; i++) order[i] = i;
    // Array.prototype.sort is stable, and ties break on insertion order.
    const sorted = Array.from(order).sort((a, b) => values[a]! - values[b]! || a - b);
    this.#values = new Uint32Array(total);
    this.#owners = new Uint32Array(total);
    for (let i = 0; i < total; i++) {
      const from = sorted[i]!;
      this.#values[i] = values[from]!;
      this.#owners[i] = owners[from]!;
    }
  }

  /** Server index owning `hash`; -1 when the continuum is empty. */
  lookup(hash: number): number {
    const values = this.#values;
    let low = 0;
    let high = values.length;
    if (high === 0) return -1;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (values[middle]! < hash) low = middle + 1;
      else high = middle;
    }
    return this.#owners[low === values.length ? 0 : low]!;
  }
}
