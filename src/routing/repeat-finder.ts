/**
 * Finds the keys of a list that were listed before, for `scatter` (a key
 * listed twice is fetched once).
 *
 * With a hash of each key that placement computes anyway (the ring's), an
 * open-addressing table of those hashes in typed arrays, reused by every
 * call, does it in a few nanoseconds a key. A `Set` of the keys costs about
 * 30 ns a key on V8 (its growth and the garbage of its tables), about 4% of
 * an `mget` of 1000 keys. Equal keys always have equal hashes; when two
 * different keys share one (a hash tag gives all its keys one hash), the
 * rest of the call falls back to a `Set`. Without hashes, or past
 * MAX_TABLE_SLOTS / 2 keys, it is the `Set` from the start.
 *
 * One instance per module: scatter is synchronous, so calls never overlap.
 */
const MAX_TABLE_SLOTS = 1 << 16;
const NO_KEYS: readonly string[] = [];

export class RepeatFinder {
  /** `stamps[slot] === generation`: the slot is taken in this call. */
  #stamps = new Int32Array(0);
  #hashes = new Int32Array(0);
  /** Index in the list of the key a taken slot holds. */
  #firsts = new Int32Array(0);
  #generation = 0;
  /** 32 - log2(slots): the product's top bits pick the slot. */
  #shift = 32;
  #keys: readonly string[] = NO_KEYS;
  /** In use when the table is not: no hashes, too many keys, or two keys sharing a hash. */
  #seen: Set<string> | undefined;

  /** Starts a call over `keys`; `hashed` says whether `earlier` will be given each key's hash. */
  begin(keys: readonly string[], hashed: boolean): void {
    this.#keys = keys;
    this.#seen = undefined;
    if (!hashed || keys.length * 2 > MAX_TABLE_SLOTS) {
      this.#seen = new Set();
      return;
    }
    let slots = this.#stamps.length;
    if (slots < keys.length * 2) {
      slots = Math.max(64, 2 ** Math.ceil(Math.log2(keys.length * 2)));
      this.#stamps = new Int32Array(slots);
      this.#hashes = new Int32Array(slots);
      this.#firsts = new Int32Array(slots);
      this.#shift = 32 - Math.log2(slots);
      this.#generation = 0;
    }
    // A new generation frees every slot without clearing the arrays.
    if (++this.#generation === 0x7fffffff) {
      this.#stamps.fill(0);
      this.#generation = 1;
    }
  }

  /**
   * The index of the earlier listing of `keys[index]`, or -1 when it is the
   * first. Called once per index, in order.
   * @param hash the key's hash (any value when `begin` was told there are none).
   */
  earlier(index: number, hash: number): number {
    const key = this.#keys[index]!;
    if (this.#seen !== undefined) return this.#earlierBySet(key);
    const mask = this.#stamps.length - 1;
    // Fibonacci hashing: the top bits of the product depend on every bit of the hash.
    let slot = Math.imul(hash, 0x9e3779b1) >>> this.#shift;
    while (this.#stamps[slot] === this.#generation) {
      if (this.#hashes[slot] === (hash | 0)) {
        const first = this.#firsts[slot]!;
        if (this.#keys[first] === key) return first;
        // Two keys, one hash: the table cannot tell them apart cheaply.
        this.#seen = new Set(this.#keys.slice(0, index));
        return this.#earlierBySet(key);
      }
      slot = (slot + 1) & mask;
    }
    this.#stamps[slot] = this.#generation;
    this.#hashes[slot] = hash;
    this.#firsts[slot] = index;
    return -1;
  }

  /** Ends the call: the finder keeps no reference to the caller's keys. */
  end(): void {
    this.#keys = NO_KEYS;
    this.#seen = undefined;
  }

  /** Repeats are rare, so the place of a repeat's first listing is found by a scan. */
  #earlierBySet(key: string): number {
    const seen = this.#seen!;
    const known = seen.size;
    return seen.add(key).size === known ? this.#keys.indexOf(key) : -1;
  }
}
