/**
 * Reproduction (found by the soak, issue 10): a Redis node whose probe
 * resets its ioredis client while that client is in 'reconnecting' never
 * returned to the ring, even after the server was back (ioredis's
 * disconnect() cleared the reconnection timer and the status stayed
 * 'reconnecting'; connect() waited for an event that never came). Fixed in
 * 5c9c8c3; exits 0 when the node is back, 1 when it is not.
 *
 *   cd bench && npm run build && npx tsx repro/redis-wedged-client.ts
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { createCache } from '../lib/sut.js';
import { startRedis, stopAll } from '../../test/harness/servers.js';

async function main(): Promise<void> {
  const servers = await Promise.all([startRedis(), startRedis(), startRedis()]);
  const a = servers[0]!;
  // Probe 500 ms after ejection, inside ioredis's 1000 ms reconnection backoff (connectBackoffMs).
  const cache = await createCache({ backend: 'redis', nodes: servers.map((s) => s.address), health: { retryTimeoutMs: 500, maxRetryTimeoutMs: 1_000 } }, { env: {} });
  const log = (line: string) => console.log(`${(performance.now() / 1000).toFixed(2)} s ${line}`);
  cache.events.on('node:ejected', ({ node }) => log(`ejected ${node}`));
  cache.events.on('node:readmitted', ({ node }) => log(`readmitted ${node}`));
  cache.events.on('node:probe-failed', ({ node, error }) => log(`probe of ${node} failed: ${(error as Error).message}`));
  const keyOnA = Array.from({ length: 1000 }, (_, i) => `k${i}`).filter((k) => cache.nodeFor(k) === a.address)[0]!;
  await cache.set(keyOnA, 'v');
  await a.kill(); // the connection closes: ioredis goes to 'reconnecting' for connectBackoffMs (1000 ms)
  log(`killed ${a.address}`);
  for (let i = 0; i < 4; i++) await cache.get(keyOnA); // refused: 2 failures eject it; the probe comes 500 ms later
  await sleep(700);
  await a.restart();
  log(`restarted ${a.address}`);
  await sleep(8_000);
  const state = cache.stats().nodes.find((n) => n.address === a.address)!.state;
  log(`${a.address} is ${state} 8 s after its restart (expected: up)`);
  await cache.close();
  process.exitCode = state === 'up' ? 0 : 1;
}

main()
  .catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(stopAll);
