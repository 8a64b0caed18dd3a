/**
 * The cost of TLS (with an ACL login) on Redis: one GET in flight, and
 * rounds of 1000 concurrent GETs, against one node. In one process, the
 * contenders interleaved repeat by repeat:
 * - shardcache over TLS with `auth` (the subject), against a TLS-only
 *   redis-server (`--port 0 --tls-port P`, an ACL user, user default off);
 * - raw ioredis over TLS with the same login on the same server (target:
 *   shardcache >= 0.95x);
 * - shardcache over plain TCP on a second, plain redis-server: the ratio
 *   is what TLS costs shardcache (no target, reported);
 * - raw ioredis over plain TCP, for reference.
 * Every shardcache here has `timeouts.getMs: 1000` (as the reference rows
 * of concurrent-gets.ts do), everything else default: on a 2-core machine
 * shared with other jobs a GET can take longer than the default 10 ms, and
 * a read that misses its deadline is a miss, not a speed. What is measured
 * is the client's cost per request over TLS, not its deadline policy.
 *
 *   npx tsx tls-gets.ts [--quick] [--json[=path]]
 */
import { makeTestPki, startTlsRedis, testSecret } from '../test/harness/secure-servers.js';
import { startRedis, stopAll } from '../test/harness/servers.js';
import { compare, median, missedTargets, parseArgs, printVerdict, RATIO_LEGEND, render, withTimeout, writeJson, type ComparisonResult } from './lib/compare.js';
import { concurrentRounds, keys, measurePeers, rateOf, sequentialGets, valueOf, verify, VALUE_BYTES } from './lib/fixtures.js';
import { createCache, type ShardcacheOptions } from './lib/sut.js';
import { ioredisRingPeer } from './peers/ioredis.js';
import type { Peer } from './peers/peer.js';
import { shardcachePeer } from './peers/shardcache.js';

const ARGS = parseArgs('tls-gets');
const QUICK = ARGS.quick;
const KEY_COUNT = QUICK ? 2_000 : 10_000;
const GETS_PER_BLOCK = 1_000;
const WIDTH = 1_000;
const ROUNDS_PER_BLOCK = QUICK ? 5 : 15;
const CAP_MS = QUICK ? 300 : 2_000;
const REPEATS = { count: QUICK ? 3 : 21, budgetMs: QUICK ? 8_000 : 60_000 };
const TARGET = 0.95;

const SUBJECT = 'shardcache, TLS + ACL login';
const RAW_TLS = 'ioredis, TLS + ACL login';
const PLAIN = 'shardcache, plain TCP';
const RAW_PLAIN = 'ioredis, plain TCP';

async function main(): Promise<void> {
  const started = performance.now();
  const pki = makeTestPki();
  const login = { username: 'app', password: testSecret('bench') };
  const [tlsServer, plainServer] = await Promise.all([startTlsRedis(pki, [login]), startRedis()]);
  const security: Partial<ShardcacheOptions> = { tls: { ca: pki.ca }, auth: login };
  const keyList = keys(KEY_COUNT);
  const results: ComparisonResult[] = [];
  try {
    await seed(tlsServer.address, security, keyList);
    await seed(plainServer.address, {}, keyList);
    const ioredisTls = { tls: { ca: pki.ca }, username: login.username, password: login.password };
    for (const part of ['single', 'concurrent'] as const) {
      const timeouts = { timeouts: { getMs: 1_000 } };
      const peers: Peer[] = [
        await shardcachePeer(SUBJECT, 'redis', [tlsServer.address], { ...security, ...timeouts }),
        await ioredisRingPeer(RAW_TLS, [tlsServer.address], { redis: ioredisTls }),
        await shardcachePeer(PLAIN, 'redis', [plainServer.address], timeouts),
        await ioredisRingPeer(RAW_PLAIN, [plainServer.address]),
      ];
      try {
        const contenders = await measurePeers(
          peers,
          REPEATS,
          (peer) => verify(peer, keyList),
          (peer) => (part === 'single' ? sequentialGets(peer, keyList, 0, 5_000, CAP_MS) : concurrentRounds(peer, keyList, 0, WIDTH, 20, CAP_MS)),
          async (peer, repeat) => {
            if (part === 'single') {
              const block = await sequentialGets(peer, keyList, repeat * GETS_PER_BLOCK, GETS_PER_BLOCK, CAP_MS);
              return { rate: rateOf(block), misses: block.misses };
            }
            const { rates, misses } = await concurrentRounds(peer, keyList, repeat * WIDTH * ROUNDS_PER_BLOCK, WIDTH, ROUNDS_PER_BLOCK, CAP_MS);
            return { rate: median(rates), misses };
          },
          CAP_MS + 30_000,
        );
        results.push(
          compare({
            title: part === 'single' ? 'One GET in flight, redis, 1 node: TLS vs plain TCP (getMs 1000)' : `${WIDTH} concurrent GETs, redis, 1 node: TLS vs plain TCP (getMs 1000)`,
            operation: 'GET',
            timeUnit: 'us',
            subject: SUBJECT,
            contenders,
            targets: { [RAW_TLS]: TARGET },
          }),
        );
      } finally {
        for (const peer of peers) await peer.teardown();
      }
    }
  } finally {
    await stopAll();
    pki.remove();
  }
  const repeats = Math.min(...results.flatMap((r) => r.rows.map((row) => row.repeats)));
  console.log(`\n## TLS with an ACL login vs plain TCP, Redis (${VALUE_BYTES}-byte values, ${KEY_COUNT} keys; ${repeats} interleaved repeats)\n`);
  console.log(`${RATIO_LEGEND}. Target: ≥ ${TARGET}x raw ioredis over TLS; the plain-TCP rows show what TLS costs.\n`);
  for (const result of results) console.log(`${result.title}\n\n${render(result)}\n`);
  const missed = missedTargets(results);
  printVerdict(missed, started);
  writeJson(ARGS.json, 'tls-gets', { quick: QUICK, results, missed });
}

/** Writes every key through a throwaway shardcache with the same security options. */
async function seed(address: string, security: Partial<ShardcacheOptions>, keyList: readonly string[]): Promise<void> {
  const cache = await createCache({ ...security, backend: 'redis', nodes: [address], timeouts: { setMs: 5_000, batchMs: 5_000 } }, { env: {} });
  try {
    for (let i = 0; i < keyList.length; i += 500) {
      await withTimeout(cache.mset(keyList.slice(i, i + 500).map((key) => [key, valueOf(key)])), 10_000, 'seeding');
    }
  } finally {
    await cache.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
