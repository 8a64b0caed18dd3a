/**
 * The product-service example end to end, with small counts: real
 * PostgreSQL (test/harness/postgres.ts), three real redis-servers, the
 * service's own modules on node:http, and HTTP requests from outside.
 *
 * - Concurrent first reads of one product reach PostgreSQL once, as
 *   PostgreSQL itself counts statements (pg_stat_statements, not the
 *   service's counter); a batch sends its misses in one ANY query.
 * - Under a mixed load of reads, batch reads and updates, one cache node
 *   hangs (SIGSTOP) for a moment and comes back: no HTTP error, and no
 *   response carries a version older than an update already acknowledged
 *   when the request was sent, during the load or after the node returned.
 * - The runnable server.mjs starts from its environment and answers.
 */
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCatalog, type Catalog } from '../../examples/product-service/catalog.mjs';
import { createProductsDb, ensureProducts, type Product } from '../../examples/product-service/products-db.mjs';
import { createProductService } from '../../examples/product-service/service.mjs';
import { UpdateFences } from '../../examples/product-service/update-fences.mjs';
import { createCache, type ShardedCache } from '../../src/index.js';
import { nextEvent } from '../harness/events.js';
import { resetStatementCalls, startPostgres, statementCalls, type PostgresServer } from '../harness/postgres.js';
import { startRedis, stopAll, type ServerProcess } from '../harness/servers.js';

const PRODUCTS = 2_000;
const BY_ID = 'FROM products WHERE id = $1';
const BY_IDS = 'FROM products WHERE id = ANY';

let postgres: PostgresServer;
let nodes: ServerProcess[];
let pool: pg.Pool;
let cache: ShardedCache;
let catalog: Catalog;
let server: Server;
let base: string;

beforeAll(async () => {
  [postgres, ...nodes] = await Promise.all([startPostgres(), startRedis(), startRedis(), startRedis()]);
  pool = new pg.Pool({ connectionString: postgres.url, max: 8 });
  // Idle connections see the server's shutdown at the end; pg reports it here, not to a caller.
  pool.on('error', () => {});
  await ensureProducts(pool, PRODUCTS);
  cache = await createCache(
    {
      backend: 'redis',
      nodes: nodes.map((node) => node.address),
      // Generous for a loaded machine (a missed deadline is a miss, which would add loads); the hang still ejects within two of them.
      timeouts: { getMs: 200, setMs: 200, batchMs: 400 },
      health: { retryTimeoutMs: 300, maxRetryTimeoutMs: 600 },
    },
    { env: {} },
  );
  catalog = createCatalog({ cache, db: createProductsDb(pool), fences: new UpdateFences({ holdMs: 120_000 }), ttlSeconds: 60 });
  server = createServer(createProductService({ catalog }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 60_000);

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  await cache?.close();
  await pool?.end();
  await postgres?.stop();
  await stopAll();
});

async function call(method: 'GET' | 'PUT', path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const response = await fetch(`${base}${path}`, {
    method,
    ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    signal: AbortSignal.timeout(15_000),
  });
  return { status: response.status, json: await response.json() };
}

/** A deterministic generator, so a failure replays the same requests. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

describe('product service over PostgreSQL and three redis nodes', () => {
  it('sends concurrent first reads of a product to PostgreSQL once, and a batch of misses as one query', async () => {
    await resetStatementCalls(pool);
    const ids = Array.from({ length: 20 }, (_, i) => 101 + i);
    const responses = await Promise.all(ids.flatMap((id) => Array.from({ length: 8 }, () => call('GET', `/products/${id}`))));
    expect(responses.map((r) => r.status)).toEqual(responses.map(() => 200));
    expect(responses.map((r) => (r.json as Product).id)).toEqual(ids.flatMap((id) => Array(8).fill(id)));
    expect(await statementCalls(pool, BY_ID)).toBe(ids.length);

    // Five of these are cached now, five are not, and one repeats: one ANY query, in the caller's order.
    const batch = [101, 102, 103, 104, 105, 201, 202, 203, 204, 205, 201];
    const { status, json } = await call('GET', `/products?ids=${batch.join(',')}`);
    expect(status).toBe(200);
    expect((json as { products: Product[] }).products.map((p) => p.id)).toEqual(batch);
    expect(await statementCalls(pool, BY_IDS)).toBe(1);
    expect(await statementCalls(pool, BY_ID)).toBe(ids.length);
  });

  it('never lets a read that loaded a product before an update write it back over the update', async () => {
    // The race, made certain: a reader's loader has read product 77 at its old
    // version and is held there while an update commits and rewrites the entry;
    // then the loader returns and the cache writes back what it loaded.
    const db = createProductsDb(pool);
    let held: Promise<void> | undefined;
    let release = () => {};
    let loaded = () => {};
    const loadedOld = new Promise<void>((resolve) => (loaded = resolve));
    const gatedDb = {
      ...db,
      async byId(id: number) {
        const row = await db.byId(id);
        if (id === 77 && held === undefined) {
          held = new Promise<void>((resolve) => (release = resolve));
          loaded();
          await held;
        }
        return row;
      },
    };
    const racing = createCatalog({ cache, db: gatedDb, fences: new UpdateFences({ holdMs: 120_000 }), ttlSeconds: 60 });
    await cache.del('product:77');
    const before = (await db.byId(77))!;

    const read = racing.product(77);
    await loadedOld;
    const updated = (await racing.update(77, { name: 'renamed' }))!;
    expect(updated.version).toBe(before.version + 1);
    release();
    // The reader started before the update finished: either version may answer it.
    expect((await read)!.version).toBeGreaterThanOrEqual(before.version);
    // Its write-back went out before its answer, on the same connection as this read: the cache holds the update.
    expect(((await cache.get('product:77')) as Product).version).toBe(updated.version);
    expect((await racing.product(77))!.version).toBe(updated.version);
  });

  it('answers every request and serves no stale product while one cache node hangs for a moment and returns', async () => {
    const ids = Array.from({ length: 300 }, (_, i) => 1001 + i);
    for (let i = 0; i < ids.length; i += 100) expect((await call('GET', `/products?ids=${ids.slice(i, i + 100).join(',')}`)).status).toBe(200);

    const acked = new Map<number, number>();
    const failures: string[] = [];
    const stale: string[] = [];
    const check = (product: Product | null, floor: number | undefined, what: string) => {
      if (product === null) failures.push(`${what}: no product`);
      else if (floor !== undefined && product.version < floor) stale.push(`${what}: version ${product.version} after update to ${floor} was acknowledged`);
    };
    const hung = nodes[1]!;
    const ejected = nextEvent(cache, 'node:ejected', ({ node }) => node === hung.address, 20_000);
    ejected.catch(() => {}); // awaited below
    const timeoutsBefore = cache.stats().requests.timeouts;
    const TOTAL = 900;
    const [PAUSE_AT, RESUME_AT] = [200, 500];
    let sent = 0;
    let done = 0;
    const worker = async (seed: number) => {
      const next = random(seed);
      while (sent < TOTAL) {
        const n = sent++;
        if (n === PAUSE_AT) hung.pause();
        if (n === RESUME_AT) hung.resume();
        const id = ids[Math.floor(next() * ids.length)]!;
        const roll = next();
        if (roll < 0.1) {
          const { status, json } = await call('PUT', `/products/${id}`, { priceCents: n });
          if (status !== 200) failures.push(`PUT ${id}: HTTP ${status}`);
          else acked.set(id, Math.max(acked.get(id) ?? 0, (json as Product).version));
        } else if (roll < 0.2) {
          const batch = [id, ids[Math.floor(next() * ids.length)]!, ids[Math.floor(next() * ids.length)]!];
          const floors = batch.map((b) => acked.get(b));
          const { status, json } = await call('GET', `/products?ids=${batch.join(',')}`);
          if (status !== 200) failures.push(`GET batch: HTTP ${status}`);
          else (json as { products: (Product | null)[] }).products.forEach((p, i) => check(p, floors[i], `batch read of ${batch[i]}`));
        } else {
          const floor = acked.get(id);
          const { status, json } = await call('GET', `/products/${id}`);
          if (status !== 200) failures.push(`GET ${id}: HTTP ${status}`);
          else check(json as Product, floor, `read of ${id}`);
        }
        done++;
      }
    };
    try {
      await Promise.all(Array.from({ length: 12 }, (_, i) => worker(i + 1)));
    } finally {
      if (hung.paused) hung.resume();
    }
    expect(done).toBe(TOTAL);
    // The hang was real: reads missed their deadline and the node left the ring.
    expect(cache.stats().requests.timeouts).toBeGreaterThan(timeoutsBefore);
    await ejected;
    if (!cache.stats().nodes.some((node) => node.address === hung.address && node.state === 'up')) {
      await nextEvent(cache, 'node:readmitted', ({ node }) => node === hung.address, 20_000);
    }

    // Back on the ring: every updated product reads at its last acknowledged version, alone and in batches.
    for (const [id, version] of acked) check((await call('GET', `/products/${id}`)).json as Product, version, `read of ${id} after the node returned`);
    const updated = [...acked.keys()];
    for (let i = 0; i < updated.length; i += 50) {
      const slice = updated.slice(i, i + 50);
      const { json } = await call('GET', `/products?ids=${slice.join(',')}`);
      (json as { products: Product[] }).products.forEach((p, j) => check(p, acked.get(slice[j]!), `batch read of ${slice[j]} after the node returned`));
    }
    expect(failures).toEqual([]);
    expect(stale).toEqual([]);
    expect(acked.size).toBeGreaterThan(20);
  }, 90_000);

  it('runs as server.mjs from its environment (the README command)', async () => {
    const script = fileURLToPath(new URL('../../examples/product-service/server.mjs', import.meta.url));
    const token = 'product-service-test-token';
    const child = spawn(process.execPath, [script], {
      env: { PATH: process.env['PATH'], DATABASE_URL: postgres.url, SHARDCACHE_BACKEND: 'redis', SHARDCACHE_NODES: nodes.map((n) => n.address).join(','), SHARDCACHE_ADMIN_TOKEN: token, SEED_PRODUCTS: String(PRODUCTS), PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      let output = '';
      const port = await new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`server.mjs did not listen within 20 s:\n${output}`)), 20_000);
        const read = (chunk: Buffer) => {
          output += chunk.toString('utf8');
          const match = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(output);
          if (match) {
            clearTimeout(timer);
            resolve(Number(match[1]));
          }
        };
        child.stdout.on('data', read);
        child.stderr.on('data', read);
        void exited.then((code) => reject(new Error(`server.mjs exited (${code}):\n${output}`)));
      });
      const product = await fetch(`http://127.0.0.1:${port}/products/42`);
      expect(product.status).toBe(200);
      expect(((await product.json()) as Product).id).toBe(42);
      const health = await fetch(`http://127.0.0.1:${port}/cache/health`, { headers: { authorization: `Bearer ${token}` } });
      expect(health.status).toBe(200);
      expect(((await health.json()) as { nodes: unknown[] }).nodes).toHaveLength(3);
      expect((await fetch(`http://127.0.0.1:${port}/cache/health`)).status).toBe(401);
    } finally {
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    expect(await exited).toBe(0);
  }, 40_000);
});
