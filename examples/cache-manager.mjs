// cache-manager 7 (what NestJS's CacheModule uses) over Keyv over shardcache:
// the application keeps cache-manager's API, shardcache spreads the keys over
// the nodes and keeps serving when one fails.
//
//   npm run build && node examples/cache-manager.mjs                       # three in-process nodes
//   SHARDCACHE_BACKEND=memcached SHARDCACHE_NODES=127.0.0.1:11211 node examples/cache-manager.mjs
//
// In NestJS: CacheModule.registerAsync({ useFactory: async () => ({ stores: [keyvStore] }) })
// with keyvStore built as below.
import { createCache as createCacheManager } from 'cache-manager';
import Keyv from 'keyv';
import { createCache } from 'shardcache';
import { KeyvShardcache } from 'shardcache/keyv';

const fromEnvironment = process.env.SHARDCACHE_BACKEND !== undefined;
const shardcache = await createCache(fromEnvironment ? undefined : { backend: 'memory', nodes: ['node-a:1', 'node-b:2', 'node-c:3'] });
const keyvStore = new Keyv({ store: new KeyvShardcache(shardcache), namespace: 'shop' });
const cache = createCacheManager({ stores: [keyvStore], ttl: 60_000 }); // ttl in milliseconds, rounded up to seconds

let databaseCalls = 0;
const productFromDatabase = async (id) => {
  databaseCalls++;
  return { id, name: `product ${id}` };
};

await cache.set('greeting', 'hello');
console.log('get greeting       ->', await cache.get('greeting'));
await cache.mset([{ key: 'a', value: 1 }, { key: 'b', value: 2, ttl: 5_000 }]);
console.log('mget a, b, missing ->', await cache.mget(['a', 'b', 'missing']));
const products = await Promise.all([1, 1, 1].map((id) => cache.wrap(`product:${id}`, () => productFromDatabase(id))));
console.log('wrap x3            ->', products[0], `(database calls: ${databaseCalls})`);
console.log('shardcache reads   ->', shardcache.stats().reads);
await cache.del('greeting');
console.log('after del          ->', await cache.get('greeting'));
await cache.clear(); // drops the 'shop' namespace only, on every node, Memcached included
console.log('after clear        ->', await cache.mget(['a', 'b']));
await cache.disconnect(); // closes shardcache too
