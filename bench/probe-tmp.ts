import { keys, valueOf } from '/work/wt-replication/bench/lib/fixtures.js';
import { createCache } from '/work/wt-replication/bench/lib/sut.js';
const nodes = ['a:1', 'b:1', 'c:1'];
const ks = keys(2000);
const caches = { 1: await createCache({ backend: 'memory', nodes }, { env: {} }), 2: await createCache({ backend: 'memory', nodes, replication: { copies: 2 } }, { env: {} }) } as const;
for (let rep = 0; rep < 4; rep++) for (const copies of [1, 2] as const) {
  const c = caches[copies];
  let t = performance.now();
  for (let i = 0; i < 20000; i++) { const k = ks[i % 2000]!; await c.set(k, 'x'); }
  const setUs = (performance.now() - t) / 20000 * 1000;
  t = performance.now();
  for (let r = 0; r < 200; r++) await Promise.all(ks.slice(r % 19 * 100, r % 19 * 100 + 100).map((k) => c.get(k)));
  const getRate = 20000 / ((performance.now() - t) / 1000);
  t = performance.now();
  for (let r = 0; r < 500; r++) await c.mget(ks.slice(r % 19 * 100, r % 19 * 100 + 100));
  const mgetRate = 500 / ((performance.now() - t) / 1000);
  console.log(copies, 'set us', setUs.toFixed(2), 'get/s', getRate.toFixed(0), 'mget/s', mgetRate.toFixed(0));
}
for (const c of Object.values(caches)) await c.close();
