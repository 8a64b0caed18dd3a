/** Validation of the observability and administration options. */
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { loadOptions } from '../../../src/config/load.js';
import { ConfigError } from '../../../src/errors.js';

const base = { backend: 'memory' as const, nodes: ['a:1'] };

async function rejection(options: object): Promise<ConfigError> {
  const error = await loadOptions({ ...base, ...options }, {}).then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(ConfigError);
  return error as ConfigError;
}

describe('observability options', () => {
  it('default to no metrics, prefix shardcache_, buckets from 0.1 ms, no hit-rate floor', async () => {
    const options = await loadOptions(base, {});
    expect(options.metrics).toEqual({
      registry: undefined,
      prefix: 'shardcache_',
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    });
    expect(options.health).toMatchObject({ minHitRate: 0, minHitRateSamples: 100, hitRateWindowMs: 60_000 });
    expect(options.timeouts.adminMs).toBe(5000);
    expect(options.namespaceVersionCacheMs).toBe(1000);
  });

  it('keep the caller registry as given and copy the buckets', async () => {
    const registry = new Registry();
    const buckets = [0.001, 0.01];
    const given = { ...base, metrics: { registry, prefix: 'app_cache_', buckets } };
    const options = await loadOptions(given, {});
    expect(options.metrics.registry).toBe(registry);
    expect(options.metrics.buckets).toEqual(buckets);
    expect(options.metrics.buckets).not.toBe(buckets);
    expect(given.metrics.buckets).toBe(buckets);
  });

  it.each([
    [{ metrics: { registry: {} } }, 'metrics.registry'],
    [{ metrics: { registry: 'default' } }, 'metrics.registry'],
    [{ metrics: { registery: new Registry() } }, 'metrics.registery'],
    [{ metrics: { prefix: '1bad' } }, 'metrics.prefix'],
    [{ metrics: { prefix: 'with-dash_' } }, 'metrics.prefix'],
    [{ metrics: { buckets: [] } }, 'metrics.buckets'],
    [{ metrics: { buckets: [0.01, 0.001] } }, 'metrics.buckets'],
    [{ metrics: { buckets: [0, 1] } }, 'metrics.buckets'],
    [{ metrics: 'on' }, 'metrics'],
    [{ health: { minHitRate: 1.5 } }, 'health.minHitRate'],
    [{ health: { minHitRateSamples: 0 } }, 'health.minHitRateSamples'],
    [{ health: { hitRateWindowMs: 10 } }, 'health.hitRateWindowMs'],
    [{ timeouts: { adminMs: 0 } }, 'timeouts.adminMs'],
    [{ namespaceVersionCacheMs: -1 }, 'namespaceVersionCacheMs'],
  ])('reject %j naming %s', async (options, option) => {
    expect((await rejection(options)).option).toBe(option);
  });

  it('read the hit-rate floor and the namespace version cache from the environment', async () => {
    const options = await loadOptions(base, {
      SHARDCACHE_HEALTH_MIN_HIT_RATE: '0.8',
      SHARDCACHE_HEALTH_MIN_HIT_RATE_SAMPLES: '500',
      SHARDCACHE_NAMESPACE_VERSION_CACHE_MS: '250',
    });
    expect(options.health).toMatchObject({ minHitRate: 0.8, minHitRateSamples: 500 });
    expect(options.namespaceVersionCacheMs).toBe(250);
  });
});
