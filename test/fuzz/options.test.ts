/**
 * Property-based fuzzing of what `createCache` is given: option objects
 * (unknown keys, wrong types, NaN, negative, huge, nested garbage), node
 * strings and objects, `SHARDCACHE_*` variables, config files and custom
 * codecs. Each case either:
 * - rejects with a ConfigError whose `option` names something the caller
 *   actually gave (or `backend` or `nodes`, which are required), or
 * - resolves with a cache that works: keys land on configured nodes, values
 *   round-trip, close() succeeds.
 * The caller's objects are deep-frozen, so a write into them would throw.
 * Bad numbers (NaN, Infinity, negative, not a number, fractional where a
 * whole number is documented) must always be refused.
 *
 * Random hosts never meet the network: fuzzed option objects use in-process
 * nodes ('memory'), and the real-server property points only at loopback
 * servers the harness started.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { fc, it } from '@fast-check/vitest';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { ConfigError, createCache, type ShardedCache } from '../../src/index.js';
import { expectNothingLeftOpen, openHandles } from '../harness/handles.js';
import { startMemcached, startRedis, type ServerProcess } from '../harness/servers.js';
import { hostileString } from './support/arbitraries.js';
import { expectTyped, STABLE_CODES } from './support/oracle.js';
import { FuzzLog } from './support/record.js';

const log = new FuzzLog('options.test.ts');
afterAll(() => log.write());

const CONFIG_DIR = join(fileURLToPath(new URL('../../.tmp', import.meta.url)), `fuzz-config-${process.pid}`);
beforeAll(() => mkdirSync(CONFIG_DIR, { recursive: true }));
afterAll(() => rmSync(CONFIG_DIR, { recursive: true, force: true }));

const ENV_NAMES = [
  'SHARDCACHE_BACKEND',
  'SHARDCACHE_NODES',
  'SHARDCACHE_RING_ALGORITHM',
  'SHARDCACHE_RING_COMPAT',
  'SHARDCACHE_RING_KEY_HASH',
  'SHARDCACHE_RING_HASH_TAG',
  'SHARDCACHE_RING_POINTS_PER_SERVER',
  'SHARDCACHE_TIMEOUT_GET_MS',
  'SHARDCACHE_TIMEOUT_GET_RETRIES',
  'SHARDCACHE_HEALTH_FAILURE_LIMIT',
  'SHARDCACHE_HEALTH_MAX_EJECTED_FRACTION',
  'SHARDCACHE_HEALTH_MIN_HIT_RATE',
  'SHARDCACHE_BREAKER_ERROR_THRESHOLD_PERCENTAGE',
  'SHARDCACHE_NAMESPACE_VERSION_CACHE_MS',
  'SHARDCACHE_DEFAULT_TTL_SECONDS',
  'SHARDCACHE_MAX_VALUE_BYTES',
];
/** Values each variable may validly hold (the caller's `backend: 'memory'` wins over SHARDCACHE_BACKEND). */
const ENV_VALID: Record<string, readonly string[]> = {
  SHARDCACHE_BACKEND: ['redis', 'memcached', 'memory'],
  SHARDCACHE_NODES: ['mem-a:1,mem-b:2', 'mem-a:1 mem-b:2:3', ' mem-c:9 '],
  SHARDCACHE_RING_ALGORITHM: ['ketama', 'fast'],
  SHARDCACHE_RING_COMPAT: ['libmemcached', 'twemproxy'],
  SHARDCACHE_RING_KEY_HASH: ['md5', 'fnv1a_64'],
  SHARDCACHE_RING_HASH_TAG: ['{}', '[]'],
  SHARDCACHE_RING_POINTS_PER_SERVER: ['160', '1', '40'],
  SHARDCACHE_TIMEOUT_GET_MS: ['10', '1', '2000'],
  SHARDCACHE_TIMEOUT_GET_RETRIES: ['0', '1', '5'],
  SHARDCACHE_HEALTH_FAILURE_LIMIT: ['1', '2'],
  SHARDCACHE_HEALTH_MAX_EJECTED_FRACTION: ['0', '0.5', '1'],
  SHARDCACHE_HEALTH_MIN_HIT_RATE: ['0', '0.9'],
  SHARDCACHE_BREAKER_ERROR_THRESHOLD_PERCENTAGE: ['50', '1', '100'],
  SHARDCACHE_NAMESPACE_VERSION_CACHE_MS: ['0', '1000'],
  SHARDCACHE_DEFAULT_TTL_SECONDS: ['0', '60'],
  SHARDCACHE_MAX_VALUE_BYTES: ['1048000', '64', '1'],
};
/** Option groups the variables above feed. */
const ENV_OPTION_TOPS = ['backend', 'ring', 'timeouts', 'health', 'breaker', 'namespaceVersionCacheMs', 'defaultTtlSeconds', 'maxValueBytes'];

type Kind = 'int' | 'fraction';
/**
 * Every documented numeric option, whether it takes whole numbers, and a
 * plausible range to draw valid values from (so most generated objects are
 * accepted and the working-cache check runs; the hostile values come on top).
 */
const NUMERIC: Record<string, { kind: Kind; plausible: [number, number] }> = {
  'ring.pointsPerServer': { kind: 'int', plausible: [1, 500] },
  'timeouts.getMs': { kind: 'int', plausible: [1, 5000] },
  'timeouts.getRetries': { kind: 'int', plausible: [0, 5] },
  'timeouts.setMs': { kind: 'int', plausible: [1, 5000] },
  'timeouts.batchMs': { kind: 'int', plausible: [1, 5000] },
  'timeouts.connectMs': { kind: 'int', plausible: [1, 5000] },
  'timeouts.connectRetries': { kind: 'int', plausible: [0, 5] },
  'timeouts.connectBackoffMs': { kind: 'int', plausible: [0, 5000] },
  'timeouts.adminMs': { kind: 'int', plausible: [1, 5000] },
  'health.failureLimit': { kind: 'int', plausible: [1, 10] },
  'health.retryTimeoutMs': { kind: 'int', plausible: [1, 60_000] },
  'health.maxRetryTimeoutMs': { kind: 'int', plausible: [1, 300_000] },
  'health.probeTimeoutMs': { kind: 'int', plausible: [1, 1000] },
  'health.maxEjectedFraction': { kind: 'fraction', plausible: [0, 1] },
  'health.failoverTtlSeconds': { kind: 'int', plausible: [1, 3600] },
  'health.returnJournalLimit': { kind: 'int', plausible: [0, 10_000] },
  'health.minHitRate': { kind: 'fraction', plausible: [0, 1] },
  'health.minHitRateSamples': { kind: 'int', plausible: [1, 1000] },
  'health.hitRateWindowMs': { kind: 'int', plausible: [1000, 60_000] },
  'breaker.errorThresholdPercentage': { kind: 'int', plausible: [1, 100] },
  'breaker.rollingCountTimeoutMs': { kind: 'int', plausible: [10, 60_000] },
  'breaker.resetTimeoutMs': { kind: 'int', plausible: [1, 60_000] },
  'breaker.volumeThreshold': { kind: 'int', plausible: [0, 100] },
  'memory.maxEntriesPerNode': { kind: 'int', plausible: [1, 10_000] },
  namespaceVersionCacheMs: { kind: 'int', plausible: [0, 5000] },
  defaultTtlSeconds: { kind: 'int', plausible: [0, 3600] },
  maxValueBytes: { kind: 'int', plausible: [1, 2_000_000] },
};
const ENUMS: Record<string, readonly string[]> = {
  'ring.algorithm': ['ketama', 'fast'],
  'ring.compat': ['libmemcached', 'twemproxy'],
  'ring.keyHash': ['md5', 'fnv1a_64'],
};

/** A number that must be refused wherever a number is expected. */
const badNumber = fc.constantFrom<unknown>(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -1, -0.5, -(2 ** 31), '10', '', null, true, [], {}, [10], 10n, new Number(10));
/** Edges: zero, huge, fractional, or a bad number outright. Huge ones must be refused or harmless. */
const edgeNumber = fc.oneof(
  fc.constantFrom(0, 1, 600_000, 3_600_000, 86_400_000, 315_360_000, 2 ** 31, 2 ** 32, 2 ** 53, 1e308, Number.MAX_VALUE, 0.5, 1.5),
  badNumber,
);
/** Mostly a plausible valid value for `path`; sometimes an edge. */
function numberFor(path: string): fc.Arbitrary<unknown> {
  const { kind, plausible } = NUMERIC[path]!;
  const [min, max] = plausible;
  const valid = kind === 'fraction' ? fc.double({ min, max, noNaN: true }) : fc.integer({ min, max });
  return fc.oneof({ weight: 10, arbitrary: valid }, { weight: 1, arbitrary: edgeNumber });
}
const garbage = fc.oneof(fc.anything({ maxDepth: 2, withNullPrototype: true, withBigInt: true, withMap: true, withSet: true }), fc.constantFrom<unknown>(Object.create(null), [[]], { __proto__: null, a: 1 }));
/** Keys that are not options, including the ones a careless merge would treat specially. */
const unknownKey = fc.oneof(fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'getms', 'timeout', 'ttl', ''), fc.string({ maxLength: 8 }));

function groupArb(group: string): fc.Arbitrary<unknown> {
  const fields = [...Object.keys(NUMERIC), ...Object.keys(ENUMS)].filter((path) => path.startsWith(`${group}.`)).map((path) => path.slice(group.length + 1));
  if (group === 'ring') fields.push('hashTag');
  const value = (field: string): fc.Arbitrary<unknown> => {
    const enumValues = ENUMS[`${group}.${field}`];
    if (enumValues) return fc.oneof({ weight: 10, arbitrary: fc.constantFrom<unknown>(...enumValues) }, { weight: 1, arbitrary: fc.oneof(fc.constantFrom<unknown>('KETAMA', '', 'md5 ', null, 1), garbage) });
    if (field === 'hashTag') return fc.oneof({ weight: 6, arbitrary: fc.constantFrom<unknown>('{}', '[]', '<>', '\u{1f600}\u{1f601}') }, { weight: 1, arbitrary: fc.oneof(fc.constantFrom<unknown>('{{', '{', '{}}', '', '\ud800}', 1), hostileString(3)) });
    return numberFor(`${group}.${field}`);
  };
  const known = fc.dictionary(fc.constantFrom(...fields), fc.constant(null), { maxKeys: 4 }).chain((picked) =>
    fc.record(Object.fromEntries(Object.keys(picked).map((field) => [field, value(field)]))),
  );
  return fc.oneof(
    { weight: 12, arbitrary: known },
    { weight: 1, arbitrary: fc.tuple(known, unknownKey, garbage).map(([object, key, junk]) => withOwn(object as object, key, junk)) },
    { weight: 1, arbitrary: garbage },
  );
}

/** `object` plus an own property `key`, even when `key` is `__proto__` (as JSON.parse makes it). */
function withOwn(object: object, key: string, value: unknown): object {
  return Object.defineProperty({ ...object }, key, { value, enumerable: true, writable: true, configurable: true });
}

/** `host:port[:weight]` from parts that are each usually valid, so whole lists are accepted often enough to check placement. */
const nodeString = fc
  .record({
    host: fc.oneof(
      { weight: 8, arbitrary: fc.constantFrom('127.0.0.1', 'cache-a', 'cache_b.internal', '[::1]', '[fe80::1]', '\u00fcn\u00ef', '10.0.0.1', 'h1', 'h2', 'h3') },
      { weight: 1, arbitrary: fc.constantFrom('', 'a b', '[zz]', 'a:b', '[::1', '::1', '\t', '[]', 'h\u0000') },
      { weight: 1, arbitrary: hostileString(6) },
    ),
    port: fc.oneof(
      { weight: 8, arbitrary: fc.constantFrom('1', '6379', '11211', '65535', '007') },
      { weight: 1, arbitrary: fc.constantFrom('0', '65536', '-1', '1.5', 'abc', '', '0x10', '1e3') },
    ),
    weight: fc.oneof(
      { weight: 8, arbitrary: fc.constantFrom(undefined, undefined, '1', '2', '10', '1e3', ' 2', '4294967295') },
      { weight: 1, arbitrary: fc.constantFrom('0', '-1', '1.5', '1e308', '4294967296', '9007199254740993', 'x', '', '0x10') },
    ),
    extra: fc.oneof({ weight: 8, arbitrary: fc.constantFrom('', ' ', '\n') }, { weight: 1, arbitrary: fc.constantFrom(':1', ':', ' x') }),
  })
  .map(({ host, port, weight, extra }) => `${host}:${port}${weight === undefined ? '' : `:${weight}`}${extra}`);
const nodeObject = fc.record(
  {
    host: fc.oneof(fc.constantFrom('127.0.0.1', 'cache-a', '::1', '[::1]', '', ' '), garbage),
    port: fc.oneof(fc.constantFrom(1, 6379, 65535, 0, 65536, 1.5, -1), badNumber),
    weight: fc.oneof(fc.constantFrom(1, 2, 100, 0, 2 ** 32 - 1, 2 ** 32, 1e308, 1.5), badNumber),
    name: fc.oneof(fc.constantFrom('n1', 'n2', '', 'x'), garbage),
    wieght: fc.constant(2),
  },
  { requiredKeys: ['host', 'port'] },
);
const nodeList = fc.oneof(
  { weight: 8, arbitrary: fc.array(fc.oneof({ weight: 3, arbitrary: nodeString }, { weight: 1, arbitrary: nodeObject }), { minLength: 1, maxLength: 4 }) },
  { weight: 1, arbitrary: fc.sparseArray(nodeString, { minNumElements: 0, maxLength: 3 }) },
  { weight: 1, arbitrary: fc.oneof(garbage, fc.constantFrom<unknown>([], '127.0.0.1:1', ['127.0.0.1:1', '127.0.0.1:1'])) },
);
const goodNodes = fc.constantFrom(['mem-a:1', 'mem-b:2', 'mem-c:3:2'], ['127.0.0.1:11211'], [{ host: 'x', port: 1, name: 'x' }, 'y:2']);

/** Never 'redis' or 'memcached': fuzzed hosts must not be dialled. Left out (undefined), it is refused: backend is required. */
const backendArb = fc.oneof({ weight: 10, arbitrary: fc.constant<unknown>('memory') }, { weight: 1, arbitrary: fc.constantFrom<unknown>(undefined, 'Memory', 'mongo', '', 42, null, ['memory']) });

const optionObject = fc
  .record(
    {
      backend: backendArb,
      nodes: fc.oneof({ weight: 6, arbitrary: goodNodes }, { weight: 1, arbitrary: nodeList }),
      ring: groupArb('ring'),
      timeouts: groupArb('timeouts'),
      health: groupArb('health'),
      breaker: groupArb('breaker'),
      memory: groupArb('memory'),
      namespaceVersionCacheMs: numberFor('namespaceVersionCacheMs'),
      defaultTtlSeconds: numberFor('defaultTtlSeconds'),
      maxValueBytes: numberFor('maxValueBytes'),
      metrics: fc.oneof(
        { weight: 8, arbitrary: fc.constant(undefined) },
        { weight: 2, arbitrary: fc.record({ registry: fc.constant(null).map(() => new Registry()), prefix: fc.oneof({ weight: 4, arbitrary: fc.constantFrom('app_', '', 'ok:name') }, { weight: 1, arbitrary: fc.oneof(fc.constantFrom('1bad', 'a-b'), hostileString(4)) }), buckets: fc.oneof({ weight: 4, arbitrary: fc.constantFrom([0.1, 1], [0.001, 0.01, 0.1]) }, { weight: 1, arbitrary: fc.oneof(fc.constantFrom([1, 0.1], [], [0], [Number.NaN]), garbage) }) }, { requiredKeys: ['registry'] }) },
        { weight: 1, arbitrary: garbage },
      ),
      codec: fc.oneof({ weight: 10, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.oneof(fc.constantFrom<unknown>({ encode: 1, decode: 2 }, { encode() {} }, null), garbage) }),
    },
    { requiredKeys: ['backend', 'nodes'] },
  )
  .chain((options) => fc.oneof({ weight: 6, arbitrary: fc.constant(options as Record<string, unknown>) }, { weight: 1, arbitrary: fc.tuple(unknownKey, garbage).map(([key, junk]) => withOwn(options, key, junk) as Record<string, unknown>) }));

const wholeInput = fc.oneof(
  { weight: 12, arbitrary: optionObject },
  { weight: 1, arbitrary: garbage },
  // An own "__proto__" key, as JSON.parse (a config file) produces it.
  { weight: 1, arbitrary: goodNodes.map((nodes) => JSON.parse(JSON.stringify({ backend: 'memory', x: 1 }).replace('"x"', '"__proto__"').replace('1}', `{"nodes":${JSON.stringify(nodes)}}}`)) as unknown) },
);

function deepFreeze<T>(value: T, seen = new Set<unknown>()): T {
  if (value === null || typeof value !== 'object' || seen.has(value)) return value;
  seen.add(value);
  if (ArrayBuffer.isView(value)) return value; // typed arrays cannot be frozen
  if (value instanceof Registry) return value; // the one object the caller hands over to be written to
  for (const key of Reflect.ownKeys(value)) deepFreeze((value as Record<PropertyKey, unknown>)[key], seen);
  return Object.freeze(value);
}

/** Whether the option path `option` (`a.b`, `nodes[2].host`) lies under one of `keys`. */
const under = (option: string, keys: readonly string[]) => keys.some((key) => option === key || option.startsWith(`${key}.`) || option.startsWith(`${key}[`));

/** The value at a dotted option path of the caller's input, or undefined. */
function at(input: unknown, path: string): unknown {
  let value: unknown = input;
  for (const part of path.split('.')) {
    if (value === null || typeof value !== 'object' || !Object.prototype.hasOwnProperty.call(value, part)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/** The options a resolved createCache must have refused: a bad number anywhere a number is documented. */
function mustRefuse(input: unknown): string[] {
  const refused: string[] = [];
  for (const [path, { kind }] of Object.entries(NUMERIC)) {
    const value = at(input, path);
    if (value === undefined) continue;
    const isNumber = typeof value === 'number' && Number.isFinite(value) && value >= 0;
    if (!isNumber || (kind === 'int' && !Number.isInteger(value)) || (kind === 'fraction' && (value as number) > 1)) refused.push(path);
  }
  for (const [path, allowed] of Object.entries(ENUMS)) {
    const value = at(input, path);
    if (value !== undefined && !allowed.includes(value as string)) refused.push(path);
  }
  return refused;
}

/**
 * A resolved cache must work: every key lands on a configured node, values
 * round-trip (one at a time: `memory.maxEntriesPerNode` may be 1), close()
 * succeeds. A `maxValueBytes` under the encoded size makes writes a typed refusal instead.
 */
async function expectWorking(cache: ShardedCache, context: string, maxValueBytes?: unknown): Promise<void> {
  const addresses = new Set(cache.stats().nodes.map((node) => node.address));
  expect(addresses.size, `${context}: no nodes`).toBeGreaterThan(0);
  const keys = ['a', 'user:1', '\u00e9', '{tag}x', 'k'.repeat(200)];
  const tiny = typeof maxValueBytes === 'number' && maxValueBytes < 8;
  for (const [i, key] of keys.entries()) {
    expect(addresses.has(cache.nodeFor(key)), `${context}: nodeFor(${key}) = ${cache.nodeFor(key)}`).toBe(true);
    const write = await cache.set(key, { i }).then(() => undefined, (error: unknown) => error);
    if (tiny) {
      expectTyped(write, ['SHARDCACHE_INVALID_VALUE']);
      continue;
    }
    expect(write, `${context}: set(${key})`).toBeUndefined();
    expect(await cache.get(key), `${context}: get(${key})`).toEqual({ i });
    expect(await cache.mget([key, key])).toEqual([{ i }, { i }]);
  }
  expect(['up', 'degraded', 'down']).toContain(cache.health().status);
}

describe('createCache option objects (in-process nodes)', () => {
  it.prop([wholeInput], log.params(300))(
    'resolves with a working cache or rejects with a ConfigError naming an option the caller gave; bad numbers never pass; the input is never written to',
    async (input) => {
      const property = 'option objects';
      log.case(property);
      const frozen = deepFreeze(input);
      const result = await log.settle(property, () => createCache(frozen as never, { env: {} }));
      const context = `createCache(${describeInput(input)})`;
      if (!result.ok) {
        expectTyped(result.error, ['SHARDCACHE_CONFIG']);
        const option = (result.error as ConfigError).option;
        expect(typeof option).toBe('string');
        expect(result.error.message.startsWith(`${option}:`), `${context}: message names the option`).toBe(true);
        const given = input !== null && typeof input === 'object' ? Reflect.ownKeys(input as object).map(String) : [];
        // Either something the caller gave, the required backend or nodes, or the input as a whole.
        expect(under(option, ['options', 'backend', 'nodes', ...given]), `${context}: ${option}`).toBe(true);
        return;
      }
      const cache = result.value;
      try {
        expect(mustRefuse(input), `${context}: accepted options that must be refused`).toEqual([]);
        await expectWorking(cache, context, at(input, 'maxValueBytes'));
      } finally {
        await cache.close();
      }
    },
  );

  it.prop([nodeList], log.params(300))('node specs: malformed strings and objects are refused naming the node; accepted ones place keys on exactly those nodes', async (nodes) => {
    const property = 'node specs';
    log.case(property);
    const result = await log.settle(property, () => createCache({ backend: 'memory', nodes: deepFreeze(nodes) as never }, { env: {} }));
    const context = `nodes ${describeInput(nodes)}`;
    const expected = expectedNodes(nodes);
    if (!result.ok) {
      expectTyped(result.error, ['SHARDCACHE_CONFIG']);
      expect(under((result.error as ConfigError).option, ['nodes'])).toBe(true);
      expect(expected, `${context}: refused (${result.error.message}) though valid`).not.toEqual(expect.any(Array));
      return;
    }
    const cache = result.value;
    try {
      expect(expected, `${context}: accepted though invalid`).not.toBe('invalid');
      if (expected !== 'invalid' && expected !== 'unknown') expect(new Set(cache.stats().nodes.map((node) => node.address))).toEqual(new Set(expected));
      await expectWorking(cache, context);
    } finally {
      await cache.close();
    }
  });

  const envValue = (name: string) =>
    fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom(...ENV_VALID[name]!) },
      { weight: 1, arbitrary: fc.oneof(fc.constantFrom('', ' ', 'NaN', '-1', '1e308', '0.5', '1.5', 'Infinity', '0x10', '{}', 'a:1 b:2', ',,', 'redis'), hostileString(8)) },
    );
  const envArb = fc
    .uniqueArray(fc.constantFrom(...ENV_NAMES), { maxLength: 5 })
    .chain((names) => fc.record(Object.fromEntries(names.map((name) => [name, envValue(name)])) as Record<string, fc.Arbitrary<string>>));

  it.prop([envArb, fc.boolean()], log.params(200))(
    'SHARDCACHE_* variables fill gaps or are refused naming the variable or option',
    async (env, withNodes) => {
      const property = 'environment variables';
      log.case(property);
      const options = withNodes ? { backend: 'memory' as const, nodes: ['mem-a:1'] } : { backend: 'memory' as const };
      const result = await log.settle(property, () => createCache(options, { env }));
      if (!result.ok) {
        expectTyped(result.error, ['SHARDCACHE_CONFIG']);
        const option = (result.error as ConfigError).option;
        expect(under(option, [...Object.keys(env), 'nodes', ...ENV_OPTION_TOPS]), option).toBe(true);
        return;
      }
      try {
        const maxValueBytes = env['SHARDCACHE_MAX_VALUE_BYTES'];
        // An empty variable is unset.
        await expectWorking(result.value, `env ${JSON.stringify(env)}`, maxValueBytes === undefined || maxValueBytes === '' ? undefined : Number(maxValueBytes));
      } finally {
        await result.value.close();
      }
    },
  );

  let fileNumber = 0;
  it.prop([fc.oneof({ weight: 2, arbitrary: fc.json() }, { weight: 6, arbitrary: optionObject.map((options) => safeJson(options)) }, { weight: 1, arbitrary: fc.string() }, { weight: 1, arbitrary:  fc.constantFrom('', '{', 'null', '[]', '"a:1"', '{"nodes":["mem-a:1"]}', '{"backend":"memory","nodes":["mem-a:1"]}', '{"__proto__":{"nodes":["mem-a:1"]}}') })], log.params(100))(
    'config files: unreadable or malformed files, and bad options in them, are ConfigErrors',
    async (text) => {
      const property = 'config files';
      log.case(property);
      const path = join(CONFIG_DIR, `${fileNumber++}.json`);
      writeFileSync(path, text);
      const result = await log.settle(property, () => createCache(path, { env: {} }));
      if (!result.ok) {
        expectTyped(result.error, ['SHARDCACHE_CONFIG']);
        return;
      }
      try {
        expect(mustRefuse(JSON.parse(text)), `file ${text}`).toEqual([]);
        // The file's own "__proto__" is an unknown option, never the options' prototype.
        expect(Object.prototype.hasOwnProperty.call(JSON.parse(text), '__proto__'), `file ${text}`).toBe(false);
        await expectWorking(result.value, `file ${text}`, at(JSON.parse(text), 'maxValueBytes'));
      } finally {
        await result.value.close();
      }
    },
  );

  it('refuses a path that is missing or a directory', async () => {
    for (const path of [join(CONFIG_DIR, 'absent.json'), CONFIG_DIR]) {
      const error = await createCache(path, { env: {} }).then(() => undefined, (e: unknown) => e);
      expectTyped(error, ['SHARDCACHE_CONFIG']);
      expect((error as ConfigError).option).toBe('options');
    }
  });

  const codecPart = fc.oneof(
    { weight: 3, arbitrary: fc.constant('buffer' as const) },
    { weight: 1, arbitrary: fc.constant('uint8array' as const) },
    { weight: 1, arbitrary: fc.constant('throws' as const) },
    { weight: 2, arbitrary: fc.anything({ maxDepth: 1 }).map((answer) => ({ answer })) },
  );

  it.prop([codecPart, fc.oneof(fc.constant('echo' as const), fc.constant('throws' as const), fc.anything({ maxDepth: 1 }).map((answer) => ({ answer }))), fc.jsonValue({ maxDepth: 1 })], log.params(150))(
    'custom codecs: whatever encode returns or throws, set resolves or rejects with InvalidValueError; whatever decode does, reads never reject',
    async (encodeKind, decodeKind, value) => {
      const property = 'custom codecs';
      log.case(property);
      const codec = {
        encode(input: unknown): unknown {
          if (encodeKind === 'throws') throw new TypeError('encode refuses');
          const text = Buffer.from(JSON.stringify(input) ?? 'null');
          if (encodeKind === 'buffer') return text;
          if (encodeKind === 'uint8array') return new Uint8Array(text);
          return encodeKind.answer;
        },
        decode(bytes: Buffer): unknown {
          if (decodeKind === 'throws') throw new SyntaxError('decode refuses');
          if (decodeKind === 'echo') return JSON.parse(bytes.toString());
          return decodeKind.answer;
        },
      };
      const cache = await createCache({ backend: 'memory', nodes: ['mem-a:1', 'mem-b:2'], codec: codec as never }, { env: {} });
      try {
        const set = await log.settle(property, () => cache.set('k', value));
        const mset = await log.settle(property, () => cache.mset([['k2', value]]));
        const encodable = encodeKind === 'buffer' || encodeKind === 'uint8array';
        for (const result of [set, mset]) {
          if (encodable) expect(result.ok, `encode ${encodeKind}`).toBe(true);
          // Any other answer from encode is not bytes: a typed refusal, not a TypeError from deeper down.
          else if (!result.ok) expectTyped(result.error, ['SHARDCACHE_INVALID_VALUE']);
        }
        for (const read of [() => cache.get('k'), () => cache.mget(['k', 'k2']), () => cache.mgetDetailed(['k']), () => cache.getOrLoad('k', () => 1)]) {
          const result = await log.settle(property, read);
          expect(result.ok, 'a read must not reject because of the codec').toBe(true);
        }
        if (encodable && decodeKind === 'echo') expect(await cache.get('k')).toEqual(JSON.parse(JSON.stringify(value)));
      } finally {
        await cache.close();
      }
    },
  );
});

describe.each(['redis', 'memcached'] as const)('%s: fuzzed option objects on real servers', (backend) => {
  let servers: ServerProcess[] = [];
  let closedPort: number;

  beforeAll(async () => {
    servers = await Promise.all([0, 1, 2].map(() => (backend === 'redis' ? startRedis() : startMemcached())));
    closedPort = await freeLoopbackPort();
  });
  afterAll(async () => {
    await Promise.all(servers.map((server) => server.stop()));
  });

  const tuning = fc.record(
    { timeouts: groupArb('timeouts'), health: groupArb('health'), breaker: groupArb('breaker'), ring: groupArb('ring') },
    { requiredKeys: [] },
  );

  it.prop([tuning, fc.boolean()], log.params(15))(
    'deadlines, retries, breakers and ring options: createCache resolves or refuses typed, calls end typed, close() leaves nothing open',
    async (options, withDeadNode) => {
      const property = `${backend}: real-server options`;
      log.case(property);
      const before = openHandles();
      // A refused loopback port: connection retries and probes run, and must all stop on close().
      const nodes = [...servers.map((server) => server.address), ...(withDeadNode ? [`127.0.0.1:${closedPort}`] : [])];
      const result = await log.settle(property, () => createCache({ backend, nodes, ...(options as object) }, { env: {} }));
      if (!result.ok) {
        expectTyped(result.error, ['SHARDCACHE_CONFIG']);
        await expectNothingLeftOpen(before);
        return;
      }
      const cache = result.value;
      try {
        expect(mustRefuse(options)).toEqual([]);
        // Tiny deadlines or the dead node may fail writes (typed); reads never reject.
        for (const write of [() => cache.set('k', 1), () => cache.mset([['a', 1], ['b', 2]]), () => cache.del('a')] as (() => Promise<unknown>)[]) {
          const outcome = await log.settle(property, write);
          if (!outcome.ok) expectTyped(outcome.error, STABLE_CODES);
        }
        for (const read of [() => cache.get('k'), () => cache.mget(['a', 'b', 'k']), () => cache.mgetDetailed(['a'])]) {
          expect((await log.settle(property, read)).ok).toBe(true);
        }
      } finally {
        await cache.close();
      }
      await expectNothingLeftOpen(before);
    },
  );
});

const MAX_WEIGHT = 2 ** 32 - 1;

/**
 * The addresses a node list must resolve to, 'invalid' when it must be
 * refused, or 'unknown' when this oracle does not decide (objects with
 * garbage fields: the property still requires a typed error or a working cache).
 */
function expectedNodes(nodes: unknown): string[] | 'invalid' | 'unknown' {
  if (!Array.isArray(nodes) || nodes.length === 0) return 'invalid';
  const addresses: string[] = [];
  for (let i = 0; i < nodes.length; i++) {
    if (!(i in nodes)) return 'invalid'; // a hole is no node
    const spec = nodes[i] as unknown;
    if (typeof spec !== 'string') return spec !== null && typeof spec === 'object' && !Array.isArray(spec) ? 'unknown' : 'invalid';
    const match = /^(\[[0-9A-Fa-f:.]+\]|[^\s:[\]]+):(\d+)(?::([^:]+))?$/.exec(spec.trim());
    if (!match) return 'invalid';
    const port = Number(match[2]);
    const weight = match[3] === undefined ? 1 : Number(match[3]);
    if (port < 1 || port > 65535 || !Number.isInteger(weight) || weight < 1 || weight > MAX_WEIGHT) return 'invalid';
    const host = match[1]!.startsWith('[') ? match[1]!.slice(1, -1) : match[1]!;
    const address = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
    if (addresses.includes(address)) return 'invalid';
    addresses.push(address);
  }
  return addresses;
}

function describeInput(input: unknown): string {
  try {
    return fc.stringify(input).slice(0, 300);
  } catch {
    return typeof input;
  }
}

/** JSON text for an options object (garbage that JSON cannot hold becomes null). */
function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? null : v)) ?? 'null';
  } catch {
    return 'null';
  }
}

/** A loopback port nobody listens on (bound, then released). */
function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
