/**
 * Error replies from real Redis servers that mean "cannot serve now" count
 * against the node (a read answers a miss; the failure is counted), while
 * errors about the request do not: a read-only replica (READONLY) and a
 * server busy running a script (BUSY), against a wrong-type value.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCache, NodeError, type ShardcacheOptions } from '../../src/index.js';
import { redisCommand, respCommand, startRedis, stopAll, type ServerProcess } from '../harness/servers.js';

const OPTIONS: Omit<ShardcacheOptions, 'backend' | 'nodes'> = {
  timeouts: { getMs: 1000, setMs: 1000, batchMs: 1000, connectMs: 1000, getRetries: 0 },
  // Never ejected here: the test reads the failure count itself.
  health: { failureLimit: 100, maxEjectedFraction: 0 },
};

let primary: ServerProcess;
let replica: ServerProcess;

beforeAll(async () => {
  [primary, replica] = await Promise.all([startRedis(), startRedis()]);
  await redisCommand(replica, 'REPLICAOF', primary.host, String(primary.port));
});
afterAll(stopAll);

describe('redis error replies from real servers', () => {
  it('READONLY from a replica counts against the node; WRONGTYPE does not', async () => {
    const cache = await createCache({ backend: 'redis', nodes: [replica.address], ...OPTIONS }, { env: {} });
    try {
      const error = await cache.set('k', 'v').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(NodeError);
      expect((error as NodeError).reason).toBe('server');
      expect((error as NodeError).message).toContain('READONLY');
      expect(cache.stats().nodes[0]!.consecutiveFailures).toBe(1);
    } finally {
      await cache.close();
    }
    const onPrimary = await createCache({ backend: 'redis', nodes: [primary.address], ...OPTIONS }, { env: {} });
    try {
      // A namespace whose version key holds a list: the counter's INCRBY is answered WRONGTYPE.
      await redisCommand(primary, 'LPUSH', 'listy:__version', 'x');
      const error = await onPrimary.invalidateNamespace('listy').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(NodeError);
      expect((error as NodeError).reason).toBe('rejected');
      expect(onPrimary.stats().nodes[0]!.consecutiveFailures).toBe(0);
    } finally {
      await onPrimary.close();
    }
  });

  it('BUSY while a script runs counts against the node and the read is a miss', async () => {
    await redisCommand(primary, 'CONFIG', 'SET', 'busy-reply-threshold', '20');
    const cache = await createCache({ backend: 'redis', nodes: [primary.address], ...OPTIONS }, { env: {} });
    // A script that never ends, on a raw socket: the server answers every other client -BUSY until SCRIPT KILL.
    const looping = connect(primary.port, primary.host);
    try {
      await cache.set('busy:k', 'v');
      looping.write(respCommand('EVAL', 'while true do end', '0'));
      let value: unknown = 'unread';
      let failures = 0;
      for (let attempt = 0; attempt < 50 && failures === 0; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        value = await cache.get('busy:k');
        failures = cache.stats().nodes[0]!.consecutiveFailures;
      }
      expect(failures).toBe(1);
      expect(value).toBeUndefined();
      expect(cache.stats().reads.failures).toBe(1);
    } finally {
      await redisCommand(primary, 'SCRIPT', 'KILL').catch(() => undefined);
      looping.destroy();
      await cache.close();
    }
  });
});
