// Products through the cache: what the HTTP routes call.
//
//   product(id)       cache.getOrLoad: a miss (or a cache failure) reads one row
//   products(ids)     cache.mgetOrLoad: the misses in ONE `WHERE id = ANY($1)` query
//   update(id, ...)   UPDATE ... version = version + 1, then rewrite the cache entry
//
// Concurrent first reads of one product share one database query (the
// cache's single-flight). Updates rewrite the entry rather than delete it, so
// the next read is still a hit; an update's fence (update-fences.mjs) keeps
// any older copy from being served afterwards, however it got into the cache.
// A cache that hangs or fails never fails a request: reads fall back to the
// database, and a failed rewrite is counted, its fence still standing.
//
// Without a cache (`cache: undefined`) every read goes to the database: the
// baseline the end-to-end benchmark compares against.

const keyOf = (id) => `product:${id}`;
const idOf = (key) => Number(key.slice('product:'.length));

/**
 * @param {{
 *   cache?: import('shardcache').Cache,
 *   db: ReturnType<typeof import('./products-db.mjs').createProductsDb>,
 *   fences: import('./update-fences.mjs').UpdateFences,
 *   ttlSeconds: number,
 * }} options
 */
export function createCatalog({ cache, db, fences, ttlSeconds }) {
  const counts = { staleReloaded: 0, cacheWriteFailures: 0 };
  const ttl = { ttl: ttlSeconds };

  /** The loader: a row read before an update this process committed is read again (at most twice). */
  async function load(id) {
    let row = await db.byId(id);
    for (let retry = 0; retry < 2 && row !== undefined && fences.isStale(id, row.version); retry++) row = await db.byId(id);
    return row;
  }

  async function loadMany(ids) {
    const rows = await db.byIds(ids);
    const stale = ids.filter((id) => rows.has(id) && fences.isStale(id, rows.get(id).version));
    if (stale.length > 0) for (const [id, row] of await db.byIds(stale)) rows.set(id, row);
    return rows;
  }

  /** A stale copy came out of the cache: answer from the database and put the fresh row back. */
  function rewrite(row) {
    cache.set(keyOf(row.id), row, ttl).catch(() => counts.cacheWriteFailures++);
  }

  return {
    counts,

    /** @param {number} id */
    async product(id) {
      if (cache === undefined) return db.byId(id);
      const row = await cache.getOrLoad(keyOf(id), () => load(id), ttl);
      if (row === undefined || !fences.isStale(id, row.version)) return row;
      counts.staleReloaded++;
      const fresh = await load(id);
      if (fresh !== undefined) rewrite(fresh);
      return fresh;
    },

    /**
     * @param {readonly number[]} ids in the caller's order, repeats allowed
     * @returns {Promise<(import('./products-db.mjs').Product | undefined)[]>}
     */
    async products(ids) {
      if (cache === undefined) {
        const rows = await db.byIds([...new Set(ids)]);
        return ids.map((id) => rows.get(id));
      }
      const rows = await cache.mgetOrLoad(
        ids.map(keyOf),
        async (missing) => {
          const loaded = await loadMany(missing.map(idOf));
          return missing.map((key) => loaded.get(idOf(key)));
        },
        ttl,
      );
      const stale = [...new Set(ids.filter((id, i) => rows[i] !== undefined && fences.isStale(id, rows[i].version)))];
      if (stale.length === 0) return rows;
      counts.staleReloaded += stale.length;
      const fresh = await loadMany(stale);
      for (const row of fresh.values()) rewrite(row);
      return ids.map((id, i) => (stale.includes(id) ? fresh.get(id) : rows[i]));
    },

    /**
     * @param {number} id
     * @param {{ name?: string, priceCents?: number }} changes
     */
    async update(id, changes) {
      const row = await db.update(id, changes);
      if (row === undefined) return undefined;
      fences.record(id, row.version);
      if (cache !== undefined) await cache.set(keyOf(id), row, ttl).catch(() => counts.cacheWriteFailures++);
      return row;
    },
  };
}
