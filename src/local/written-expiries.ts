/**
 * When the servers drop the values this process wrote: an entry read back
 * from them must not outlive the TTL it was written with, and a read does
 * not tell the tier that TTL (memcached's binary protocol cannot; Redis
 * would need a PTTL per read). So the tier notes the expiry of each write
 * it makes (set, mset, the write-back of a load) and caps entries by it.
 *
 * A note only ever shortens an entry, so a note outlived by a delete or by
 * another process's write is harmless; the notes are bounded like the tier.
 * Writes by other processes are not seen here: on Redis their expiry comes
 * as an invalidation, elsewhere `ttlMs` bounds it.
 */
import { LRUCache } from 'lru-cache';

export class WrittenExpiries {
  readonly #expiries: LRUCache<string, number>;

  constructor(maxEntries: number) {
    this.#expiries = new LRUCache<string, number>({ max: maxEntries });
  }

  /**
   * A write of `key` with `ttlSeconds` (0: never expires) sent at `sentAt`.
   * The server takes it no earlier than that, but memcached's clock ticks
   * whole seconds and can cut the first one short: one second less is the
   * latest moment the server's copy is sure to be there.
   */
  note(key: string, ttlSeconds: number, sentAt: number): void {
    if (ttlSeconds > 0) this.#expiries.set(key, sentAt + (ttlSeconds - 1) * 1000);
    else this.#expiries.delete(key);
  }

  /** `freshUntil`, or the noted expiry of `key` when that comes first. */
  cap(key: string, freshUntil: number): number {
    const expiry = this.#expiries.get(key);
    return expiry !== undefined && expiry < freshUntil ? expiry : freshUntil;
  }

  clear(): void {
    this.#expiries.clear();
  }
}
