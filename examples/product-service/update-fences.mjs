// The race this guards against (cache-aside's classic one): a reader misses,
// its loader reads product 7 at version 4, an update commits version 5 and
// rewrites the cache entry, then the reader's write-back of version 4 lands
// on top of it. Every later read would serve version 4 until the TTL.
//
// Each update this process commits leaves a fence: the product's committed
// version, kept for `holdMs` (the entry TTL plus the longest load, so no
// stale copy written before the fence can outlive it). A cached or loaded
// product older than its fence is stale: the loader reads again, a read
// that got it from the cache reloads it from the database and rewrites the
// entry. So once an update's response has left this process, no response
// from this process carries an older version.
//
// Limit: a fence is per process. With several service processes, the others
// learn of an update only through the cache entry it rewrote; a write-back
// racing it there is caught only by the TTL. Closing that needs a
// conditional write on the server (Redis script or memcached CAS, comparing
// `version`), which shardcache does not offer yet.

export class UpdateFences {
  /** id -> { version, untilMs }, oldest record first (each record moves its id to the end). */
  #fences = new Map();
  #holdMs;
  #maxEntries;
  #now;
  /** Fences dropped before their hold ran out because `maxEntries` was reached. */
  evicted = 0;

  /**
   * @param {{ holdMs: number, maxEntries?: number, now?: () => number }} options
   */
  constructor({ holdMs, maxEntries = 200_000, now = () => performance.now() }) {
    this.#holdMs = holdMs;
    this.#maxEntries = maxEntries;
    this.#now = now;
  }

  /** After the update committed: `version` is the row's version now. */
  record(id, version) {
    const known = this.#fences.get(id);
    this.#fences.delete(id);
    this.#fences.set(id, { version: Math.max(version, known?.version ?? 0), untilMs: this.#now() + this.#holdMs });
    this.#prune();
  }

  /** Whether a product at `version` is older than an update this process committed. */
  isStale(id, version) {
    const fence = this.#fences.get(id);
    if (fence === undefined) return false;
    if (fence.untilMs <= this.#now()) {
      this.#fences.delete(id);
      return false;
    }
    return version < fence.version;
  }

  get size() {
    return this.#fences.size;
  }

  #prune() {
    const now = this.#now();
    for (const [id, fence] of this.#fences) {
      const full = this.#fences.size > this.#maxEntries;
      if (!full && fence.untilMs > now) break;
      if (full && fence.untilMs > now) this.evicted++;
      this.#fences.delete(id);
    }
  }
}
