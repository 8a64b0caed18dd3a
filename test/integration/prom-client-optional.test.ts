/**
 * prom-client is an optional peer dependency: loaded only when
 * `metrics.registry` is given. Without it installed, a cache without metrics
 * works, and one with a registry is refused with a ConfigError that says how
 * to install it. The module is made unloadable here with vi.mock (a factory
 * that throws is what a missing package looks like to `import()`).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { ConfigError, createCache } from '../../src/index.js';

vi.mock('prom-client', () => {
  throw Object.assign(new Error("Cannot find package 'prom-client'"), { code: 'ERR_MODULE_NOT_FOUND' });
});

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Has the methods validation looks for; stands in for a Registry from the application's own prom-client. */
const registryLike = { registerMetric() {}, getSingleMetric() {}, removeSingleMetric() {}, metrics: async () => '' };

describe('without prom-client installed', () => {
  it('a cache without metrics works', async () => {
    const cache = await createCache({ backend: 'memory', nodes: ['mem-a:1'] }, { env: {} });
    try {
      await cache.set('k', 1);
      expect(await cache.get('k')).toBe(1);
    } finally {
      await cache.close();
    }
  });

  it('metrics.registry is refused with a ConfigError that says npm install prom-client', async () => {
    const error = await createCache({ backend: 'memory', nodes: ['mem-a:1'], metrics: { registry: registryLike as never } }, { env: {} }).then(
      () => expect.fail('expected a rejection'),
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).option).toBe('metrics.registry');
    expect((error as ConfigError).message).toContain('npm install prom-client');
  });
});

describe('packaging', () => {
  it('declares prom-client an optional peer, kept in devDependencies for the tests, not a dependency', () => {
    const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Record<string, Record<string, unknown> | undefined>;
    expect(manifest.dependencies?.['prom-client']).toBeUndefined();
    expect(manifest.peerDependencies?.['prom-client']).toEqual(expect.any(String));
    expect(manifest.peerDependenciesMeta?.['prom-client']).toEqual({ optional: true });
    expect(manifest.devDependencies?.['prom-client']).toBe(manifest.peerDependencies?.['prom-client']);
  });

  it('nothing in src/ imports prom-client at load time (type imports are erased; the adapter uses import())', () => {
    const files = readdirSync(join(root, 'src'), { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.ts'));
    const offenders = files.filter((file) => /^\s*(import|export)\s+(?!type\b)[^;]*from\s+['"]prom-client['"]/m.test(readFileSync(join(root, 'src', file), 'utf8')));
    expect(offenders).toEqual([]);
  });
});
