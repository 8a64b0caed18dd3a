// The products table and the only statements the service runs on it,
// through a pg Pool. Every write bumps `version`, which the cached reads
// compare with the updates this process committed (see update-fences.mjs).
//
// Rows leave this module as plain JSON-ready objects (dates as ISO strings),
// so a product read from the cache and one read from the database look the
// same to the caller.

const COLUMNS = 'id, name, price_cents, version, updated_at';

/**
 * Creates the table when missing and inserts products 1..count that are not
 * there yet (an example's convenience: a real service migrates elsewhere).
 * @param {import('pg').Pool} pool
 * @param {number} count
 */
export async function ensureProducts(pool, count) {
  await pool.query(`CREATE TABLE IF NOT EXISTS products (
    id integer PRIMARY KEY,
    name text NOT NULL,
    price_cents integer NOT NULL CHECK (price_cents >= 0),
    version integer NOT NULL DEFAULT 1,
    updated_at timestamptz NOT NULL DEFAULT now()
  )`);
  const { rows } = await pool.query('SELECT count(*)::int AS n FROM products WHERE id BETWEEN 1 AND $1', [count]);
  if (rows[0].n >= count) return 0;
  const inserted = await pool.query(
    `INSERT INTO products (id, name, price_cents)
     SELECT g, 'product ' || g, 100 + (g * 7919) % 100000 FROM generate_series(1, $1::int) AS g
     ON CONFLICT (id) DO NOTHING`,
    [count],
  );
  await pool.query('ANALYZE products');
  return inserted.rowCount ?? 0;
}

/**
 * @param {import('pg').Pool} pool
 */
export function createProductsDb(pool) {
  const counts = { queries: 0 };
  // Named statements: pg prepares each once per connection, as a busy service would.
  const query = (name, text, values) => {
    counts.queries++;
    return pool.query({ name, text, values });
  };
  return {
    counts,
    /** @param {number} id */
    async byId(id) {
      const { rows } = await query('product-by-id', `SELECT ${COLUMNS} FROM products WHERE id = $1`, [id]);
      return rows.length === 0 ? undefined : toProduct(rows[0]);
    },
    /**
     * One statement for any number of ids.
     * @param {readonly number[]} ids distinct
     * @returns {Promise<Map<number, Product>>}
     */
    async byIds(ids) {
      const { rows } = await query('products-by-ids', `SELECT ${COLUMNS} FROM products WHERE id = ANY($1::int[])`, [ids]);
      return new Map(rows.map((row) => [row.id, toProduct(row)]));
    },
    /**
     * @param {number} id
     * @param {{ name?: string, priceCents?: number }} changes
     */
    async update(id, changes) {
      const { rows } = await query(
        'product-update',
        `UPDATE products
            SET name = coalesce($2, name), price_cents = coalesce($3, price_cents), version = version + 1, updated_at = now()
          WHERE id = $1
      RETURNING ${COLUMNS}`,
        [id, changes.name ?? null, changes.priceCents ?? null],
      );
      return rows.length === 0 ? undefined : toProduct(rows[0]);
    },
  };
}

/**
 * @typedef {{ id: number, name: string, priceCents: number, version: number, updatedAt: string }} Product
 * @returns {Product}
 */
function toProduct(row) {
  return { id: row.id, name: row.name, priceCents: row.price_cents, version: row.version, updatedAt: row.updated_at.toISOString() };
}
