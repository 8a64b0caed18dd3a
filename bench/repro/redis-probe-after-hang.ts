/**
 * Reproduction (found by the soak, issue 10): after a Redis node hung
 * (SIGSTOP) and a probe failed on it, the first probe after the server is
 * back fails too, with "Stream isn't writeable": reset() ends the client,
 * but its status still reads 'ready' until the socket's 'close' event, so
 * connect() returns at once and the probe's PING goes to the closing
 * stream. The node returns one probe backoff later than it could (in the
 * soak: 6 to 9 s after SIGCONT for Redis, 0.3 to 2.2 s for Memcached; with
 * the default 30 s retry and doubling backoff, a minute or more).
 * Exits 0 when the first probe after the resume readmits the node.
 *
 *   cd bench && npm run build && npx tsx repro/redis-probe-after-hang.ts
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { createCache } from '../lib/sut.js';
import { startRedis, stopAll } from '../../test/harness/servers.js';

async function main(): Promise<void> {
  const servers = await Promise.all([startRedis(), startRedis(), startRedis()]);
  const a = servers[0]!;
  const cache = await createCache({ backend: 'redis', nodes: servers.map((s) => s.address), health: { retryTimeoutMs: 500, maxRetryTimeoutMs: 500 } }, { env: {} });
  const log = (line: string) => console.log(`${(performance.now() / 1000).toFixed(2)} s ${line}`);
  let resumed = false;
  const probesAfterResume: string[] = [];
  cache.events.on('node:ejected', ({ node }) => log(`ejected ${node}`));
  cache.events.on('node:probe-failed', ({ node, error }) => {
    log(`probe of ${node} failed: ${(error as Error).message}`);
    if (resumed) probesAfterResume.push('failed');
  });
  cache.events.on('node:readmitted', ({ node }) => {
    log(`readmitted ${node}`);
    if (resumed) probesAfterResume.push('readmitted');
  });
  const keyOnA = Array.from({ length: 1000 }, (_, i) => `k${i}`).find((k) => cache.nodeFor(k) === a.address)!;
  a.pause();
  for (let i = 0; i < 4; i++) await cache.get(keyOnA); // two missed deadlines eject it
  await sleep(1_000); // a probe or two fail on the hung server
  a.resume();
  resumed = true;
  log(`resumed ${a.address}`);
  for (let i = 0; i < 40 && !probesAfterResume.includes('readmitted'); i++) await sleep(100);
  log(`probes after the resume: ${probesAfterResume.join(', ') || 'none'} (expected: readmitted)`);
  await cache.close();
  process.exitCode = probesAfterResume[0] === 'readmitted' ? 0 : 1;
}

main()
  .catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(stopAll);
