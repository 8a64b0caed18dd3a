// The product service: PostgreSQL through pg, shardcache in front of it.
// See README.md in this folder for the two commands that run it.
//
// Configuration, all by environment:
//   DATABASE_URL            required: postgres://user@host:port/database
//   SHARDCACHE_BACKEND      redis | memcached | memory, and
//   SHARDCACHE_NODES        host:port,host:port,...   (any SHARDCACHE_* variable applies:
//                           timeouts, health, breaker; see the main README). Without both:
//                           three in-process nodes, so the service runs with PostgreSQL alone.
//   PRODUCT_CACHE           on (default) | off: off reads the database every time (the baseline)
//   SHARDCACHE_ADMIN_TOKEN  at least 16 characters: mounts /metrics and /cache/* behind it
//   PRODUCT_TTL_SECONDS     cache TTL of a product, default 600
//   SEED_PRODUCTS           products 1..N created when missing, default 100000 (0: none)
//   PG_POOL_MAX             database connections, default 10
//   HOST, PORT              default 127.0.0.1:8080 (PORT=0 picks a free port)
import { createServer } from 'node:http';
import pg from 'pg';
import { Counter, Registry } from 'prom-client';
import { createCache } from 'shardcache';
import { createOpsHandler } from '../ops-handler.mjs';
import { createCatalog } from './catalog.mjs';
import { createProductsDb, ensureProducts } from './products-db.mjs';
import { createProductService } from './service.mjs';
import { UpdateFences } from './update-fences.mjs';

const env = process.env;
const log = (line) => console.log(`${new Date().toISOString()} ${line}`);

function fail(message) {
  console.error(message);
  process.exit(1);
}

function integer(name, fallback, min) {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < min) fail(`${name} must be an integer >= ${min}, got ${JSON.stringify(raw)}`);
  return value;
}

if (!env.DATABASE_URL) fail('set DATABASE_URL, e.g. postgres://postgres@127.0.0.1:5432/postgres');
if (!['on', 'off', undefined].includes(env.PRODUCT_CACHE)) fail(`PRODUCT_CACHE is on or off, got ${JSON.stringify(env.PRODUCT_CACHE)}`);
const token = env.SHARDCACHE_ADMIN_TOKEN;
if (token !== undefined && token.length < 16) fail('SHARDCACHE_ADMIN_TOKEN must be at least 16 characters, e.g. $(openssl rand -hex 24)');
const ttlSeconds = integer('PRODUCT_TTL_SECONDS', 600, 1);

const pool = new pg.Pool({ connectionString: env.DATABASE_URL, max: integer('PG_POOL_MAX', 10, 1), connectionTimeoutMillis: 5_000 });
pool.on('error', (error) => log(`idle database connection failed: ${error.message}`));
const seeded = await ensureProducts(pool, integer('SEED_PRODUCTS', 100_000, 0));
if (seeded > 0) log(`inserted ${seeded} products`);

const registry = new Registry();
const fromEnvironment = Boolean(env.SHARDCACHE_BACKEND || env.SHARDCACHE_NODES);
const cache =
  env.PRODUCT_CACHE === 'off'
    ? undefined
    : await createCache({ metrics: { registry }, ...(fromEnvironment ? {} : { backend: 'memory', nodes: ['local-a:1', 'local-b:2', 'local-c:3'] }) });
// What the cache did about its nodes, in the service's log (the benchmark's timeline marks these lines).
for (const [event, what] of [['node:ejected', 'ejected'], ['node:readmitted', 'back on the ring']]) {
  cache?.events.on(event, ({ node }) => log(`cache node ${node} ${what}`));
}
const db = createProductsDb(pool);
// A fence outlives any copy written before it: the entry TTL plus a minute for the slowest load.
const catalog = createCatalog({ cache, db, fences: new UpdateFences({ holdMs: (ttlSeconds + 60) * 1000 }), ttlSeconds });

for (const [name, help, read] of [
  ['product_service_db_queries_total', 'statements sent to PostgreSQL', () => db.counts.queries],
  ['product_service_stale_reloads_total', 'cached products older than an update this process committed, reloaded', () => catalog.counts.staleReloaded],
  ['product_service_cache_write_failures_total', 'cache rewrites that failed (the update stood; its fence guards reads)', () => catalog.counts.cacheWriteFailures],
]) {
  new Counter({ name, help, registers: [registry], collect() { this.reset(); this.inc(read()); } });
}

const ops = cache && token ? createOpsHandler({ cache, registry, token, log }) : undefined;
const server = createServer(createProductService({ catalog, ops, log }));
server.keepAliveTimeout = 30_000;
server.requestTimeout = 10_000;
server.headersTimeout = 5_000;
server.listen(integer('PORT', 8080, 0), env.HOST ?? '127.0.0.1', () => {
  const { address, port } = server.address();
  const where = cache ? `cache ${fromEnvironment ? `${env.SHARDCACHE_BACKEND} ${env.SHARDCACHE_NODES}` : 'in-process (3 memory nodes)'}` : 'no cache';
  log(`product service listening on http://${address}:${port} (${where}${ops ? ', ops endpoints under /cache' : ''})`);
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    server.close(async () => {
      await cache?.close();
      await pool.end();
      process.exit(0);
    });
    server.closeIdleConnections();
  });
}
