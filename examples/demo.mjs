// The main job: shardcache on in-process nodes, no server needed.
// Shows key placement, what moves when a node leaves, an mget, and a
// read-through getOrLoad from a (fake) database.  Run: npm run demo
import { createCache } from 'shardcache';

const NODES = Array.from({ length: 10 }, (_, i) => `cache-${i}.internal:11211`);
const SAMPLE = 100_000;
const sampleKeys = Array.from({ length: SAMPLE }, (_, i) => `user:${i}`);

const title = (text) => console.log(`\n== ${text}`);
const pct = (part, whole) => `${((100 * part) / whole).toFixed(2)}%`;

const cache = await createCache({ backend: 'memory', nodes: NODES, ring: { hashTag: '{}' }, defaultTtlSeconds: 300 });

title('Key placement (ketama, libmemcached-compatible; hash tag {} keeps cart:{42}:* together)');
for (const key of ['user:1', 'user:2', 'session:9f2c', 'cart:{42}:items', 'cart:{42}:total']) {
  console.log(`  ${key.padEnd(18)} -> ${cache.nodeFor(key)}`);
}
const perNode = new Map(NODES.map((node) => [node, 0]));
const ownerBefore = sampleKeys.map((key) => cache.nodeFor(key));
for (const owner of ownerBefore) perNode.set(owner, perNode.get(owner) + 1);
console.log(`  ${SAMPLE} keys over ${NODES.length} nodes:`);
for (const [node, count] of perNode) console.log(`    ${node.padEnd(26)} ${String(count).padStart(6)}  ${pct(count, SAMPLE)}`);

title('A node leaves the pool');
const leaving = NODES[3];
const smaller = await createCache({ backend: 'memory', nodes: NODES.filter((node) => node !== leaving), ring: { hashTag: '{}' } });
let moved = 0;
let movedBetweenSurvivors = 0;
sampleKeys.forEach((key, i) => {
  const now = smaller.nodeFor(key);
  if (now !== ownerBefore[i]) {
    moved++;
    if (ownerBefore[i] !== leaving) movedBetweenSurvivors++;
  }
});
console.log(`  removed ${leaving}`);
console.log(`  keys moved: ${moved} of ${SAMPLE} = ${pct(moved, SAMPLE)} (ideal ${pct(1, NODES.length)}: only the leaving node's keys)`);
console.log(`  keys moved between surviving nodes: ${movedBetweenSurvivors}`);
await smaller.close();

title('set, then mget across nodes (one round trip per node)');
await cache.mset([
  ['user:1', { id: 1, name: 'Ada' }],
  ['user:2', { id: 2, name: 'Grace' }],
  ['user:3', { id: 3, name: 'Edsger' }],
]);
const keys = ['user:1', 'user:2', 'user:404', 'user:3'];
const values = await cache.mget(keys);
keys.forEach((key, i) => console.log(`  ${key.padEnd(9)} @ ${cache.nodeFor(key).padEnd(24)} = ${JSON.stringify(values[i])}`));

title('getOrLoad: read-through from the database');
const database = new Map([['product:7', { id: 7, name: 'Teapot', price: 18 }]]);
let databaseCalls = 0;
const loadProduct = async () => {
  databaseCalls++;
  await new Promise((resolve) => setTimeout(resolve, 25));
  return database.get('product:7');
};
const concurrent = await Promise.all(Array.from({ length: 20 }, () => cache.getOrLoad('product:7', loadProduct, { ttl: 60 })));
console.log(`  20 concurrent readers got ${JSON.stringify(concurrent[0])}`);
console.log(`  database calls: ${databaseCalls} (concurrent loads of one key are coalesced)`);
await new Promise((resolve) => setTimeout(resolve, 10)); // the write-back is best effort, off the reader's path
await cache.getOrLoad('product:7', loadProduct, { ttl: 60 });
console.log(`  after write-back, another read: database calls still ${databaseCalls}`);

await cache.close();
console.log('\ndone');
