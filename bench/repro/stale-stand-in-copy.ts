/**
 * Reproduction (found by the soak, issue 10): a value written to a stand-in
 * while a key's owner was out was served again, after newer writes, the next
 * time the owner was out: the owner's return cleaned up its stand-ins only if
 * they were on the ring at that moment, and only best effort, and nothing
 * cleaned them later. Fixed in 85871fa; exits 0 when the last read is W2 or
 * a miss, 1 when it is the stale W1.
 *
 * 5 Redis nodes (so 2 may be out at once). O owns key k; S is k's stand-in.
 *   O out -> set(k, 'W1') lands on S -> S out (SIGSTOP: it keeps its data)
 *   -> O returns (its clean-up skips S, which is out) -> set(k, 'W2') on O
 *   -> S returns -> O out again -> get(k) is answered by S: 'W1'.
 *
 *   cd bench && npm run build && npx tsx repro/stale-stand-in-copy.ts
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { createCache } from '../lib/sut.js';
import { startRedis, stopAll, type ServerProcess } from '../../test/harness/servers.js';

async function main(): Promise<void> {
  const servers = await Promise.all(Array.from({ length: 5 }, () => startRedis()));
  const cache = await createCache({ backend: 'redis', nodes: servers.map((s) => s.address), health: { retryTimeoutMs: 300, maxRetryTimeoutMs: 600 } }, { env: {} });
  const log = (line: string) => console.log(`${(performance.now() / 1000).toFixed(2)} s ${line}`);
  const out = new Set<string>();
  cache.events.on('node:ejected', ({ node }) => (out.add(node), log(`ejected ${node}`)));
  cache.events.on('node:readmitted', ({ node, invalidatedKeys }) => (out.delete(node), log(`readmitted ${node} (${invalidatedKeys} keys invalidated)`)));
  const keys = Array.from({ length: 5000 }, (_, i) => `key:${i}`);
  const byAddress = (address: string) => servers.find((s) => s.address === address)!;
  /** Reads keys the node owns until it is ejected (bounded). */
  const eject = async (server: ServerProcess) => {
    const owned = keys.filter((k) => cache.nodeFor(k) === server.address).slice(0, 20);
    for (let i = 0; i < 200 && !out.has(server.address); i++) await cache.get(owned[i % owned.length]!);
    if (!out.has(server.address)) throw new Error(`${server.address} was not ejected`);
  };
  const waitBack = async (server: ServerProcess) => {
    for (let i = 0; i < 100 && out.has(server.address); i++) await sleep(100);
    if (out.has(server.address)) throw new Error(`${server.address} did not return`);
  };

  const o = servers[0]!;
  const k = keys.find((key) => cache.nodeFor(key) === o.address)!;
  await cache.set(k, 'W0');
  o.pause();
  await eject(o);
  const s = byAddress(cache.nodeFor(k));
  await cache.set(k, 'W1');
  log(`set(${k}, 'W1') acknowledged by the stand-in ${s.address}`);
  s.pause();
  await eject(s);
  o.resume();
  await waitBack(o);
  await cache.set(k, 'W2');
  log(`set(${k}, 'W2') acknowledged by the owner ${cache.nodeFor(k)}`);
  s.resume();
  await waitBack(s);
  log(`get(${k}) with both back: ${String(await cache.get(k))}`);
  o.pause();
  await eject(o);
  const value = await cache.get<string>(k);
  log(`get(${k}) while the owner is out again, from ${cache.nodeFor(k)}: ${String(value)} (expected W2 or a miss)`);
  o.resume();
  await cache.close();
  process.exitCode = value === 'W1' ? 1 : 0;
}

main()
  .catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(stopAll);
