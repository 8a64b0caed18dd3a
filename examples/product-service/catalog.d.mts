// Types for catalog.mjs.
import type { Cache } from '../../src/index.js';
import type { Product, ProductChanges, ProductsDb } from './products-db.mjs';
import type { UpdateFences } from './update-fences.mjs';

export interface Catalog {
  readonly counts: { staleReloaded: number; cacheWriteFailures: number };
  product(id: number): Promise<Product | undefined>;
  products(ids: readonly number[]): Promise<(Product | undefined)[]>;
  update(id: number, changes: ProductChanges): Promise<Product | undefined>;
}

export function createCatalog(options: { cache?: Cache; db: ProductsDb; fences: UpdateFences; ttlSeconds: number }): Catalog;
