/**
 * The local tier follows `setNodes` on Redis: a node that joins gets its
 * invalidation stream before anything it answers is kept, so another
 * process's write of one of its keys reaches this process's tier (not only
 * after `ttlMs`); a node that leaves has its stream closed.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createCache, type ShardedCache } from '../../src/index.js';
import { expectNothingLeftOpen, openHandles, type HandleCounts } from '../harness/handles.js';
import { startRedis, stopAll, type ServerProcess } from '../harness/servers.js';

const POLLS = 200;
let servers: ServerProcess[];
let caches: ShardedCache[] = [];
let handlesBefore: HandleCounts;

beforeAll(async () => {
  servers = await Promise.all([startRedis(), startRedis(), startRedis()]);
});
afterAll(stopAll);
afterEach(async () => {
  await Promise.all(caches.map((cache) => cache.close()));
  caches = [];
  await expectNothingLeftOpen(handlesBefore);
});

async function until(check: () => boolean | Promise<boolean>): Promise<void> {
  for (let poll = 0; poll < POLLS && !(await check()); poll++) await new Promise((resolve) => setTimeout(resolve, 25));
}

describe('local tier and setNodes (Redis)', () => {
  it("a joining node's keys are invalidated by another process's writes; a leaving node's stream is closed", async () => {
    handlesBefore = openHandles();
    const all = servers.map((s) => s.address);
    // A long ttlMs: only an invalidation can make the tier read the new value in time.
    const local = await createCache({ backend: 'redis', nodes: all.slice(0, 2), local: { ttlMs: 60_000 }, timeouts: { getMs: 500, setMs: 500 } }, { env: {} });
    const other = await createCache({ backend: 'redis', nodes: all, timeouts: { getMs: 500, setMs: 500 } }, { env: {} });
    caches.push(local, other);
    await local.setNodes(all);
    const key = Array.from({ length: 500 }, (_, i) => `joined:${i}`).find((k) => local.nodeFor(k) === all[2])!;
    await until(() => local.stats().local!.untrackedNodes.length === 0);
    expect(local.stats().local!.untrackedNodes).toEqual([]);

    await other.set(key, 'v1');
    expect(await local.get(key)).toBe('v1');
    expect(await local.get(key)).toBe('v1');
    const hitsBefore = local.stats().local!.hits;
    expect(hitsBefore).toBeGreaterThan(0);
    await other.set(key, 'v2');
    let seen: unknown;
    await until(async () => (seen = await local.get(key)) === 'v2');
    expect(seen).toBe('v2');

    await local.setNodes(all.slice(0, 2));
    expect(local.stats().local!.untrackedNodes).toEqual([]);
  });
});
