// A service's cache-management endpoints, standing alone: /metrics,
// /cache/stats, /cache/health, POST /cache/invalidate and POST /cache/clear
// behind a bearer token (see ops-handler.mjs).
//
//   npm run build
//   SHARDCACHE_ADMIN_TOKEN=$(openssl rand -hex 24) node examples/ops-service.mjs
//   curl -H "Authorization: Bearer $SHARDCACHE_ADMIN_TOKEN" localhost:8080/cache/health
//
// In-process nodes (backend: 'memory', no server needed) unless the
// environment names a pool, as any shardcache application reads it (both
// variables: the backend is never guessed from the addresses):
//   SHARDCACHE_BACKEND=redis SHARDCACHE_NODES=10.0.0.1:6379,10.0.0.2:6379 ...
// HOST (default 127.0.0.1) and PORT (default 8080; 0 picks a free one).
// Metrics need prom-client, an optional peer of shardcache: npm install prom-client.
import { createServer } from 'node:http';
import { Registry } from 'prom-client';
import { createCache } from 'shardcache';
import { createOpsHandler } from './ops-handler.mjs';

const token = process.env.SHARDCACHE_ADMIN_TOKEN;
if (!token || token.length < 16) {
  console.error('set SHARDCACHE_ADMIN_TOKEN to a secret of at least 16 characters, e.g. $(openssl rand -hex 24)');
  process.exit(1);
}

const registry = new Registry();
const fromEnvironment = Boolean(process.env.SHARDCACHE_BACKEND || process.env.SHARDCACHE_NODES);
const cache = await createCache({
  metrics: { registry },
  // Without SHARDCACHE_BACKEND and SHARDCACHE_NODES, three in-process nodes.
  ...(fromEnvironment ? {} : { backend: 'memory', nodes: ['local-a:1', 'local-b:2', 'local-c:3'] }),
});
const log = (line) => console.log(`${new Date().toISOString()} ${line}`);
const server = createServer(createOpsHandler({ cache, registry, token, log }));
server.requestTimeout = 10_000;
server.headersTimeout = 5_000;

server.listen(Number(process.env.PORT ?? 8080), process.env.HOST ?? '127.0.0.1', () => {
  const { address, port } = server.address();
  console.log(`shardcache ops service listening on http://${address}:${port}`);
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    server.close(() => cache.close().then(() => process.exit(0)));
    server.closeIdleConnections();
  });
}
