/**
 * Client-side work per GET, for callgrind (instruction counts do not depend
 * on load or scheduling): the cache from the given dist/ over three nodes on
 * fixed loopback ports (started by hand: redis 7101-7103, memcached
 * 7111-7113), 1,000 keys set, then read `rounds` times in groups of `width`.
 * `dist` is an absolute path. Run twice with different rounds; the difference over the extra GETs is
 * the cost per GET with start-up and JIT warm-up taken out:
 *
 *   valgrind --tool=callgrind node --single-threaded repro/instructions-per-get.mjs "$PWD/../dist" 20 redis 1000
 *   valgrind --tool=callgrind node --single-threaded repro/instructions-per-get.mjs "$PWD/../dist" 220 redis 1000
 */
const [dist, roundsArg, backend = 'redis', widthArg = '1000'] = process.argv.slice(2);
const { createCache } = await import(`${dist}/index.js`);
const ports = backend === 'redis' ? [7101, 7102, 7103] : [7111, 7112, 7113];
const cache = await createCache({ backend, nodes: ports.map((p) => `127.0.0.1:${p}`), timeouts: { getMs: 5000, setMs: 5000, connectMs: 5000 } });
const width = Number(widthArg);
const keys = Array.from({ length: 1000 }, (_, i) => `k:${i}`);
for (const k of keys) await cache.set(k, 'x'.repeat(100), { ttl: 600 });
let hits = 0;
for (let r = 0; r < Number(roundsArg); r++) {
  for (let at = 0; at < keys.length; at += width) {
    const values = await Promise.all(keys.slice(at, at + width).map((k) => cache.get(k)));
    for (const v of values) if (v !== undefined) hits++;
  }
}
console.log(`hits ${hits}`);
await cache.close();
