/**
 * shardcache as its users get it: `createCache({ backend, nodes })` with the
 * default options (ketama ring, GET deadline 10 ms with one retry, batch
 * deadline 50 ms, breakers, ejection after 2 consecutive failures) and no
 * environment variables. Read failures are misses by contract, so the notes
 * report them (and any ejection): a shardcache that fails fast must not look
 * fast.
 */
import { createCache, type ShardcacheOptions } from '../lib/sut.js';
import type { ServerBackend } from '../lib/fixtures.js';
import type { Peer } from './peer.js';

/** `options` only for reference variants reported beside the default one, never instead of it. */
export async function shardcachePeer(name: string, backend: ServerBackend, addresses: readonly string[], options: Partial<ShardcacheOptions> = {}): Promise<Peer> {
  const cache = await createCache({ ...options, backend, nodes: [...addresses] }, { env: {} });
  const ejected: string[] = [];
  const breakersOpened: string[] = [];
  cache.events.on('node:ejected', ({ node }) => ejected.push(node));
  cache.events.on('breaker:open', ({ node }) => breakersOpened.push(node));
  let failuresBefore = 0;
  let ejectionsBefore = 0;
  let breakersBefore = 0;
  return {
    name,
    get: (key) => cache.get<string>(key),
    mget: (keys) => cache.mget<string>(keys),
    baseline() {
      failuresBefore = cache.stats().reads.failures;
      ejectionsBefore = ejected.length;
      breakersBefore = breakersOpened.length;
    },
    notes() {
      const failures = cache.stats().reads.failures - failuresBefore;
      const timed = [
        failures > 0 ? `${failures} failed reads (deadline or error)` : '',
        ejected.length > ejectionsBefore ? `${ejected.length - ejectionsBefore} node ejection(s)` : '',
        breakersOpened.length > breakersBefore ? `${breakersOpened.length - breakersBefore} breaker(s) opened` : '',
      ].filter(Boolean);
      // Ejections and open breakers from before the timed repeats (verification, warm-up) last 30 s by default.
      const before = [ejectionsBefore > 0 ? `${ejectionsBefore} ejection(s)` : '', breakersBefore > 0 ? `${breakersBefore} breaker(s) opened` : ''].filter(Boolean);
      const parts = [...timed, ...(before.length > 0 ? [`before timing: ${before.join(', ')}`] : [])];
      return parts.join('; ') || undefined;
    },
    async teardown() {
      await cache.close();
    },
  };
}
