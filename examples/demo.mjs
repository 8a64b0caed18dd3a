// The main job: shardcache on in-process nodes, no server needed.
// Shows key placement, what moves when a node leaves, an mget, a
// read-through getOrLoad from a (fake) database, and a node that hangs:
// deadlines, ejection, fallback to the database, and the node's return.
// Run: npm run demo
import { once } from 'node:events';
import { createCache } from 'shardcache';
import { pauseMemoryNode, resumeMemoryNode } from 'shardcache/testing';

const NODES = Array.from({ length: 10 }, (_, i) => `cache-${i}.internal:11211`);
const SAMPLE = 100_000;
const sampleKeys = Array.from({ length: SAMPLE }, (_, i) => `user:${i}`);

const title = (text) => console.log(`\n== ${text}`);
const pct = (part, whole) => `${((100 * part) / whole).toFixed(2)}%`;

const cache = await createCache({
  // Required, never guessed: 'memory' makes in-process nodes, and the
  // addresses below only name them (nothing is dialled). 'redis' or
  // 'memcached' here, with real addresses, is the only change for servers.
  backend: 'memory',
  nodes: NODES,
  ring: { hashTag: '{}' },
  defaultTtlSeconds: 300,
  health: { retryTimeoutMs: 500 }, // probe an ejected node after 0.5 s (default 30 s)
});

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
let databaseCalls = 0; // counts every load in this demo
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

title('A node hangs: deadlines, ejection, fallback to the database, return');
const products = Array.from({ length: 40 }, (_, i) => `product:${i}`);
const loadFromDatabase = (key) => async () => {
  databaseCalls++;
  return { id: key, name: `item ${key}` };
};
for (const key of products) await cache.getOrLoad(key, loadFromDatabase(key));
const hung = cache.nodeFor('product:7');
const onHungNode = products.filter((key) => cache.nodeFor(key) === hung);
console.log(`  ${onHungNode.length} of ${products.length} products live on ${hung}; it stops answering (like SIGSTOP)`);
cache.events.on('node:ejected', ({ node, consecutiveFailures }) => console.log(`  event node:ejected ${node} after ${consecutiveFailures} missed deadlines`));
cache.events.on('node:readmitted', ({ node, outMs }) => console.log(`  event node:readmitted ${node} after ${Math.round(outMs)} ms out`));
pauseMemoryNode(cache, hung);

databaseCalls = 0;
for (const round of [1, 2]) {
  const started = performance.now();
  const answers = await Promise.all(onHungNode.map((key) => cache.getOrLoad(key, loadFromDatabase(key))));
  const ms = performance.now() - started;
  console.log(`  round ${round}: ${answers.length} reads answered in ${ms.toFixed(1)} ms, database calls so far ${databaseCalls}, product:7 now on ${cache.nodeFor('product:7')}`);
}
console.log(`  no read failed: misses and timeouts became database reads (cache stats: ${JSON.stringify(cache.stats().reads)})`);

const readmitted = once(cache.events, 'node:readmitted');
resumeMemoryNode(cache, hung);
// Probe timers do not keep a process alive; this bounded wait does.
const keepAlive = setTimeout(() => console.log('  (no readmission within 5 s)'), 5000);
await readmitted;
clearTimeout(keepAlive);
console.log(`  product:7 is back on ${cache.nodeFor('product:7')}`);

await cache.close();
console.log('\ndone');
