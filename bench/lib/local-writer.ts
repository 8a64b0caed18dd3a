/**
 * The other process of the invalidation-delay benchmark (bench/local-tier.ts):
 * it writes one key again and again with a sequence number and, once each
 * write is acknowledged, tells the parent when (epoch milliseconds, high
 * resolution, comparable across processes). Between writes it keeps busy
 * with other reads and writes, as a service would. Bounded by the count the
 * parent gives.
 */
import { createCache } from './sut.js';

const [nodesArg, countArg, spacingArg] = process.argv.slice(2);
const nodes = nodesArg!.split(',');
const count = Number(countArg);
const spacingMs = Number(spacingArg);
const cache = await createCache({ backend: 'redis', nodes, timeouts: { getMs: 500, setMs: 500, batchMs: 500 } }, { env: {} });
const now = () => performance.timeOrigin + performance.now();

for (let seq = 1; seq <= count; seq++) {
  const busyUntil = performance.now() + spacingMs;
  for (let i = 0; performance.now() < busyUntil && i < 10_000; i++) {
    await cache.set(`busy:${i % 100}`, i);
    await cache.get(`busy:${(i * 7) % 100}`);
  }
  await cache.set('invalidation:key', seq);
  process.send!({ seq, ackAt: now() });
}
await cache.close();
process.send!({ done: true });
