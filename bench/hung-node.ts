/**
 * getOrLoad latency while one of three nodes is hung (SIGSTOP), on default
 * settings (GET deadline 10 ms, one immediate retry, ejection after 2
 * consecutive failures), for Redis and Memcached, next to the same load with
 * every node healthy. Reports p50/p99/max and the ratio of p99 to the GET
 * deadline (target: at most 2).
 *
 *   cd bench && npm install && npm run hung-node            # full run
 *   cd bench && npm run hung-node -- --quick                 # smoke run
 */
import type { BackendKind } from '../src/index.js';
import { createCache } from './lib/sut.js';
import { memcachedFlushAll, redisFlushAll, startMemcached, startRedis, stopAll, type ServerProcess } from '../test/harness/servers.js';
import { summarize, table } from './lib/stats.js';

const QUICK = process.argv.includes('--quick');
const REQUESTS = QUICK ? 2_000 : 20_000;
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 8);
const KEYS = 3_000;
const TIME_LIMIT_MS = 60_000;
const GET_DEADLINE_MS = 10;

interface Phase {
  backend: BackendKind;
  scenario: string;
  samples: number[];
  loaderCalls: number;
  ejections: string[];
}

async function measure(backend: BackendKind, servers: ServerProcess[], hang: boolean): Promise<Phase> {
  await Promise.all(servers.map((s) => (backend === 'redis' ? redisFlushAll(s) : memcachedFlushAll(s))));
  const cache = await createCache({ backend, nodes: servers.map((s) => s.address) }, { env: {} });
  const ejections: string[] = [];
  cache.events.on('node:ejected', ({ node }) => ejections.push(node === servers[0]!.address ? 'hung node' : 'a healthy node'));
  const keys = Array.from({ length: KEYS }, (_, i) => `bench:${i}`);
  for (let i = 0; i < KEYS; i += 100) await cache.mset(keys.slice(i, i + 100).map((key) => [key, { key, payload: 'x'.repeat(100) }]));
  let loaderCalls = 0;
  const database = async (key: string) => {
    loaderCalls++;
    return { key, payload: 'x'.repeat(100) };
  };
  // Warm connections and the JIT before measuring.
  for (let i = 0; i < 500; i++) await cache.getOrLoad(keys[i % KEYS]!, () => database(keys[i % KEYS]!));

  if (hang) servers[0]!.pause();
  const samples: number[] = [];
  const deadline = performance.now() + TIME_LIMIT_MS;
  let next = 0;
  const worker = async () => {
    while (next < REQUESTS && performance.now() < deadline) {
      const key = keys[(next++ * 7919) % KEYS]!;
      const started = performance.now();
      await cache.getOrLoad(key, () => database(key));
      samples.push(performance.now() - started);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  if (hang) servers[0]!.resume();
  await cache.close();
  return { backend, scenario: hang ? 'one of 3 nodes hung (SIGSTOP)' : 'all 3 nodes healthy', samples, loaderCalls, ejections };
}

async function main(): Promise<void> {
  const phases: Phase[] = [];
  for (const [backend, start] of [['redis', startRedis], ['memcached', startMemcached]] as const) {
    const servers = await Promise.all([start(), start(), start()]);
    phases.push(await measure(backend, servers, false));
    phases.push(await measure(backend, servers, true));
    await Promise.all(servers.map((s) => s.stop()));
  }
  const rows = phases.map((phase) => {
    const s = summarize(phase.samples);
    return [phase.backend, phase.scenario, s.count, String(phase.loaderCalls), phase.ejections.join(', ') || 'none', s.p50, s.p99, s.max, s.p99 / GET_DEADLINE_MS];
  });
  console.log(`getOrLoad latency in ms, ${REQUESTS} requests per row, ${CONCURRENCY} in flight, ${KEYS} keys, default options (GET deadline ${GET_DEADLINE_MS} ms)`);
  console.log(table(['backend', 'scenario', 'requests', 'loader calls', 'ejected', 'p50', 'p99', 'max', 'p99 / GET deadline'], rows));
  console.log(`node ${process.version}, ${process.platform} ${process.arch}`);
}

main()
  .catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(stopAll);
