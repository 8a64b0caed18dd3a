/**
 * `shardcache/keyv`: the Keyv 5 storage adapter, for Keyv, cache-manager 7
 * and NestJS's cache module. Keyv itself is the application's dependency;
 * this entry point does not import it.
 */
export { KeyvShardcache, type KeyvCacheTarget, type KeyvShardcacheOptions } from './keyv/keyv-shardcache.js';
