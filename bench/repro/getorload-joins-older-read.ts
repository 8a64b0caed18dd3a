/**
 * Reproduction (found by the soak, issue 10): a getOrLoad that starts after
 * a set of its key was acknowledged can answer the value from before that
 * set, by joining a getOrLoad of the same key still in flight (single
 * flight) whose cache read was sent before the set.
 *
 *   cd bench && npm run build && npx tsx repro/getorload-joins-older-read.ts [redis|memcached]
 */
import { createCache } from '../lib/sut.js';
import { startMemcached, startRedis, stopAll } from '../../test/harness/servers.js';

async function main(): Promise<void> {
  const backend = process.argv[2] === 'memcached' ? 'memcached' : 'redis';
  const server = await (backend === 'redis' ? startRedis() : startMemcached());
  const cache = await createCache({ backend, nodes: [server.address] }, { env: {} });
  const loader = () => 'from the loader';
  let stale = 0;
  const trials = 100;
  for (let i = 0; i < trials; i++) {
    const key = `k${i}`;
    await cache.set(key, 'old');
    const first = cache.getOrLoad(key, loader); // its cache read is sent now
    await cache.set(key, 'new'); // sent after that read, acknowledged
    const second = await cache.getOrLoad(key, loader); // starts after the acknowledgement
    await first;
    if (second === 'old') stale++;
  }
  console.log(`${backend}: ${stale} of ${trials} getOrLoad calls made after set(key, 'new') was acknowledged answered 'old'`);
  await cache.close();
  process.exitCode = stale === 0 ? 0 : 1;
}

main()
  .catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(stopAll);
