// Types for products-db.mjs, so TypeScript tests and applications can import it.
import type { Pool } from 'pg';

export interface Product {
  readonly id: number;
  readonly name: string;
  readonly priceCents: number;
  readonly version: number;
  readonly updatedAt: string;
}

export interface ProductChanges {
  readonly name?: string;
  readonly priceCents?: number;
}

export interface ProductsDb {
  /** Statements sent, counted by this process. */
  readonly counts: { queries: number };
  byId(id: number): Promise<Product | undefined>;
  byIds(ids: readonly number[]): Promise<Map<number, Product>>;
  update(id: number, changes: ProductChanges): Promise<Product | undefined>;
}

export function ensureProducts(pool: Pool, count: number): Promise<number>;
export function createProductsDb(pool: Pool): ProductsDb;
