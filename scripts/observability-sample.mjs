// Prints what an operator sees: the /metrics text after a known sequence
// (hits, misses, loads, one timeout on a SIGSTOPped node and its ejection),
// then cache.health() and cache.stats() while that node is still hung, then
// health once it is back. Real redis-server processes on free loopback
// ports, stopped by PID at the end (a SIGSTOPped one is resumed first).
//
//   npm run build && node scripts/observability-sample.mjs [redis|memcached]
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { Registry } from 'prom-client';
import { createCache } from 'shardcache';

const backend = process.argv[2] ?? 'redis';
const children = [];

async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function startServer() {
  const port = await freePort();
  const child =
    backend === 'redis'
      ? spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' })
      : spawn('memcached', ['-p', String(port), '-l', '127.0.0.1', '-U', '0'], { stdio: 'ignore' });
  children.push(child);
  // Bounded wait until it accepts connections.
  for (let attempt = 0; attempt < 100; attempt++) {
    const { createConnection } = await import('node:net');
    const ok = await new Promise((resolve) => {
      const socket = createConnection({ host: '127.0.0.1', port }, () => (socket.destroy(), resolve(true)));
      socket.on('error', () => resolve(false));
    });
    if (ok) return { address: `127.0.0.1:${port}`, child };
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${backend} on ${port} did not start`);
}

function keysOwnedBy(cache, address, count, prefix) {
  const keys = [];
  for (let i = 0; keys.length < count && i < 100_000; i++) if (cache.nodeFor(`${prefix}:${i}`) === address) keys.push(`${prefix}:${i}`);
  return keys;
}

const servers = await Promise.all([startServer(), startServer(), startServer()]);
const registry = new Registry();
const cache = await createCache(
  {
    backend,
    nodes: servers.map((s) => s.address),
    timeouts: { getMs: 150, getRetries: 0, connectRetries: 0 },
    health: { failureLimit: 1, retryTimeoutMs: 2000, maxEjectedFraction: 0.5 },
    metrics: { registry },
  },
  { env: {} },
);
try {
  const [a, b, c] = servers.map((s) => s.address);
  const onA = keysOwnedBy(cache, a, 7, 'user');
  const onB = keysOwnedBy(cache, b, 2, 'user');
  const [absentOnC] = keysOwnedBy(cache, c, 1, 'absent');
  console.log(`# nodes: a=${a} b=${b} c=${c}`);
  console.log('# sequence: mset 5 keys (a, b); get 3 hits + 2 misses on a, 1 hit on b; mget 3 hits on a + 1 miss on c;');
  console.log('#           getOrLoad (miss on a, 1 loader call, write-back); 3 concurrent getOrLoad of one key (1 call, 2 coalesced);');
  console.log('#           SIGSTOP b; get on b times out (150 ms) and b is ejected; the same key read again from its stand-in (miss)\n');
  await cache.mset([onA[0], onA[1], onA[2], onB[0], onB[1]].map((key) => [key, { id: key }]));
  for (const key of onA.slice(0, 3)) await cache.get(key);
  for (const key of onA.slice(3, 5)) await cache.get(key);
  await cache.get(onB[0]);
  await cache.mget([...onA.slice(0, 3), absentOnC]);
  await cache.getOrLoad(onA[5], async () => ({ id: onA[5], from: 'db' }));
  await Promise.all(Array.from({ length: 3 }, () => cache.getOrLoad(onA[6], async () => ({ id: onA[6], from: 'db' }))));
  await new Promise((resolve) => setTimeout(resolve, 50)); // write-backs are best effort, off the reader's path

  const ejected = once(cache.events, 'node:ejected');
  servers[1].child.kill('SIGSTOP');
  await cache.get(onB[1]);
  await ejected;
  await cache.get(onB[1]);

  console.log('==== GET /metrics ====');
  console.log(await registry.metrics());
  console.log(`==== cache.health() with ${b} hung (SIGSTOP) ====`);
  console.log(JSON.stringify(cache.health(), null, 2));
  console.log(`\n==== cache.stats() with ${b} hung (SIGSTOP) ====`);
  console.log(JSON.stringify(cache.stats(), null, 2));

  const readmitted = once(cache.events, 'node:readmitted');
  servers[1].child.kill('SIGCONT');
  await readmitted;
  console.log(`\n==== cache.health() after SIGCONT and re-admission ====`);
  console.log(JSON.stringify(cache.health(), null, 2));
} finally {
  await cache.close();
  for (const { child } of servers) {
    child.kill('SIGCONT');
    child.kill('SIGTERM');
  }
}
