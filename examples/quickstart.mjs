// The quickstart program. It is the same whatever the backend: only the
// options passed to createCache differ (see quickstart-*.mjs).
import { createCache } from 'shardcache';

export async function quickstart(options) {
  const cache = await createCache(options);
  try {
    await cache.set('user:1', { id: 1, name: 'Ada' }, { ttl: 60 });
    console.log('get user:1     ->', await cache.get('user:1'), 'from', cache.nodeFor('user:1'));

    await cache.mset([['greeting', 'hello'], ['avatar', Buffer.from([0x89, 0x50, 0x4e, 0x47])], ['count', 3]], { ttl: 60 });
    console.log('mget           ->', await cache.mget(['greeting', 'avatar', 'missing', 'count']));

    const fromDatabase = async () => ({ id: 7, name: 'Teapot' });
    console.log('getOrLoad      ->', await cache.getOrLoad('product:7', fromDatabase, { ttl: 300 }));

    console.log('del user:1     ->', await cache.del('user:1'), '; then get ->', await cache.get('user:1'));
  } finally {
    await cache.close();
  }
}
