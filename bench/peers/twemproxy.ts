/**
 * twemproxy in front of the same servers, read through the fastest client we
 * have for each protocol: ioredis (see ioredis.ts) for Redis, and for
 * Memcached the pipelined ASCII client in lib/memcached-ascii.ts (twemproxy
 * speaks only the ASCII protocol; memjs only the binary one). A multi-key
 * read is one `get k1 k2 ...`, which twemproxy splits per server and merges.
 */
import { AsciiMemcachedClient } from '../lib/memcached-ascii.js';
import { withTimeout } from '../lib/compare.js';
import { hostPort, type Peer } from './peer.js';

export async function asciiProxyPeer(name: string, proxyAddress: string): Promise<Peer> {
  const { host, port } = hostPort(proxyAddress);
  const client = new AsciiMemcachedClient(host, port);
  await withTimeout(client.ready, 10_000, 'connect to twemproxy');
  return {
    name,
    get: (key) => client.get(key),
    mget: (keys) => client.getMulti(keys),
    async teardown() {
      client.close();
    },
  };
}
