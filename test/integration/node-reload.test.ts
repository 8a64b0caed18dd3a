/**
 * examples/node-reload.mjs: a real SIGHUP to this process reloads the node
 * list from the config file the cache was created from; a bad file leaves
 * the pool as it was.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { reloadNodesOnSignal } from '../../examples/node-reload.mjs';
import { createCache, type ShardedCache } from '../../src/index.js';

let dir: string;
let cache: ShardedCache;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shardcache-reload-'));
});
afterEach(async () => {
  await cache.close();
  await rm(dir, { recursive: true, force: true });
});

const config = (nodes: unknown) => JSON.stringify({ backend: 'memory', nodes, warmup: { durationMs: 60_000 } });

describe('reloading nodes on SIGHUP (example)', () => {
  it('applies the file nodes on the signal, and keeps the pool when the file is bad', async () => {
    const path = join(dir, 'cache.json');
    await writeFile(path, config(['a:1', 'b:1', 'c:1']));
    cache = await createCache(path, { env: {} });
    const lines: string[] = [];
    let onLine: (() => void) | undefined;
    const logged = () => new Promise<void>((resolve) => (onLine = resolve));
    const reloading = reloadNodesOnSignal(cache, path, {
      log: (line) => {
        lines.push(line);
        onLine?.();
      },
    });
    try {
      await writeFile(path, config(['a:1', 'b:1', 'c:1', 'd:1']));
      let next = logged();
      process.kill(process.pid, 'SIGHUP');
      await next;
      expect(lines.at(-1)).toMatch(/1 added, 0 removed, 0 re-weighted/);
      expect(cache.stats().nodes.map((node) => node.address).sort()).toEqual(['a:1', 'b:1', 'c:1', 'd:1']);

      await writeFile(path, config(['a:1', 'a:1']));
      next = logged();
      process.kill(process.pid, 'SIGHUP');
      await next;
      expect(lines.at(-1)).toMatch(/not reloaded .*duplicate node a:1/);
      expect(cache.stats().nodes).toHaveLength(4);
    } finally {
      reloading.stop();
    }
    expect(process.listenerCount('SIGHUP')).toBe(0);
  });
});
