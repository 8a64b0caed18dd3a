// 1,000,000 distinct keys through a local tier of maxBytes 8 MiB, in a
// process of its own started with --expose-gc, so the heap it reports is
// what is retained (collected before each sample), not garbage not yet
// collected. Prints one JSON line. Imports the built package.
import { createCache } from '../../dist/index.js';

const KEYS = 1_000_000;
const BATCH = 5000;
const MAX_BYTES = 8 * 1024 * 1024;
const SAMPLES_EVERY = 10;

const cache = await createCache(
  { backend: 'memory', nodes: ['a:1', 'b:1', 'c:1'], memory: { maxEntriesPerNode: 10_000 }, local: { maxEntries: 1_000_000, maxBytes: MAX_BYTES, ttlMs: 600_000 } },
  { env: {} },
);
const retained = () => {
  globalThis.gc();
  return process.memoryUsage().heapUsed;
};
const heapBefore = retained();
let largestBytes = 0;
let largestHeap = 0;
let overBound = 0;
let wrongValues = 0;
for (let start = 0, batch = 0; start < KEYS; start += BATCH, batch++) {
  const keys = Array.from({ length: BATCH }, (_, i) => `bound:${start + i}`);
  await cache.mset(keys.map((key) => [key, `${key}:${'x'.repeat(48)}`]));
  const values = await cache.mget(keys);
  if (values[BATCH - 1] !== `${keys[BATCH - 1]}:${'x'.repeat(48)}`) wrongValues++;
  const { bytes } = cache.stats().local;
  largestBytes = Math.max(largestBytes, bytes);
  if (bytes > MAX_BYTES) overBound++;
  if (batch % SAMPLES_EVERY === 0) largestHeap = Math.max(largestHeap, retained());
}
largestHeap = Math.max(largestHeap, retained());
const local = cache.stats().local;
await cache.close();
console.log(JSON.stringify({ keys: KEYS, maxBytes: MAX_BYTES, largestBytes, overBound, wrongValues, heapBefore, largestHeap, ...local }));
