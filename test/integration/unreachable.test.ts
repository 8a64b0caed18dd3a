/**
 * A node that refuses connections: createCache still succeeds, reads are
 * misses, writes reject with a typed error, close() leaves nothing running.
 */
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createCache, ShardcacheError } from '../../src/index.js';

async function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

describe.each(['redis', 'memcached'] as const)('%s node refusing connections', (backend) => {
  it('reads miss, writes reject typed, close() is clean', async () => {
    const cache = await createCache({ backend, nodes: [`127.0.0.1:${await closedPort()}`], timeouts: { getMs: 500, setMs: 500, batchMs: 500, connectMs: 500 } }, { env: {} });
    expect(await cache.get('k')).toBeUndefined();
    expect(await cache.mget(['a', 'b'])).toEqual([undefined, undefined]);
    expect(await cache.getOrLoad('k', () => 'from db')).toBe('from db');
    const error = await cache.set('k', 1).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ShardcacheError);
    await cache.close();
  });
});
