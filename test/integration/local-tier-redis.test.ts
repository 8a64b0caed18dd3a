/**
 * The local tier on Redis, across processes: process A keeps keys in its
 * local tier; process B changes them in every way the cache offers; A must
 * see each change, through Redis's invalidation pushes (A's ttlMs is far
 * longer than the test). Then the invalidation stream is broken twice (its
 * connection killed, the server hung): A must serve nothing of that node's
 * entries until it has read them again.
 *
 * Every assertion is on what A answers and what its stats say, never on time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CacheProcess, readUntil } from '../harness/cache-process.js';
import { redisCommand, startRedis, stopAll, type ServerProcess } from '../harness/servers.js';

let servers: ServerProcess[];
let a: CacheProcess;
let b: CacheProcess;

beforeAll(async () => {
  servers = await Promise.all([startRedis(), startRedis(), startRedis()]);
  const nodes = servers.map((s) => s.address);
  const timeouts = { getMs: 200, setMs: 200, batchMs: 200, connectMs: 2000 };
  [a, b] = await Promise.all([
    CacheProcess.start({
      backend: 'redis',
      nodes,
      timeouts,
      // A hung node is ejected; it must come back within the test.
      health: { retryTimeoutMs: 300, maxRetryTimeoutMs: 600 },
      namespaceVersionCacheMs: 100,
      local: { ttlMs: 600_000, heartbeatMs: 100 },
    }),
    CacheProcess.start({ backend: 'redis', nodes, timeouts, namespaceVersionCacheMs: 100 }),
  ]);
}, 60_000);

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await stopAll();
});

/** Reads `key` in A twice and checks the second read was answered by A's local tier. */
async function expectHeldByA(key: string, value: unknown): Promise<void> {
  await readUntil(() => a.get(key), (seen) => seen === value, `A reads ${key} = ${JSON.stringify(value)}`);
  const before = (await a.stats()).local!;
  expect(await a.get(key)).toBe(value);
  const after = (await a.stats()).local!;
  expect(after.hits, `A's second read of ${key} comes from its local tier`).toBe(before.hits + 1);
}

describe('local tier on Redis: another process changes a key', () => {
  it('A sees B overwrite, delete and expire it', async () => {
    await b.set('lt:k', 'v1');
    await expectHeldByA('lt:k', 'v1');
    await b.set('lt:k', 'v2');
    await readUntil(() => a.get('lt:k'), (v) => v === 'v2', 'A sees the overwrite');
    await expectHeldByA('lt:k', 'v2');
    await b.call('del', 'lt:k');
    await readUntil(() => a.get('lt:k'), (v) => v === undefined, 'A sees the delete');

    await b.set('lt:k', 'short', 1);
    await expectHeldByA('lt:k', 'short');
    await readUntil(() => a.get('lt:k'), (v) => v === undefined, 'A sees the server expire it');
    expect((await a.stats()).local!.invalidations).toBeGreaterThanOrEqual(3);
  });

  it('A sees B invalidate by pattern, invalidate a namespace and clear', async () => {
    await b.set('lt:p:1', 'p');
    await expectHeldByA('lt:p:1', 'p');
    await b.call('invalidate', 'lt:p:*');
    await readUntil(() => a.get('lt:p:1'), (v) => v === undefined, 'A sees invalidate(pattern)');

    await b.call('namespaceSet', 'users', '1', 'ada');
    await readUntil(() => a.call('namespaceGet', 'users', '1'), (v) => v === 'ada', 'A reads the namespaced key');
    await b.call('invalidateNamespace', 'users');
    await readUntil(() => a.call('namespaceGet', 'users', '1'), (v) => v === undefined, 'A sees invalidateNamespace');

    await b.set('lt:c', 'c');
    await expectHeldByA('lt:c', 'c');
    await b.call('clear');
    await readUntil(() => a.get('lt:c'), (v) => v === undefined, 'A sees clear (a null invalidation)');
  });
});

describe('local tier on Redis: the invalidation stream breaks', () => {
  /** Keys on `server`'s node, each held by A. */
  async function keysHeldOn(server: ServerProcess, count: number): Promise<string[]> {
    const keys: string[] = [];
    for (let i = 0; keys.length < count && i < 1000; i++) {
      const key = `lt:node:${i}`;
      if ((await a.call('nodeFor', key)) === server.address) keys.push(key);
    }
    for (const key of keys) {
      await b.set(key, `v:${key}`);
      await expectHeldByA(key, `v:${key}`);
    }
    return keys;
  }

  it('CLIENT KILL of the invalidation connection: nothing of that node is served from the tier until re-read', async () => {
    const victim = servers[0]!;
    const keys = await keysHeldOn(victim, 3);
    const held = (await a.stats()).local!.entries;
    await redisCommand(victim, 'CLIENT', 'KILL', 'TYPE', 'pubsub');
    await readUntil(() => a.stats(), (stats) => stats.local!.entries <= held - keys.length, "A drops the node's entries");
    for (const key of keys) {
      const before = (await a.stats()).local!;
      expect(await a.get(key)).toBe(`v:${key}`);
      expect((await a.stats()).local!.hits, `${key} read from the server, not the tier`).toBe(before.hits);
    }
    // Tracking comes back: the keys are kept (and invalidated) again.
    await readUntil(() => a.stats(), (stats) => stats.local!.untrackedNodes.length === 0, 'A tracks the node again');
    await expectHeldByA(keys[0]!, `v:${keys[0]}`);
    await b.set(keys[0]!, 'after-kill');
    await readUntil(() => a.get(keys[0]!), (v) => v === 'after-kill', 'A sees a write after tracking is back');
  });

  it('SIGSTOP of the node: its entries are not served; after SIGCONT they are read again', async () => {
    const victim = servers[1]!;
    const keys = await keysHeldOn(victim, 3);
    const held = (await a.stats()).local!.entries;
    victim.pause();
    try {
      await readUntil(() => a.stats(), (stats) => stats.local!.untrackedNodes.includes(victim.address), 'A notices the hung node (heartbeat)');
      expect((await a.stats()).local!.entries).toBeLessThanOrEqual(held - keys.length);
      for (const key of keys) {
        const before = (await a.stats()).local!;
        // The node is hung: the read fails (a miss) or its stand-in answers (a miss); never the tier's copy.
        expect(await a.get(key)).toBeUndefined();
        expect((await a.stats()).local!.hits).toBe(before.hits);
      }
    } finally {
      victim.resume();
    }
    await readUntil(() => a.stats(), (stats) => stats.local!.untrackedNodes.length === 0, 'A tracks the node again after SIGCONT');
    await b.set(keys[0]!, 'after-stop');
    await expectHeldByA(keys[0]!, 'after-stop');
  });
});

describe('local tier on Redis: a read racing a write', () => {
  it('never keeps the value a racing write replaced (the placeholder closes the reply/invalidation race)', async () => {
    const { createCache } = await import('../../src/index.js');
    const { Redis } = await import('ioredis');
    const reader = await createCache(
      { backend: 'redis', nodes: servers.map((s) => s.address), timeouts: { getMs: 500, setMs: 500, batchMs: 500 }, local: { ttlMs: 600_000 } },
      { env: {} },
    );
    const owner = servers.find((s) => s.address === reader.nodeFor('race:key'))!;
    const writer = new Redis({ host: owner.host, port: owner.port, protocol: 2 });
    try {
      await readUntil(async () => reader.health().local!.untrackedNodes.length, (n) => n === 0, 'the reader tracks every node');
      for (let i = 1; i <= 100; i++) {
        // The read and the write cross at the server in either order; whatever the reader keeps must not outlive the write.
        await Promise.all([reader.get('race:key'), writer.set('race:key', `w${i}`)]);
        await readUntil(() => reader.get('race:key'), (v) => v === `w${i}`, `the reader sees write ${i}`);
      }
      expect(reader.stats().local!.hits).toBeGreaterThan(0);
    } finally {
      writer.disconnect();
      await reader.close();
    }
  });
});
