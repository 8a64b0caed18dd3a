import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadOptions } from '../../../src/config/load.js';
import { ConfigError } from '../../../src/errors.js';

const noEnv = {};
const memory = { backend: 'memory' } as const;

async function rejection(promise: Promise<unknown>): Promise<ConfigError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(ConfigError);
  return error as ConfigError;
}

describe('node specs', () => {
  it('parses host:port, host:port:weight, IPv6 and objects', async () => {
    const options = await loadOptions({ ...memory, nodes: ['10.0.0.1:11211', 'cache-b:11212:3', '[::1]:6379', { host: '10.0.0.9', port: 1, weight: 2, name: 'n9' }] }, noEnv);
    expect(options.nodes).toEqual([
      { host: '10.0.0.1', port: 11211, weight: 1, name: undefined, address: '10.0.0.1:11211' },
      { host: 'cache-b', port: 11212, weight: 3, name: undefined, address: 'cache-b:11212' },
      { host: '::1', port: 6379, weight: 1, name: undefined, address: '[::1]:6379' },
      { host: '10.0.0.9', port: 1, weight: 2, name: 'n9', address: '10.0.0.9:1' },
    ]);
  });

  it.each([
    [['10.0.0.1'], 'nodes[0]'],
    [['10.0.0.1:0'], 'nodes[0]'],
    [['10.0.0.1:70000'], 'nodes[0]'],
    [['10.0.0.1:11211:0'], 'nodes[0]'],
    [['10.0.0.1:11211:-2'], 'nodes[0]'],
    [['10.0.0.1:11211:1.5'], 'nodes[0]'],
    [['a:1', 'a:1'], 'nodes[1]'],
    [['a:1', { host: 'a', port: 1 }], 'nodes[1]'],
    [[{ host: 'a', port: 1, weigth: 2 }], 'nodes[0].weigth'],
    [[{ host: '', port: 1 }], 'nodes[0].host'],
    [[{ host: 'a', port: 1, name: 'x' }, { host: 'b', port: 1, name: 'x' }], 'nodes[1].name'],
    [[], 'nodes'],
    ['a:1', 'nodes'],
  ])('rejects %j naming %s', async (nodes, option) => {
    const error = await rejection(loadOptions({ ...memory, nodes: nodes as never }, noEnv));
    expect(error.option).toBe(option);
    expect(error.code).toBe('SHARDCACHE_CONFIG');
  });

  it('names the value it rejected', async () => {
    const error = await rejection(loadOptions({ ...memory, nodes: ['a:1:zero'] }, noEnv));
    expect(error.message).toContain('"a:1:zero"');
  });
});

describe('options', () => {
  it('fills documented defaults', async () => {
    const options = await loadOptions({ ...memory, nodes: ['a:1'] }, noEnv);
    expect(options).toMatchObject({
      backend: 'memory',
      ring: { algorithm: 'ketama', compat: 'libmemcached', keyHash: 'md5', hashTag: undefined, pointsPerServer: 160 },
      timeouts: { getMs: 10, setMs: 10, batchMs: 50, connectMs: 5000 },
      defaultTtlSeconds: 0,
    });
  });

  it.each([
    [{ backend: 'mongo' }, 'backend'],
    [{ colour: 'red' }, 'colour'],
    [{ ring: { algorithm: 'crc32' } }, 'ring.algorithm'],
    [{ ring: { compat: 'libketama' } }, 'ring.compat'],
    [{ ring: { hashTag: '{' } }, 'ring.hashTag'],
    [{ ring: 'ketama' }, 'ring'],
    [{ timeouts: { getMs: 0 } }, 'timeouts.getMs'],
    [{ timeouts: { getMs: '10' } }, 'timeouts.getMs'],
    [{ timeouts: { getMS: 10 } }, 'timeouts.getMS'],
    [{ defaultTtlSeconds: -1 }, 'defaultTtlSeconds'],
    [{ codec: { encode: 1 } }, 'codec'],
    [{ codec: 'json' }, 'codec'],
  ])('rejects %j naming %s', async (extra, option) => {
    const error = await rejection(loadOptions({ ...memory, nodes: ['a:1'], ...(extra as object) }, noEnv));
    expect(error.option).toBe(option);
  });

  it('never writes into the caller object', async () => {
    const given = Object.freeze({ ...memory, nodes: Object.freeze(['a:1']), ring: Object.freeze({ hashTag: '{}' }) });
    const options = await loadOptions(given as never, { SHARDCACHE_RING_ALGORITHM: 'fast' });
    expect(options.ring).toMatchObject({ hashTag: '{}', algorithm: 'fast' });
    expect(given).toEqual({ ...memory, nodes: ['a:1'], ring: { hashTag: '{}' } });
  });
});

describe('codec', () => {
  it.each(['default', 'raw', 'legacy'] as const)("takes the name '%s', from the options or SHARDCACHE_CODEC", async (name) => {
    expect((await loadOptions({ ...memory, nodes: ['a:1'], codec: name }, noEnv)).codec).toBe(name);
    expect((await loadOptions({ ...memory, nodes: ['a:1'] }, { SHARDCACHE_CODEC: name })).codec).toBe(name);
  });

  it('names the built-in codecs when it refuses a value', async () => {
    const error = await rejection(loadOptions({ ...memory, nodes: ['a:1'] }, { SHARDCACHE_CODEC: 'msgpack' }));
    expect(error.option).toBe('codec');
    for (const word of ["'default'", "'raw'", "'legacy'", 'decode(bytes, flags)', 'msgpack']) expect(error.message).toContain(word);
  });
});

describe('backend', () => {
  it.each(['redis', 'memcached', 'memory'] as const)('takes %s', async (backend) => {
    expect((await loadOptions({ backend, nodes: ['10.0.0.1:11211'] }, noEnv)).backend).toBe(backend);
  });

  it('is required with nodes: addresses never silently become in-process nodes', async () => {
    const error = await rejection(loadOptions({ nodes: ['10.0.0.1:11211', '10.0.0.2:11211'] }, noEnv));
    expect(error.option).toBe('backend');
    expect(error.code).toBe('SHARDCACHE_CONFIG');
    // The message says how to choose.
    for (const word of ["'redis'", "'memcached'", "'memory'", 'in-process', 'SHARDCACHE_BACKEND']) expect(error.message).toContain(word);
  });

  it('is required with neither backend nor nodes, and named first (there is no implicit default)', async () => {
    for (const input of [undefined, {}]) expect((await rejection(loadOptions(input, noEnv))).option).toBe('backend');
  });

  it("'memory' still needs nodes: they name the in-process nodes", async () => {
    expect((await rejection(loadOptions({ backend: 'memory' }, noEnv))).option).toBe('nodes');
  });

  it('is required whichever source gives the nodes (environment, config file)', async () => {
    expect((await rejection(loadOptions(undefined, { SHARDCACHE_NODES: '10.0.0.1:6379' }))).option).toBe('backend');
    expect((await loadOptions(undefined, { SHARDCACHE_NODES: '10.0.0.1:6379', SHARDCACHE_BACKEND: 'redis' })).backend).toBe('redis');
    expect((await loadOptions({ nodes: ['10.0.0.1:6379'] }, { SHARDCACHE_BACKEND: 'redis' })).backend).toBe('redis');
  });
});

describe('environment', () => {
  it('fills what the caller did not set', async () => {
    const env = { SHARDCACHE_BACKEND: 'redis', SHARDCACHE_NODES: 'a:1, b:2:3', SHARDCACHE_TIMEOUT_GET_MS: '25' };
    const options = await loadOptions(undefined, env);
    expect(options.backend).toBe('redis');
    expect(options.nodes.map((n) => `${n.address}:${n.weight}`)).toEqual(['a:1:1', 'b:2:3']);
    expect(options.timeouts.getMs).toBe(25);
  });

  it('gives way to the caller', async () => {
    const options = await loadOptions({ backend: 'memcached', nodes: ['c:3'] }, { SHARDCACHE_BACKEND: 'redis', SHARDCACHE_NODES: 'a:1' });
    expect(options.backend).toBe('memcached');
    expect(options.nodes.map((n) => n.address)).toEqual(['c:3']);
  });

  it('rejects bad values naming the variable', async () => {
    const error = await rejection(loadOptions(undefined, { SHARDCACHE_NODES: 'a:1', SHARDCACHE_TIMEOUT_GET_MS: 'fast' }));
    expect(error.option).toBe('SHARDCACHE_TIMEOUT_GET_MS');
    const backend = await rejection(loadOptions(undefined, { SHARDCACHE_NODES: 'a:1', SHARDCACHE_BACKEND: 'mongo' }));
    expect(backend.option).toBe('backend');
  });
});

describe('config file', () => {
  const dir = mkdtemp(join(tmpdir(), 'shardcache-config-'));
  afterAll(async () => rm(await dir, { recursive: true, force: true }));

  it('reads a JSON file, env filling the gaps', async () => {
    const path = join(await dir, 'cache.json');
    await writeFile(path, JSON.stringify({ nodes: ['a:1', 'b:2'], ring: { hashTag: '{}' } }));
    const options = await loadOptions(path, { SHARDCACHE_BACKEND: 'memcached' });
    expect(options.backend).toBe('memcached');
    expect(options.nodes).toHaveLength(2);
    expect(options.ring.hashTag).toBe('{}');
    expect((await rejection(loadOptions(path, noEnv))).option).toBe('backend');
  });

  it('rejects a missing file and invalid JSON', async () => {
    const bad = join(await dir, 'bad.json');
    await writeFile(bad, '{ nodes: ');
    expect((await rejection(loadOptions(bad, noEnv))).message).toContain('not valid JSON');
    expect((await rejection(loadOptions(join(await dir, 'missing.json'), noEnv))).message).toContain('cannot read');
  });
});
