/** `replication` and `warmup`: defaults, the three sources, and what is refused. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadOptions } from '../../../src/config/load.js';
import { ConfigError } from '../../../src/errors.js';

const base = { backend: 'memory' as const, nodes: ['a:1', 'b:1', 'c:1'] };

async function refusal(input: object, env: Record<string, string> = {}): Promise<ConfigError> {
  const error = await loadOptions(input as never, env).then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(ConfigError);
  return error as ConfigError;
}

describe('replication and warmup options', () => {
  it('default to one copy read from its owner, and no warm-up', async () => {
    const options = await loadOptions({ ...base }, {});
    expect(options.replication).toEqual({ copies: 1, reads: 'primary' });
    expect(options.warmup).toEqual({ durationMs: 0, ttlSeconds: 300 });
  });

  it('come from the object, a JSON file, or SHARDCACHE_* variables (the caller winning)', async () => {
    const fromObject = await loadOptions({ ...base, replication: { copies: 2, reads: 'spread' }, warmup: { durationMs: 5000, ttlSeconds: 30 } }, {});
    expect(fromObject.replication).toEqual({ copies: 2, reads: 'spread' });
    expect(fromObject.warmup).toEqual({ durationMs: 5000, ttlSeconds: 30 });
    const env = { SHARDCACHE_REPLICATION_COPIES: '3', SHARDCACHE_REPLICATION_READS: 'spread', SHARDCACHE_WARMUP_DURATION_MS: '1000', SHARDCACHE_WARMUP_TTL_SECONDS: '9' };
    expect((await loadOptions({ ...base }, env)).replication).toEqual({ copies: 3, reads: 'spread' });
    expect((await loadOptions({ ...base, replication: { copies: 2 } }, env)).replication).toEqual({ copies: 2, reads: 'spread' });
    const dir = await mkdtemp(join(tmpdir(), 'shardcache-'));
    try {
      const file = join(dir, 'cache.json');
      await writeFile(file, JSON.stringify({ ...base, replication: { copies: 2 }, warmup: { durationMs: 100 } }));
      const fromFile = await loadOptions(file, {});
      expect(fromFile.replication.copies).toBe(2);
      expect(fromFile.warmup).toEqual({ durationMs: 100, ttlSeconds: 300 });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it.each([
    [{ replication: { copies: 0 } }, 'replication.copies'],
    [{ replication: { copies: 6 } }, 'replication.copies'],
    [{ replication: { copies: 1.5 } }, 'replication.copies'],
    [{ replication: { copies: 4 } }, 'replication.copies'],
    [{ replication: { reads: 'random' } }, 'replication.reads'],
    [{ replication: { replicas: 2 } }, 'replication.replicas'],
    [{ warmup: { durationMs: -1 } }, 'warmup.durationMs'],
    [{ warmup: { ttlSeconds: 0 } }, 'warmup.ttlSeconds'],
    [{ warmup: true }, 'warmup'],
  ])('refuses %j, naming %s', async (extra, option) => {
    const error = await refusal({ ...base, ...extra });
    expect(error.option).toBe(option);
  });

  it('says how many nodes a number of copies needs', async () => {
    expect((await refusal({ ...base, replication: { copies: 4 } })).message).toMatch(/4 copies need at least 4 nodes; 3 configured/);
  });
});
