/** `ring.algorithm: 'maglev'` and `ring.tableSize`: by object, JSON file and env, validated, and a cache that uses them. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadOptions } from '../../../src/config/load.js';
import { createCache } from '../../../src/create-cache.js';
import { ConfigError } from '../../../src/errors.js';

const base = { backend: 'memory' as const, nodes: ['a:1', 'b:1:2'] };

async function rejected(promise: Promise<unknown>): Promise<ConfigError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(ConfigError);
  return error as ConfigError;
}

describe('maglev ring options', () => {
  const dir = mkdtemp(join(tmpdir(), 'shardcache-ring-'));
  afterAll(async () => rm(await dir, { recursive: true, force: true }));

  it('takes maglev and a table size by object, JSON file and env', async () => {
    const byObject = await loadOptions({ ...base, ring: { algorithm: 'maglev', tableSize: 1_009 } }, {});
    expect(byObject.ring).toMatchObject({ algorithm: 'maglev', tableSize: 1_009 });
    const path = join(await dir, 'cache.json');
    await writeFile(path, JSON.stringify({ ...base, ring: { algorithm: 'maglev', tableSize: 65_537 } }));
    expect((await loadOptions(path, {})).ring).toMatchObject({ algorithm: 'maglev', tableSize: 65_537 });
    const byEnv = await loadOptions(undefined, { SHARDCACHE_BACKEND: 'memory', SHARDCACHE_NODES: 'a:1,b:1', SHARDCACHE_RING_ALGORITHM: 'maglev', SHARDCACHE_RING_TABLE_SIZE: '131101' });
    expect(byEnv.ring).toMatchObject({ algorithm: 'maglev', tableSize: 131_101 });
    expect((await loadOptions(base, {})).ring.tableSize).toBe(262_147);
  });

  it.each([
    [{ tableSize: 65_536 }, 'a prime'],
    [{ tableSize: 997 }, 'a prime from 1009'],
    [{ tableSize: 16_777_259 }, 'a prime from 1009'],
    [{ tableSize: '65537' }, 'a prime'],
    [{ tableSize: 1.5 }, 'a prime'],
  ])('rejects ring %j', async (ring, message) => {
    const error = await rejected(loadOptions({ ...base, ring: { algorithm: 'maglev', ...(ring as object) } }, {}));
    expect(error.option).toBe('ring.tableSize');
    expect(error.message).toContain(message);
  });

  it('refuses a table under 100 slots per node, naming the size to take', async () => {
    const nodes = Array.from({ length: 20 }, (_, i) => `n${i}:1`);
    const error = await rejected(loadOptions({ backend: 'memory', nodes, ring: { algorithm: 'maglev', tableSize: 1_009 } }, {}));
    expect(error.message).toContain('at least 2000');
    const many = Array.from({ length: 3_000 }, (_, i) => `n${i}:1`);
    expect((await rejected(loadOptions({ backend: 'memory', nodes: many, ring: { algorithm: 'maglev' } }, {}))).option).toBe('ring.tableSize');
    // The per-node rule is maglev's: other modes ignore the table.
    expect((await loadOptions({ backend: 'memory', nodes: many }, {})).ring.algorithm).toBe('ketama');
  });

  it('rejects a malformed env value, naming the variable', async () => {
    const error = await rejected(loadOptions(undefined, { SHARDCACHE_BACKEND: 'memory', SHARDCACHE_NODES: 'a:1', SHARDCACHE_RING_TABLE_SIZE: 'big' }));
    expect(error.option).toBe('SHARDCACHE_RING_TABLE_SIZE');
  });

  it('builds a working cache on a maglev ring', async () => {
    const cache = await createCache({ ...base, ring: { algorithm: 'maglev', tableSize: 1_009 } }, { env: {} });
    try {
      const keys = Array.from({ length: 300 }, (_, i) => `k${i}`);
      await cache.mset(keys.map((key, i) => [key, i]));
      expect(await cache.mget(keys)).toEqual(keys.map((_, i) => i));
      const owners = new Set(keys.map((key) => cache.nodeFor(key)));
      expect(owners).toEqual(new Set(['a:1', 'b:1']));
    } finally {
      await cache.close();
    }
  });
});
