/**
 * Property-based fuzzing of the cache calls, on three in-process nodes, three
 * real redis-server processes and three real memcached processes. Each
 * property predicts every call's outcome from the documented rules
 * (support/oracle.ts) and checks:
 * - a call resolves, or rejects with a ShardcacheError subclass carrying its
 *   stable code; on this healthy pool only input codes (bad key, value,
 *   argument) may appear, and exactly when the input is bad;
 * - reads never reject because of the cache;
 * - a rejected set/mset leaves every previous value as it was;
 * - an accepted value reads back equal by the codec's semantics, stored
 *   under exactly the caller's key (checked on the servers over raw sockets),
 *   with the TTL asked for;
 * - loaders' answers and errors pass through untouched;
 * - with one node hung (SIGSTOP), reads still resolve and writes to it fail
 *   with typed node errors;
 * - after close() calls reject with ClosedError and nothing is left open.
 * Deadlines are generous: this is about input, not speed.
 */
import { fc, it } from '@fast-check/vitest';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { createCache, type ShardedCache } from '../../src/index.js';
import { pauseMemoryNode, resumeMemoryNode } from '../../src/testing.js';
import { expectNothingLeftOpen, openHandles, type HandleCounts } from '../harness/handles.js';
import { startMemcached, startRedis, type ServerProcess } from '../harness/servers.js';
import { anyEntry, anyKey, anyNamespaceName, anyValue, anyWriteOptions, confusableKeyGroup, confusableNamespaceGroup, hostileString, plainishKey } from './support/arbitraries.js';
import {
  expectedEncoding,
  expectSameValue,
  expectTyped,
  INPUT_CODES,
  KEY_LIMITS,
  keyDefect,
  namespaceDefect,
  optionsDefect,
  preview,
  ttlOf,
  type BackendKind,
} from './support/oracle.js';
import { FuzzLog } from './support/record.js';
import { memcachedStored, memcachedTtl, redisKeys, redisStored, redisTtl } from './support/wire.js';

const log = new FuzzLog('operations.test.ts');
afterAll(() => log.write());

const GENEROUS = { getMs: 2000, setMs: 2000, batchMs: 2000, connectMs: 2000 };
/** The product default: memcached's item limit is what it protects. */
const MAX_VALUE_BYTES = 1_048_000;
/** Polling for best-effort write-backs: 100 x 20 ms, about the 2 s write deadline. */
const WRITE_BACK_POLLS = 100;
const WRITE_BACK_POLL_MS = 20;
const INVALID_KEY = 'SHARDCACHE_INVALID_KEY';
const INVALID_VALUE = 'SHARDCACHE_INVALID_VALUE';
const INVALID_ARGUMENT = 'SHARDCACHE_INVALID_ARGUMENT';

class LoaderFailure extends Error {
  override name = 'LoaderFailure';
}

/** A key each backend accepts, with no whitespace (printable ASCII). */
const validAsciiKey = fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 12 }).filter((key) => !/\s/.test(key));

/** Small values, a few of them unencodable, for batches and sequences. */
const smallValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 5, arbitrary: fc.jsonValue({ maxDepth: 1 }) },
  { weight: 3, arbitrary: hostileString(8) },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 8 }).map((bytes) => Buffer.from(bytes)) },
  { weight: 1, arbitrary: fc.constantFrom<unknown>(undefined, 10n, Symbol('v'), { toJSON: () => undefined }, Number.NaN, -0) },
);

describe.each(['memory', 'redis', 'memcached'] as const)('%s: fuzzed calls', (backend: BackendKind) => {
  const limits = KEY_LIMITS[backend];
  let servers: ServerProcess[] = [];
  let cache: ShardedCache;
  let handlesBefore: HandleCounts;
  const name = (property: string) => `${backend}: ${property}`;

  beforeAll(async () => {
    if (backend !== 'memory') {
      const start = backend === 'redis' ? startRedis : startMemcached;
      servers = await Promise.all([start(), start(), start()]);
    }
    handlesBefore = openHandles();
    const nodes = backend === 'memory' ? ['mem-a:1', 'mem-b:2', 'mem-c:3'] : servers.map((server) => server.address);
    cache = await createCache({ backend, nodes, timeouts: GENEROUS }, { env: {} });
  });

  afterAll(async () => {
    await cache?.close();
    await Promise.all(servers.map((server) => server.stop()));
  });

  const ownerOf = (key: string): ServerProcess => servers.find((server) => server.address === cache.nodeFor(key))!;

  /** The exact bytes the owning server holds under `key` (undefined on memory nodes: there is no wire to check). */
  async function storedOnServer(key: string): Promise<Buffer | undefined> {
    if (backend === 'redis') return redisStored(ownerOf(key), key);
    if (backend === 'memcached') return memcachedStored(ownerOf(key), key);
    return undefined;
  }

  /** Asserts the rejection matches the defects the oracle found (any of them may be the one reported). */
  function expectRejectedFor(result: { ok: boolean; error?: unknown }, codes: ReadonlySet<string>, context: string): void {
    expect(result.ok, `${context}: expected a rejection for ${[...codes].join(', ')}`).toBe(false);
    expectTyped(result.error, codes);
  }

  function expectResolved<T>(result: { ok: true; value: T } | { ok: false; error: unknown }, context: string): T {
    if (!result.ok) {
      expectTyped(result.error, []);
      expect.fail(`${context}: rejected`);
    }
    return result.value;
  }

  it.prop([anyKey, fc.jsonValue({ maxDepth: 1 })], log.params(150))(
    'single-key calls accept exactly the valid keys, and store under exactly that key',
    async (key, value) => {
      const property = name('single-key calls');
      log.case(property);
      await cache.clear();
      const defect = keyDefect(key, limits);
      const context = `key ${preview(key)} (${defect ?? 'valid'})`;
      const bad = new Set([INVALID_KEY]);

      const owner = await log.settle(property, () => cache.nodeFor(key as string));
      const got = await log.settle(property, () => cache.get(key as string));
      const many = await log.settle(property, () => cache.mget([key as string, key as string]));
      const detailed = await log.settle(property, () => cache.mgetDetailed([key as string]));
      const set = await log.settle(property, () => cache.set(key as string, value));
      if (defect !== undefined) {
        for (const result of [owner, got, many, detailed, set]) expectRejectedFor(result, bad, context);
        expectRejectedFor(await log.settle(property, () => cache.del(key as string)), bad, context);
        return;
      }
      const k = key as string;
      expect(expectResolved(got, context)).toBeUndefined();
      expect(expectResolved(many, context)).toEqual([undefined, undefined]);
      expect(expectResolved(detailed, context)).toEqual([{ key: k, status: 'miss', value: undefined, node: expectResolved(owner, context) }]);
      expectResolved(set, context);
      const expected = expectedEncoding(value, MAX_VALUE_BYTES, backend);
      if (!expected.ok) throw new Error('a JSON value must encode');
      expectSameValue(await cache.get(k), expected.readBack, context);
      expectSameValue((await cache.mget([k]))[0], expected.readBack, context);

      if (backend !== 'memory') {
        // Stored under exactly the key's UTF-8 bytes, on its owner, and nowhere else.
        const stored = await storedOnServer(k);
        expect(stored?.length, `${context}: stored bytes on ${ownerOf(k).address}`).toBe(expected.bytes);
        for (const server of servers) {
          if (server === ownerOf(k)) continue;
          expect(backend === 'redis' ? await redisStored(server, k) : await memcachedStored(server, k), `${context}: also on ${server.address}`).toBeUndefined();
        }
        if (backend === 'redis') {
          const everyKey = (await Promise.all(servers.map((server) => redisKeys(server)))).flat();
          expect(everyKey.map((bytes) => bytes.toString('hex'))).toEqual([Buffer.from(k, 'utf8').toString('hex')]);
        }
      }
      expect(expectResolved(await log.settle(property, () => cache.del(k)), context)).toBe(true);
      expect(await cache.get(k)).toBeUndefined();
      expect(await storedOnServer(k)).toBeUndefined();
    },
  );

  it.prop([fc.oneof(fc.uniqueArray(plainishKey, { minLength: 1, maxLength: 8 }), confusableKeyGroup)], log.params(100))(
    'distinct keys never share an entry (confusable, normalisation-equal and lone-surrogate keys included)',
    async (keys) => {
      const property = name('distinct keys');
      log.case(property);
      await cache.clear();
      const valid = keys.filter((key) => keyDefect(key, limits) === undefined);
      const invalid = keys.filter((key) => keyDefect(key, limits) !== undefined);
      if (invalid.length > 0) {
        // A batch holding any invalid key writes nothing.
        const result = await log.settle(property, () => cache.mset(keys.map((key, i) => [key, i] as const)));
        expectRejectedFor(result, new Set([INVALID_KEY]), `mset ${preview(keys)}`);
        expect(await cache.mget(valid)).toEqual(valid.map(() => undefined));
      }
      if (valid.length === 0) return;
      expectResolved(await log.settle(property, () => cache.mset(valid.map((key, i) => [key, i] as const))), `mset ${preview(valid)}`);
      expect(await cache.mget(valid)).toEqual(valid.map((_, i) => i));
      for (let i = 0; i < valid.length; i++) expect(await cache.get(valid[i]!), `get ${preview(valid[i])}`).toBe(i);
      if (backend === 'redis') {
        const everyKey = (await Promise.all(servers.map((server) => redisKeys(server)))).flat();
        expect(new Set(everyKey.map((bytes) => bytes.toString('hex')))).toEqual(new Set(valid.map((key) => Buffer.from(key, 'utf8').toString('hex'))));
      }
      if (backend !== 'memory') {
        for (let i = 0; i < valid.length; i++) {
          // The number's text (Redis: behind the mark and the integer flag 4): this key's own value.
          const raw = backend === 'redis' ? `\u00c1sc\u0000\u0000\u0000\u0004${i}` : `${i}`;
          expect((await storedOnServer(valid[i]!))?.toString('latin1'), `raw ${preview(valid[i])}`).toBe(raw);
        }
      }
    },
  );

  it.prop([validAsciiKey, anyValue(MAX_VALUE_BYTES), anyWriteOptions], log.params(200))(
    'set accepts exactly the encodable values and valid options; an accepted value reads back equal, a rejected set keeps the old one',
    async (key, value, options) => {
      const property = name('set values and options');
      log.case(property);
      const old = `old:${key}`;
      await cache.set(key, old);
      const expected = expectedEncoding(value, MAX_VALUE_BYTES, backend);
      const defects = new Set<string>();
      if (!expected.ok) defects.add(INVALID_VALUE);
      if (optionsDefect(options) !== undefined) defects.add(INVALID_ARGUMENT);
      const context = `set(${preview(key)}, ${preview(value)}, ${preview(options)})`;

      const result = await log.settle(property, () => cache.set(key, value, options as never));
      if (defects.size > 0) {
        expectRejectedFor(result, defects, context);
        expect(await cache.get(key), `${context}: the old value must survive`).toBe(old);
        if (backend !== 'memory') expect((await storedOnServer(key))?.toString('utf8')).toBe(old);
        return;
      }
      expectResolved(result, context);
      if (!expected.ok) return;
      const ttl = ttlOf(options);
      // A 1-second TTL may end before the read (memcached's clock ticks whole seconds).
      if (ttl !== 1) expectSameValue(await cache.get(key), expected.readBack, context);
      if (ttl > 1 && backend !== 'memory') {
        // The server applied the TTL asked for (over 30 days memcached takes a date; the adapter converts).
        const left = backend === 'redis' ? await redisTtl(ownerOf(key), key) : await memcachedTtl(ownerOf(key), key);
        expect(left, `${context}: server TTL`).toBeGreaterThanOrEqual(ttl - 2);
        // memcached's clock is a once-a-second timer that lags on a loaded machine: a date-form TTL can read back 2 s long.
        expect(left, `${context}: server TTL`).toBeLessThanOrEqual(ttl + (backend === 'memcached' ? 2 : 1));
      }
      if (ttl === 0 && backend !== 'memory') {
        const left = backend === 'redis' ? await redisTtl(ownerOf(key), key) : await memcachedTtl(ownerOf(key), key);
        expect(left, `${context}: no expiry`).toBe(-1);
      }
    },
  );

  const batchKey = fc.oneof({ weight: 6, arbitrary: fc.constantFrom('a', 'b', 'c', 'd', 'é') }, { weight: 2, arbitrary: anyKey });
  const entriesArb = fc.oneof(
    { weight: 12, arbitrary: fc.array(anyEntry(batchKey, smallValue), { minLength: 0, maxLength: 8 }) },
    { weight: 1, arbitrary: fc.constantFrom<unknown>(null, 'ab', { a: 1 }, new Map([['a', 1]]), 7) },
  );

  it.prop([entriesArb, anyWriteOptions], log.params(150))('mset is all or nothing: one bad entry, key, value or option writes none of it', async (entries, options) => {
    const property = name('mset all or nothing');
    log.case(property);
    await cache.clear();
    const defects = new Set<string>();
    const expectedAfter = new Map<string, unknown>();
    if (!Array.isArray(entries)) defects.add(INVALID_ARGUMENT);
    else {
      for (const entry of entries) {
        if (!Array.isArray(entry) || entry.length !== 2) {
          defects.add(INVALID_ARGUMENT);
          continue;
        }
        const [key, value] = entry as [unknown, unknown];
        if (keyDefect(key, limits) !== undefined) defects.add(INVALID_KEY);
        const expected = expectedEncoding(value, MAX_VALUE_BYTES, backend);
        if (!expected.ok) defects.add(INVALID_VALUE);
        else if (typeof key === 'string') expectedAfter.set(key, expected.readBack);
      }
    }
    if (optionsDefect(options) !== undefined) defects.add(INVALID_ARGUMENT);
    const context = `mset(${preview(entries)}, ${preview(options)})`;

    // Every valid string key in the batch holds an old value first.
    const touched = Array.isArray(entries)
      ? [...new Set(entries.flatMap((entry) => (Array.isArray(entry) && keyDefect(entry[0], limits) === undefined ? [entry[0] as string] : [])))]
      : [];
    await cache.mset(touched.map((key) => [key, `old:${key}`] as const));

    const result = await log.settle(property, () => cache.mset(entries as never, options as never));
    const after = touched.length > 0 ? await cache.mget(touched) : [];
    if (defects.size > 0) {
      expectRejectedFor(result, defects, context);
      expect(after, `${context}: nothing may be written`).toEqual(touched.map((key) => `old:${key}`));
      return;
    }
    expectResolved(result, context);
    // The last value of a repeated key wins; a 1-second TTL may already have run out.
    if (ttlOf(options) !== 1) touched.forEach((key, i) => expectSameValue(after[i], expectedAfter.get(key), `${context}: ${preview(key)}`));
  });

  const readKeys = fc.oneof(
    { weight: 10, arbitrary: fc.array(batchKey, { maxLength: 10 }) },
    { weight: 1, arbitrary: fc.sparseArray(batchKey, { maxLength: 4 }) },
    { weight: 1, arbitrary: fc.constantFrom<unknown>(undefined, null, 'abc', new Set(['a']), { 0: 'a', length: 1 }, 3) },
  );

  it.prop([readKeys, fc.array(fc.tuple(fc.constantFrom<string>('a', 'b', 'c', 'd', 'é'), fc.jsonValue({ maxDepth: 1 })), { maxLength: 4 })], log.params(150))(
    'reads never reject because of the cache: only a non-array or an invalid key rejects, and answers line up with the keys',
    async (keys, stored) => {
      const property = name('reads');
      log.case(property);
      await cache.clear();
      await cache.mset(stored);
      const model = new Map(stored.map(([key, value]) => [key, expectedEncoding(value, MAX_VALUE_BYTES, backend)] as const));
      const defects = new Set<string>();
      if (!Array.isArray(keys)) defects.add(INVALID_ARGUMENT);
      else for (let i = 0; i < keys.length; i++) if (keyDefect(keys[i], limits) !== undefined) defects.add(INVALID_KEY);
      const context = `read ${preview(keys)}`;

      const values = await log.settle(property, () => cache.mget(keys as string[]));
      const detailed = await log.settle(property, () => cache.mgetDetailed(keys as string[]));
      if (defects.size > 0) {
        expectRejectedFor(values, defects, context);
        expectRejectedFor(detailed, defects, context);
        return;
      }
      const list = keys as string[];
      const answers = expectResolved(values, context);
      const details = expectResolved(detailed, context);
      expect(answers).toHaveLength(list.length);
      list.forEach((key, i) => {
        const expected = model.get(key);
        const readBack = expected?.ok ? expected.readBack : undefined;
        expectSameValue(answers[i], readBack, `${context}[${i}]`);
        expect(details[i]!.key).toBe(key);
        // A healthy pool never reports a failed key.
        expect(details[i]!.status).toBe(readBack === undefined ? 'miss' : 'hit');
        expectSameValue(details[i]!.value, readBack, `${context}[${i}] detailed`);
        expect(details[i]!.node).toBe(cache.nodeFor(key));
      });
      for (const key of new Set(list)) {
        const single = await log.settle(property, () => cache.get(key));
        const expected = model.get(key);
        expectSameValue(expectResolved(single, context), expected?.ok ? expected.readBack : undefined, `get ${preview(key)}`);
      }
    },
  );

  /** What a loader does: answer (sync or async), fail (sync or async), or not be a function at all. */
  const singleLoader = fc.oneof(
    { weight: 4, arbitrary: fc.tuple(fc.constant('returns' as const), smallValue, fc.boolean()) },
    { weight: 2, arbitrary: fc.tuple(fc.constant('throws' as const), fc.constant(undefined), fc.boolean()) },
    { weight: 1, arbitrary: fc.tuple(fc.constant('not a function' as const), fc.constantFrom<unknown>(null, 'load', 1, {}), fc.constant(false)) },
  );

  it.prop([fc.oneof(validAsciiKey, anyKey), fc.option(fc.jsonValue({ maxDepth: 1 }), { nil: undefined }), singleLoader, anyWriteOptions], log.params(120))(
    'getOrLoad: loader answers and errors pass through untouched; the cache adds only typed input errors; the write-back stores the answer or nothing',
    async (key, cached, [kind, answer, async], options) => {
      const property = name('getOrLoad');
      log.case(property);
      await cache.clear();
      const keyOk = keyDefect(key, limits) === undefined;
      if (keyOk && cached !== undefined) await cache.set(key as string, cached);
      const failure = new LoaderFailure('the database is down');
      let calls = 0;
      const loader =
        kind === 'not a function'
          ? answer
          : () => {
              calls++;
              if (kind === 'throws') {
                if (async) return Promise.reject(failure);
                throw failure;
              }
              return async ? Promise.resolve(answer) : answer;
            };
      const defects = new Set<string>();
      if (!keyOk) defects.add(INVALID_KEY);
      if (kind === 'not a function') defects.add(INVALID_ARGUMENT);
      if (optionsDefect(options) !== undefined) defects.add(INVALID_ARGUMENT);
      const context = `getOrLoad(${preview(key)}, ${kind} ${preview(answer)}, ${preview(options)}) with ${preview(cached)} cached`;

      const result = await log.settle(property, () => cache.getOrLoad(key as string, loader as () => unknown, options as never));
      if (defects.size > 0) {
        expectRejectedFor(result, defects, context);
        expect(calls).toBe(0);
        return;
      }
      const k = key as string;
      if (cached !== undefined) {
        const hit = expectedEncoding(cached, MAX_VALUE_BYTES, backend);
        expectSameValue(expectResolved(result, context), hit.ok ? hit.readBack : undefined, context);
        expect(calls, `${context}: a hit must not call the loader`).toBe(0);
        return;
      }
      expect(calls).toBe(1);
      if (kind === 'throws') {
        expect(result.ok).toBe(false);
        // The loader's own error, not a wrapper.
        expect((result as { error: unknown }).error).toBe(failure);
        expect(await cache.get(k)).toBeUndefined();
        return;
      }
      expect(expectResolved(result, context)).toBe(answer);
      const expected = expectedEncoding(answer, MAX_VALUE_BYTES, backend);
      const stored = await settledRead(k, expected.ok ? expected.readBack : undefined);
      if (expected.ok && ttlOf(options) !== 1) expectSameValue(stored, expected.readBack, `${context}: write-back`);
      else if (!expected.ok) expect(stored, `${context}: nothing stored for an unencodable answer`).toBeUndefined();
    },
  );

  /**
   * The write-back is best effort and not awaited: read until it shows, then
   * return what is there. Bounded at about 2 s (the write's own deadline), so
   * a busy machine delays the check instead of failing it.
   */
  async function settledRead(key: string, hoped: unknown): Promise<unknown> {
    let value: unknown;
    for (let attempt = 0; attempt < WRITE_BACK_POLLS; attempt++) {
      value = await cache.get(key);
      if (hoped === undefined || value !== undefined) return value;
      await new Promise((resolve) => setTimeout(resolve, WRITE_BACK_POLL_MS));
    }
    return value;
  }

  const batchLoaderKind = fc.oneof(
    { weight: 5, arbitrary: fc.tuple(fc.constant('array' as const), fc.array(smallValue, { maxLength: 8 })) },
    { weight: 3, arbitrary: fc.tuple(fc.constant('map' as const), fc.array(smallValue, { maxLength: 8 })) },
    { weight: 1, arbitrary: fc.tuple(fc.constant('wrong length' as const), fc.array(smallValue, { maxLength: 3 })) },
    { weight: 1, arbitrary: fc.tuple(fc.constant('garbage' as const), fc.constantFrom<unknown[]>([null], [undefined], ['text'], [7], [new Set([1])])) },
    { weight: 1, arbitrary: fc.tuple(fc.constant('throws' as const), fc.constant([])) },
    { weight: 1, arbitrary: fc.tuple(fc.constant('not a function' as const), fc.constant([])) },
  );

  it.prop(
    [
      fc.oneof({ weight: 8, arbitrary: fc.array(batchKey, { maxLength: 6 }) }, { weight: 1, arbitrary: fc.constantFrom<unknown>('ab', null, undefined) }),
      fc.array(fc.tuple(fc.constantFrom<string>('a', 'b', 'c', 'd', 'é'), fc.jsonValue({ maxDepth: 1 })), { maxLength: 3 }),
      batchLoaderKind,
      anyWriteOptions,
    ],
    log.params(120),
  )('mgetOrLoad: the loader gets only the missing keys; its answers and errors pass through; bad shapes are typed errors', async (keys, stored, [kind, answers], options) => {
    const property = name('mgetOrLoad');
    log.case(property);
    await cache.clear();
    await cache.mset(stored);
    const cachedValues = new Map(stored.map(([key, value]) => [key, JSON.parse(JSON.stringify(value)) as unknown] as const));
    const failure = new LoaderFailure('the database is down');
    let askedFor: string[] | undefined;
    const loader =
      kind === 'not a function'
        ? 'load'
        : async (missing: string[]) => {
            askedFor = missing;
            if (kind === 'throws') throw failure;
            if (kind === 'garbage') return answers[0];
            if (kind === 'map') return new Map(missing.map((key, i) => [key, answers[i]]));
            if (kind === 'wrong length') return missing.map((_, i) => answers[i]).concat([1]);
            return missing.map((_, i) => answers[i]);
          };
    const defects = new Set<string>();
    if (kind === 'not a function') defects.add(INVALID_ARGUMENT);
    if (optionsDefect(options) !== undefined) defects.add(INVALID_ARGUMENT);
    if (!Array.isArray(keys)) defects.add(INVALID_ARGUMENT);
    else if (keys.some((key) => keyDefect(key, limits) !== undefined)) defects.add(INVALID_KEY);
    const context = `mgetOrLoad(${preview(keys)}, ${kind} ${preview(answers)}, ${preview(options)})`;

    const result = await log.settle(property, () => cache.mgetOrLoad(keys as string[], loader as never, options as never));
    if (defects.size > 0) {
      expectRejectedFor(result, defects, context);
      expect(askedFor).toBeUndefined();
      return;
    }
    const list = keys as string[];
    const missing = [...new Set(list.filter((key) => !cachedValues.has(key)))];
    if (missing.length === 0) {
      expect(askedFor, `${context}: every key hit`).toBeUndefined();
      const values = expectResolved(result, context);
      list.forEach((key, i) => expectSameValue(values[i], cachedValues.get(key), `${context}[${i}]`));
      return;
    }
    expect(askedFor).toEqual(missing);
    if (kind === 'throws') {
      expect((result as { error: unknown }).error).toBe(failure);
      return;
    }
    if (kind === 'wrong length' || kind === 'garbage') {
      // A Map or an array aligned with the keys is the contract; anything else is a typed argument error.
      expectRejectedFor(result, new Set([INVALID_ARGUMENT]), context);
      return;
    }
    const values = expectResolved(result, context);
    const loaded = new Map(missing.map((key, i) => [key, answers[i]]));
    list.forEach((key, i) => {
      if (cachedValues.has(key)) expectSameValue(values[i], cachedValues.get(key), `${context}[${i}] hit`);
      else expect(values[i], `${context}[${i}] loaded`).toBe(loaded.get(key));
    });
  });

  // -- namespace views ---------------------------------------------------------

  const nsKey = fc.oneof({ weight: 6, arbitrary: fc.constantFrom<unknown>('a', 'b', '\u00e9', 'k'.repeat(200)) }, { weight: 2, arbitrary: anyKey });
  const nsOp = fc.oneof(
    fc.record({ op: fc.constant('set' as const), key: nsKey, value: smallValue }),
    fc.record({ op: fc.constant('mset' as const), entries: fc.array(anyEntry(nsKey, smallValue), { maxLength: 3 }) }),
    fc.record({ op: fc.constant('get' as const), key: nsKey }),
    fc.record({ op: fc.constant('mget' as const), keys: fc.array(nsKey, { maxLength: 3 }) }),
    fc.record({ op: fc.constant('mgetDetailed' as const), keys: fc.array(nsKey, { maxLength: 3 }) }),
    fc.record({ op: fc.constant('del' as const), key: nsKey }),
    fc.record({ op: fc.constant('getOrLoad' as const), key: nsKey, value: smallValue }),
    fc.record({ op: fc.constant('mgetOrLoad' as const), keys: fc.array(nsKey, { maxLength: 3 }), value: smallValue }),
    fc.record({ op: fc.constant('invalidate' as const) }),
  );

  it.prop([anyNamespaceName, fc.array(nsOp, { minLength: 1, maxLength: 12 })], log.params(100))(
    'namespace views: names and keys are checked before anything is sent, and every call agrees with a model of the namespace',
    async (nsName, ops) => {
      const property = name('namespace views');
      log.case(property);
      await cache.clear();
      const defect = namespaceDefect(nsName, limits);
      const view = await log.settle(property, () => cache.namespace(nsName as string));
      const bump = await log.settle(property, () => cache.invalidateNamespace(nsName as string));
      if (defect !== undefined) {
        expectRejectedFor(view, new Set([INVALID_ARGUMENT]), `namespace ${preview(nsName)} (${defect})`);
        expectRejectedFor(bump, new Set([INVALID_ARGUMENT]), `invalidateNamespace ${preview(nsName)} (${defect})`);
        return;
      }
      const ns = expectResolved(view, `namespace ${preview(nsName)}`);
      let version = expectResolved(bump, 'invalidateNamespace');
      let prefix = `${nsName as string}:${version}:`;
      const model = new Map<string, unknown>();
      const keyOk = (key: unknown) => typeof key === 'string' && key.length > 0 && keyDefect(prefix + key, limits) === undefined;
      for (const [step, o] of ops.entries()) {
        const context = `${preview(nsName)} step ${step} ${preview(o)}`;
        switch (o.op) {
          case 'set': {
            const expected = expectedEncoding(o.value, MAX_VALUE_BYTES, backend);
            const result = await log.settle(property, () => ns.set(o.key as string, o.value));
            const defects = new Set<string>();
            if (!keyOk(o.key)) defects.add(INVALID_KEY);
            if (!expected.ok) defects.add(INVALID_VALUE);
            if (defects.size > 0) expectRejectedFor(result, defects, context);
            else {
              expectResolved(result, context);
              model.set(o.key as string, (expected as { readBack: unknown }).readBack);
            }
            break;
          }
          case 'mset': {
            const result = await log.settle(property, () => ns.mset(o.entries as [string, unknown][]));
            const defects = new Set<string>();
            for (const entry of o.entries) {
              if (!Array.isArray(entry) || entry.length !== 2) defects.add(INVALID_ARGUMENT);
              else {
                if (!keyOk(entry[0])) defects.add(INVALID_KEY);
                if (!expectedEncoding(entry[1], MAX_VALUE_BYTES, backend).ok) defects.add(INVALID_VALUE);
              }
            }
            if (defects.size > 0) expectRejectedFor(result, defects, context);
            else {
              expectResolved(result, context);
              for (const [key, value] of o.entries as [string, unknown][]) model.set(key, (expectedEncoding(value, MAX_VALUE_BYTES, backend) as { readBack: unknown }).readBack);
            }
            break;
          }
          case 'get': {
            const result = await log.settle(property, () => ns.get(o.key as string));
            if (!keyOk(o.key)) expectRejectedFor(result, new Set([INVALID_KEY]), context);
            else expectSameValue(expectResolved(result, context), model.get(o.key as string), context);
            break;
          }
          case 'mget':
          case 'mgetDetailed': {
            const keys = o.keys as string[];
            const result = await log.settle(property, () => (o.op === 'mget' ? ns.mget(keys) : ns.mgetDetailed(keys)));
            if (!keys.every(keyOk)) {
              expectRejectedFor(result, new Set([INVALID_KEY]), context);
              break;
            }
            const answers = expectResolved(result, context) as unknown[];
            keys.forEach((key, i) => {
              if (o.op === 'mgetDetailed') {
                const detail = answers[i] as { key: string; status: string; value: unknown };
                // The view reports the caller's key, without the prefix.
                expect(detail.key).toBe(key);
                expect(detail.status).toBe(model.has(key) ? 'hit' : 'miss');
                expectSameValue(detail.value, model.get(key), `${context}[${i}]`);
              } else expectSameValue(answers[i], model.get(key), `${context}[${i}]`);
            });
            break;
          }
          case 'del': {
            const result = await log.settle(property, () => ns.del(o.key as string));
            if (!keyOk(o.key)) expectRejectedFor(result, new Set([INVALID_KEY]), context);
            else {
              expect(expectResolved(result, context)).toBe(model.has(o.key as string));
              model.delete(o.key as string);
            }
            break;
          }
          case 'getOrLoad': {
            const result = await log.settle(property, () => ns.getOrLoad(o.key as string, () => o.value));
            if (!keyOk(o.key)) {
              expectRejectedFor(result, new Set([INVALID_KEY]), context);
              break;
            }
            const key = o.key as string;
            const answer = expectResolved(result, context);
            if (model.has(key)) expectSameValue(answer, model.get(key), context);
            else {
              expect(answer).toBe(o.value);
              const expected = expectedEncoding(o.value, MAX_VALUE_BYTES, backend);
              const stored = await settledNsRead(ns, key, expected.ok ? expected.readBack : undefined);
              if (stored !== undefined) model.set(key, stored);
              expectSameValue(stored, expected.ok ? expected.readBack : undefined, `${context}: write-back`);
            }
            break;
          }
          case 'mgetOrLoad': {
            const keys = o.keys as string[];
            let askedFor: string[] = [];
            const result = await log.settle(property, () =>
              ns.mgetOrLoad(keys, (missing) => {
                askedFor = missing;
                return missing.map(() => o.value);
              }),
            );
            if (!keys.every(keyOk)) {
              expectRejectedFor(result, new Set([INVALID_KEY]), context);
              break;
            }
            const answers = expectResolved(result, context);
            // The loader sees the caller's keys, without the prefix.
            expect(askedFor).toEqual([...new Set(keys.filter((key) => !model.has(key)))]);
            keys.forEach((key, i) => (model.has(key) ? expectSameValue(answers[i], model.get(key), `${context}[${i}]`) : expect(answers[i]).toBe(o.value)));
            const expected = expectedEncoding(o.value, MAX_VALUE_BYTES, backend);
            for (const key of askedFor) {
              const stored = await settledNsRead(ns, key, expected.ok ? expected.readBack : undefined);
              if (stored !== undefined) model.set(key, stored);
            }
            break;
          }
          case 'invalidate': {
            const next = expectResolved(await log.settle(property, () => ns.invalidate()), context);
            expect(next, `${context}: the version moves on`).toBeGreaterThan(version);
            version = next;
            prefix = `${nsName as string}:${version}:`;
            model.clear();
            break;
          }
        }
      }
      // Nothing a view wrote is visible without its prefix.
      for (const key of model.keys()) if (keyDefect(key, limits) === undefined) expect(await cache.get(key), `unprefixed ${preview(key)}`).toBeUndefined();
    },
  );

  /** `settledRead` for a namespace view. */
  async function settledNsRead(ns: ReturnType<ShardedCache['namespace']>, key: string, hoped: unknown): Promise<unknown> {
    let value: unknown;
    for (let attempt = 0; attempt < WRITE_BACK_POLLS; attempt++) {
      value = await ns.get(key);
      if (hoped === undefined || value !== undefined) return value;
      await new Promise((resolve) => setTimeout(resolve, WRITE_BACK_POLL_MS));
    }
    return value;
  }

  it.prop([fc.oneof(fc.uniqueArray(anyNamespaceName, { minLength: 2, maxLength: 5 }), confusableNamespaceGroup)], log.params(80))(
    'distinct namespaces never share a version: invalidating one leaves the others readable',
    async (names) => {
      const property = name('namespace isolation');
      log.case(property);
      await cache.clear();
      const valid = (names as unknown[]).filter((n): n is string => namespaceDefect(n, limits) === undefined);
      for (const n of names as unknown[]) {
        if (namespaceDefect(n, limits) !== undefined) expectRejectedFor(await log.settle(property, () => cache.invalidateNamespace(n as string)), new Set([INVALID_ARGUMENT]), `invalidateNamespace ${preview(n)}`);
      }
      // A name can fit its version key and still leave no room for a data key: `name:<16-digit version (microseconds)>:k` must fit too.
      const roomy = valid.filter((n) => keyDefect(`${n}:${Date.now() * 1000}:k`, limits) === undefined);
      for (const n of valid.filter((v) => !roomy.includes(v))) expectRejectedFor(await log.settle(property, () => cache.namespace(n).set('k', 0)), new Set([INVALID_KEY]), `set in ${preview(n)}`);
      for (const [i, n] of roomy.entries()) expectResolved(await log.settle(property, () => cache.namespace(n).set('k', i)), `set in ${preview(n)}`);
      if (roomy.length === 0) return;
      expectResolved(await log.settle(property, () => cache.invalidateNamespace(roomy[0]!)), `invalidate ${preview(roomy[0])}`);
      expect(await cache.namespace(roomy[0]!).get('k')).toBeUndefined();
      for (const [i, n] of roomy.entries()) if (i > 0) expect(await cache.namespace(n).get('k'), `namespace ${preview(n)} after invalidating ${preview(roomy[0])}`).toBe(i);
    },
  );

  // -- random sequences against a model -------------------------------------

  const poolKey = fc.constantFrom<string>('a', 'b', 'c', 'key with space', 'é', 'x\ud800');
  // No 1-second TTLs here: such a key may expire mid-sequence (memcached's clock ticks whole seconds), and the model would have to guess.
  const sequenceOptions = anyWriteOptions.filter((options) => optionsDefect(options) !== undefined || ttlOf(options) !== 1);
  const op = fc.oneof(
    fc.record({ op: fc.constant('set' as const), key: poolKey, value: smallValue, options: sequenceOptions }),
    fc.record({ op: fc.constant('mset' as const), entries: fc.array(fc.tuple(poolKey, smallValue), { maxLength: 4 }) }),
    fc.record({ op: fc.constant('del' as const), key: poolKey }),
    fc.record({ op: fc.constant('get' as const), key: poolKey }),
    fc.record({ op: fc.constant('mget' as const), keys: fc.array(poolKey, { maxLength: 5 }) }),
    fc.record({ op: fc.constant('mgetDetailed' as const), keys: fc.array(poolKey, { maxLength: 5 }) }),
    fc.record({ op: fc.constant('getOrLoad' as const), key: poolKey, value: smallValue }),
    fc.record({ op: fc.constant('mgetOrLoad' as const), keys: fc.array(poolKey, { maxLength: 4 }), value: smallValue }),
    fc.record({ op: fc.constant('invalidate' as const), pattern: fc.constantFrom('*', 'a', '[ab]', 'k*', '\\*', 'x\ud800*', '') }),
    fc.record({ op: fc.constant('clear' as const) }),
  );

  it.prop([fc.array(op, { minLength: 1, maxLength: 20 })], log.params(60))(
    'random call sequences agree with a model of the store after every step',
    async (ops) => {
      const property = name('sequences');
      log.case(property);
      await cache.clear();
      const model = new Map<string, unknown>();
      const valid = (key: unknown) => keyDefect(key, limits) === undefined;
      for (const [step, o] of ops.entries()) {
        const context = `step ${step} ${preview(o)}`;
        switch (o.op) {
          case 'set': {
            const expected = expectedEncoding(o.value, MAX_VALUE_BYTES, backend);
            const result = await log.settle(property, () => cache.set(o.key, o.value, o.options as never));
            const defects = new Set<string>();
            if (!valid(o.key)) defects.add(INVALID_KEY);
            if (!expected.ok) defects.add(INVALID_VALUE);
            if (optionsDefect(o.options) !== undefined) defects.add(INVALID_ARGUMENT);
            if (defects.size > 0) expectRejectedFor(result, defects, context);
            else {
              expectResolved(result, context);
              model.set(o.key, (expected as { readBack: unknown }).readBack);
            }
            break;
          }
          case 'mset': {
            const result = await log.settle(property, () => cache.mset(o.entries));
            const defects = new Set<string>();
            for (const [key, value] of o.entries) {
              if (!valid(key)) defects.add(INVALID_KEY);
              if (!expectedEncoding(value, MAX_VALUE_BYTES, backend).ok) defects.add(INVALID_VALUE);
            }
            if (defects.size > 0) expectRejectedFor(result, defects, context);
            else {
              expectResolved(result, context);
              for (const [key, value] of o.entries) model.set(key, (expectedEncoding(value, MAX_VALUE_BYTES, backend) as { readBack: unknown }).readBack);
            }
            break;
          }
          case 'del': {
            const result = await log.settle(property, () => cache.del(o.key));
            if (!valid(o.key)) expectRejectedFor(result, new Set([INVALID_KEY]), context);
            else {
              expect(expectResolved(result, context), `${context}: existed`).toBe(model.has(o.key));
              model.delete(o.key);
            }
            break;
          }
          case 'get': {
            const result = await log.settle(property, () => cache.get(o.key));
            if (!valid(o.key)) expectRejectedFor(result, new Set([INVALID_KEY]), context);
            else expectModel(o.key, expectResolved(result, context), context);
            break;
          }
          case 'mget':
          case 'mgetDetailed': {
            const result = await log.settle(property, () => (o.op === 'mget' ? cache.mget(o.keys) : cache.mgetDetailed(o.keys)));
            if (!o.keys.every(valid)) {
              expectRejectedFor(result, new Set([INVALID_KEY]), context);
              break;
            }
            const answers = expectResolved(result, context) as unknown[];
            o.keys.forEach((key, i) => {
              const answer = o.op === 'mget' ? answers[i] : (answers[i] as { value: unknown }).value;
              expectModel(key, answer, `${context}[${i}]`);
            });
            break;
          }
          case 'getOrLoad': {
            const result = await log.settle(property, () => cache.getOrLoad(o.key, () => o.value));
            if (!valid(o.key)) {
              expectRejectedFor(result, new Set([INVALID_KEY]), context);
              break;
            }
            const answer = expectResolved(result, context);
            if (model.has(o.key)) expectSameValue(answer, model.get(o.key), context);
            else {
              expect(answer).toBe(o.value);
              const expected = expectedEncoding(o.value, MAX_VALUE_BYTES, backend);
              const stored = await settledRead(o.key, expected.ok ? expected.readBack : undefined);
              if (stored === undefined) model.delete(o.key);
              else model.set(o.key, stored);
              expectModel(o.key, stored, `${context}: write-back`);
            }
            break;
          }
          case 'mgetOrLoad': {
            const result = await log.settle(property, () => cache.mgetOrLoad(o.keys, (missing) => missing.map(() => o.value)));
            if (!o.keys.every(valid)) {
              expectRejectedFor(result, new Set([INVALID_KEY]), context);
              break;
            }
            const answers = expectResolved(result, context);
            const expected = expectedEncoding(o.value, MAX_VALUE_BYTES, backend);
            for (const [i, key] of o.keys.entries()) {
              if (model.has(key)) expectSameValue(answers[i], model.get(key), `${context}[${i}]`);
              else expect(answers[i]).toBe(o.value);
            }
            for (const key of new Set(o.keys)) {
              if (model.has(key)) continue;
              const stored = await settledRead(key, expected.ok ? expected.readBack : undefined);
              if (stored === undefined) model.delete(key);
              else model.set(key, stored);
            }
            break;
          }
          case 'invalidate': {
            const result = await log.settle(property, () => cache.invalidate(o.pattern));
            const defects = new Set<string>();
            // A lone surrogate would reach Redis as U+FFFD and match other keys than the caller named.
            if (o.pattern === '' || !o.pattern.isWellFormed()) defects.add(INVALID_ARGUMENT);
            if (backend === 'memcached') defects.add('SHARDCACHE_UNSUPPORTED');
            if (defects.size > 0) expectRejectedFor(result, defects, context);
            else {
              const matching = [...model.keys()].filter((key) => globMatches(o.pattern, key));
              expect(expectResolved(result, context).deleted, context).toBe(matching.length);
              for (const key of matching) model.delete(key);
            }
            break;
          }
          case 'clear': {
            expectResolved(await log.settle(property, () => cache.clear()), context);
            model.clear();
            break;
          }
        }
      }

      function expectModel(key: string, actual: unknown, context: string): void {
        expectSameValue(actual, model.get(key), context);
      }
    },
  );

  // -- concurrency -------------------------------------------------------------

  let concurrentCase = 0;
  type Op = typeof op extends fc.Arbitrary<infer T> ? T : never;
  /** `o` with every key suffixed by `tag`. */
  function retag(o: Op, tag: string): Op {
    if ('key' in o) return { ...o, key: o.key + tag };
    if ('keys' in o) return { ...o, keys: o.keys.map((key) => key + tag) };
    if (o.op === 'mset') return { ...o, entries: o.entries.map(([key, value]) => [key + tag, value] as [string, unknown]) };
    return o;
  }

  it.prop([fc.array(op, { minLength: 2, maxLength: 24 })], log.params(60))(
    'concurrent calls settle with values or typed errors, never an unhandled rejection, and leave each key holding a value some accepted write gave it',
    async (ops) => {
      const property = name('concurrent calls');
      log.case(property);
      await cache.clear();
      // Keys get this case's own suffix: a loader write-back of an earlier case that lands late
      // (it is never awaited) cannot reach them. An invalid key stays invalid with it.
      const tag = `#${++concurrentCase}`;
      ops = ops.map((o) => retag(o, tag));
      // Each key starts with a known value; afterwards it may hold that, any value an accepted write
      // (or loader write-back) gave it, or nothing if a delete, clear or invalidate was accepted.
      const keys = ['a', 'b', 'c', '\u00e9'].map((key) => key + tag);
      await cache.mset(keys.map((key) => [key, `start:${key}`] as const));
      const outcomes = await Promise.all(
        ops.map((o) =>
          log.settle(property, (): Promise<unknown> => {
            switch (o.op) {
              case 'set':
                return cache.set(o.key, o.value, o.options as never);
              case 'mset':
                return cache.mset(o.entries);
              case 'del':
                return cache.del(o.key);
              case 'get':
                return cache.get(o.key);
              case 'mget':
                return cache.mget(o.keys);
              case 'mgetDetailed':
                return cache.mgetDetailed(o.keys);
              case 'getOrLoad':
                return cache.getOrLoad(o.key, () => o.value);
              case 'mgetOrLoad':
                return cache.mgetOrLoad(o.keys, (missing) => missing.map(() => o.value));
              case 'invalidate':
                return cache.invalidate(o.pattern);
              case 'clear':
                return cache.clear();
            }
          }),
        ),
      );
      const allowed = new Set<string>([...INPUT_CODES, 'SHARDCACHE_UNSUPPORTED']);
      const possible = new Map(keys.map((key) => [key, [`start:${key}`] as unknown[]]));
      const mayBeGone = (key: string) => possible.get(key)?.push(undefined);
      outcomes.forEach((outcome, i) => {
        const o = ops[i]!;
        if (!outcome.ok) {
          expectTyped(outcome.error, allowed);
          return;
        }
        if (o.op === 'del') mayBeGone(o.key);
        if (o.op === 'clear' || o.op === 'invalidate') keys.forEach(mayBeGone);
        // A 1-second TTL may already have run out.
        if (o.op === 'set' && ttlOf(o.options) === 1) mayBeGone(o.key);
        if (o.op === 'get' || o.op === 'mget' || o.op === 'mgetDetailed' || o.op === 'del' || o.op === 'invalidate' || o.op === 'clear') return;
        const writes: [string, unknown][] = o.op === 'set' || o.op === 'getOrLoad' ? [[o.key, o.value]] : o.op === 'mset' ? o.entries : o.keys.map((key) => [key, o.value]);
        for (const [key, value] of writes) {
          const expected = expectedEncoding(value, MAX_VALUE_BYTES, backend);
          if (expected.ok) possible.get(key)?.push(expected.readBack);
        }
      });
      // Best-effort write-backs may still be in flight; whatever they leave is among the candidates.
      const finals = await cache.mget(keys);
      keys.forEach((key, i) => {
        const candidates = possible.get(key)!;
        const matches = candidates.some((candidate) => {
          try {
            expectSameValue(finals[i], candidate, '');
            return true;
          } catch {
            return false;
          }
        });
        expect(matches, `${key} holds ${preview(finals[i])}, which no accepted write gave it`).toBe(true);
      });
    },
  );

  // -- a hung node -------------------------------------------------------------

  describe('with one node hung (SIGSTOP, or a paused in-process node)', () => {
    let hungCache: ShardedCache;
    let hungAddress: string;
    let before: HandleCounts;
    const seeded = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];

    beforeAll(async () => {
      before = openHandles();
      const nodes = backend === 'memory' ? ['mem-a:1', 'mem-b:2', 'mem-c:3'] : servers.map((server) => server.address);
      // Short deadlines so a hung node costs little; no probe during the property.
      hungCache = await createCache(
        { backend, nodes, timeouts: { getMs: 25, setMs: 25, batchMs: 50, connectMs: 1000 }, health: { retryTimeoutMs: 600_000 }, memory: { maxEntriesPerNode: 1000 } },
        { env: {} },
      );
      await hungCache.mset(seeded.map((key) => [key, `v:${key}`] as const));
      hungAddress = hungCache.nodeFor('a');
      if (backend === 'memory') pauseMemoryNode(hungCache, hungAddress);
      else servers.find((server) => server.address === hungAddress)!.pause();
    });

    afterAll(async () => {
      if (backend === 'memory') resumeMemoryNode(hungCache, hungAddress);
      else servers.find((server) => server.address === hungAddress)?.resume();
      await hungCache?.close();
      await expectNothingLeftOpen(before);
    });

    const hungOp = fc.oneof(
      fc.record({ op: fc.constant('get' as const), keys: fc.array(fc.constantFrom(...seeded), { minLength: 1, maxLength: 1 }) }),
      fc.record({ op: fc.constant('mget' as const), keys: fc.array(fc.constantFrom(...seeded), { maxLength: 6 }) }),
      fc.record({ op: fc.constant('mgetDetailed' as const), keys: fc.array(fc.constantFrom(...seeded), { maxLength: 6 }) }),
      fc.record({ op: fc.constant('getOrLoad' as const), keys: fc.array(fc.constantFrom(...seeded), { minLength: 1, maxLength: 1 }) }),
      fc.record({ op: fc.constant('mgetOrLoad' as const), keys: fc.array(fc.constantFrom(...seeded), { maxLength: 6 }) }),
      fc.record({ op: fc.constant('set' as const), keys: fc.array(fc.constantFrom(...seeded), { minLength: 1, maxLength: 1 }) }),
      fc.record({ op: fc.constant('mset' as const), keys: fc.array(fc.constantFrom(...seeded), { maxLength: 4 }) }),
      fc.record({ op: fc.constant('del' as const), keys: fc.array(fc.constantFrom(...seeded), { minLength: 1, maxLength: 1 }) }),
    );

    it.prop([fc.array(hungOp, { minLength: 1, maxLength: 6 }), fc.boolean()], log.params(25))(
      'reads never reject because of the cache; writes to the hung node fail with a typed node error; answers are the value, a miss, or a fallback',
      async (ops, concurrently) => {
        const property = name('hung node');
        log.case(property);
        const run = (o: (typeof ops)[number]): Promise<unknown> => {
          const [key] = o.keys;
          switch (o.op) {
            case 'get':
              return hungCache.get(key!);
            case 'mget':
              return hungCache.mget(o.keys);
            case 'mgetDetailed':
              return hungCache.mgetDetailed(o.keys);
            case 'getOrLoad':
              return hungCache.getOrLoad(key!, () => `loaded:${key!}`);
            case 'mgetOrLoad':
              return hungCache.mgetOrLoad(o.keys, (missing) => missing.map((k) => `loaded:${k}`));
            case 'set':
              return hungCache.set(key!, `v:${key!}`);
            case 'mset':
              return hungCache.mset(o.keys.map((k) => [k, `v:${k}`] as const));
            case 'del':
              return hungCache.del(key!);
          }
        };
        const outcomes = concurrently
          ? await Promise.all(ops.map((o) => log.settle(property, () => run(o))))
          : await ops.reduce<Promise<Awaited<ReturnType<typeof log.settle>>[]>>(async (done, o) => [...(await done), await log.settle(property, () => run(o))], Promise.resolve([]));
        outcomes.forEach((outcome, i) => {
          const o = ops[i]!;
          const isRead = o.op !== 'set' && o.op !== 'mset' && o.op !== 'del';
          if (isRead) {
            expect(outcome.ok, `${o.op} rejected: ${outcome.ok ? '' : String((outcome as { error: unknown }).error)}`).toBe(true);
            const values = o.op === 'get' || o.op === 'getOrLoad' ? [(outcome as { value: unknown }).value] : ((outcome as { value: unknown[] }).value as unknown[]);
            values.forEach((value, j) => {
              const key = o.keys[j]!;
              const answer = o.op === 'mgetDetailed' ? (value as { value: unknown; status: string }).value : value;
              if (o.op === 'mgetDetailed') expect(['hit', 'miss', 'failed']).toContain((value as { status: string }).status);
              // Only what was written, nothing (a miss or a failure), or the loader's fallback.
              expect([`v:${key}`, `loaded:${key}`, undefined], `${o.op} ${key}`).toContain(answer);
            });
          } else if (!outcome.ok) {
            expectTyped(outcome.error, ['SHARDCACHE_DEADLINE', 'SHARDCACHE_NODE', 'SHARDCACHE_BREAKER_OPEN', 'SHARDCACHE_WRITE_FAILED']);
          }
        });
      },
    );
  });

  // -- after close ---------------------------------------------------------------

  describe('after close()', () => {
    // A view made while the cache was open; a new one cannot be made after close().
    let view: ReturnType<ShardedCache['namespace']>;
    beforeAll(async () => {
      view = cache.namespace('closed');
      await cache.close();
    });

    it.prop([anyKey, smallValue], log.params(40))('every call rejects with ClosedError (or the input error found first), and nothing is left open', async (key, value) => {
      const property = name('after close');
      log.case(property);
      const allowed = new Set(['SHARDCACHE_CLOSED', ...INPUT_CODES]);
      expect(() => cache.namespace('closed')).toThrow(expect.objectContaining({ code: 'SHARDCACHE_CLOSED' }));
      expect(() => cache.nodeFor('k')).toThrow(expect.objectContaining({ code: 'SHARDCACHE_CLOSED' }));
      const calls: (() => Promise<unknown>)[] = [
        () => cache.get(key as string),
        () => cache.mget([key as string]),
        () => cache.mgetDetailed([key as string]),
        () => cache.set(key as string, value),
        () => cache.mset([[key as string, value]]),
        () => cache.del(key as string),
        () => cache.getOrLoad(key as string, () => value),
        () => cache.mgetOrLoad([key as string], () => [value]),
        () => cache.invalidate('*'),
        () => cache.clear(),
        () => cache.invalidateNamespace('closed'),
        () => view.get(key as string),
        () => view.set(key as string, value),
        () => view.mgetOrLoad([key as string], () => [value]),
      ];
      for (const call of calls) {
        const result = await log.settle(property, call);
        expect(result.ok, 'a closed cache must not answer').toBe(false);
        expectTyped((result as { error: unknown }).error, allowed);
      }
    });

    it('left no socket or timer behind', async () => {
      await cache.close(); // idempotent
      await expectNothingLeftOpen(handlesBefore);
    });
  });
});

/** Redis glob semantics for the few patterns the sequence property uses (over UTF-16 code units; the keys are well-formed). */
function globMatches(pattern: string, key: string): boolean {
  switch (pattern) {
    case '*':
      return true;
    case '[ab]':
      return key === 'a' || key === 'b';
    case 'k*':
      return key.startsWith('k');
    case '\\*':
      return key === '*';
    default:
      return key === pattern;
  }
}
