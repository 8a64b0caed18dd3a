/**
 * The get path of this build against an earlier one (A/B), side by side in
 * one process: the same default cache built from each, one GET in flight,
 * interleaved repeats. Two parts:
 * - in-process nodes (`backend: 'memory'`): the client's own cost per get,
 *   no network, as CPU time of this process (process.cpuUsage, so time the
 *   process was not scheduled on a shared machine does not count) and wall
 *   time; medians of 41 paired ratios;
 * - one real redis-server and one memcached (bench/lib's single-get blocks,
 *   31 interleaved repeats), as bench/single-get.ts measures.
 * Ratio = this build's rate / the other build's (1.00x: no difference).
 *
 * The other build is compiled to bench/.build/base first, e.g. for main at fbfd34c:
 *   B=$(mktemp -d) && git archive fbfd34c src tsconfig.json tsconfig.build.json | tar -x -C $B \
 *     && echo '{"type":"module"}' > $B/package.json && ln -s $PWD/node_modules $B/node_modules \
 *     && npx tsc -p $B/tsconfig.build.json --outDir bench/.build/base --declaration false --sourceMap false \
 *     && echo '{"type":"module"}' > bench/.build/base/package.json
 *   cd bench && npm run build --silent && npx tsx ab-get-path.ts [--in-process]   # --in-process: skip the servers
 */
import { existsSync } from 'node:fs';
import { stopAll } from '../test/harness/servers.js';
import { compare, render } from './lib/compare.js';
import { BACKENDS, keys, measurePeers, rateOf, seed, sequentialGets, startServers, verify, type ServerBackend } from './lib/fixtures.js';
import { shardcachePeer } from './peers/shardcache.js';
import type { Peer } from './peers/peer.js';
import { createCache } from './lib/sut.js';

const baseUrl = new URL('./.build/base/index.js', import.meta.url);
if (!existsSync(baseUrl)) throw new Error(`no base build at ${baseUrl.pathname}: see this file's header`);
const base = (await import(baseUrl.href)) as typeof import('../src/index.js');
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function inProcess(): Promise<void> {
  const keyList = Array.from({ length: 1000 }, (_, i) => `key:${i}`);
  const caches = await Promise.all([createCache, base.createCache].map(async (create) => {
    const cache = await create({ backend: 'memory', nodes: ['a:1', 'b:2', 'c:3'] }, { env: {} });
    for (const key of keyList) await cache.set(key, 'x'.repeat(100));
    return cache;
  }));
  /** µs per get: [CPU, wall]. */
  const block = async (cache: (typeof caches)[number], gets: number): Promise<[number, number]> => {
    const cpu = process.cpuUsage();
    const started = performance.now();
    for (let i = 0; i < gets; i++) await cache.get(keyList[i % keyList.length]!);
    const wall = ((performance.now() - started) * 1000) / gets;
    const used = process.cpuUsage(cpu);
    return [(used.user + used.system) / gets, wall];
  };
  for (const cache of caches) await block(cache, 50_000);
  const times: [[number, number][], [number, number][]] = [[], []];
  for (let repeat = 0; repeat < 41; repeat++) {
    for (const i of repeat % 2 === 0 ? [0, 1] : [1, 0]) times[i as 0 | 1].push(await block(caches[i]!, 20_000));
  }
  for (const [measure, at] of [['CPU', 0], ['wall', 1]] as const) {
    const ratios = times[0].map((time, i) => times[1][i]![at] / time[at]);
    const perGet = (side: 0 | 1) => median(times[side].map((time) => time[at])).toFixed(2);
    console.log(`in-process get, ${measure} time: this build ${perGet(0)} µs, base ${perGet(1)} µs, ratio ${median(ratios).toFixed(3)}x (median of 41 paired ratios)`);
  }
  for (const cache of caches) await cache.close();
}

async function basePeer(backend: ServerBackend, address: string): Promise<Peer> {
  const cache = await base.createCache({ backend, nodes: [address] }, { env: {} });
  return { name: 'base build', get: (key) => cache.get<string>(key), teardown: () => cache.close() };
}

async function onServer(backend: ServerBackend): Promise<void> {
  const [server] = await startServers(backend, 1);
  const keyList = keys(10_000);
  await seed(backend, [server!.address], keyList);
  const peers = [await shardcachePeer('this build', backend, [server!.address]), await basePeer(backend, server!.address)];
  try {
    const contenders = await measurePeers(
      peers,
      { count: 31, budgetMs: 60_000 },
      (peer) => verify(peer, keyList),
      (peer) => sequentialGets(peer, keyList, 0, 5_000, 2_000),
      async (peer, repeat) => {
        const block = await sequentialGets(peer, keyList, repeat * 1_000, 1_000, 2_000);
        return { rate: rateOf(block), misses: block.misses };
      },
      32_000,
    );
    console.log(`\n${backend}, one node, one GET in flight\n\n${render(compare({ title: backend, operation: 'GET', timeUnit: 'us', subject: 'this build', contenders, targets: {} }))}`);
  } finally {
    for (const peer of peers) await peer.teardown();
    await server!.stop();
  }
}

await inProcess();
if (!process.argv.includes('--in-process')) for (const backend of BACKENDS) await onServer(backend);
await stopAll();
