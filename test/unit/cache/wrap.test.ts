/**
 * `cache.wrap(fn, { key, ttl })` on in-process nodes: memoized by the key
 * built from the arguments, one call of `fn` for concurrent callers, errors
 * and `undefined` never cached, namespace views, a failed cache node only
 * means `fn` runs, and bad options rejected at once.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCache, InvalidArgumentError, InvalidKeyError, type ShardedCache } from '../../../src/index.js';
import { pauseMemoryNode, resumeMemoryNode } from '../../../src/testing.js';

describe('cache.wrap', () => {
  let cache: ShardedCache;

  beforeEach(async () => {
    cache = await createCache({ backend: 'memory', nodes: ['mem-a:1', 'mem-b:2'], timeouts: { getMs: 50, setMs: 50 } }, { env: {} });
  });

  afterEach(async () => {
    await cache.close();
  });

  it('calls fn once per key and serves later calls from the cache', async () => {
    const calls: number[] = [];
    const user = cache.wrap(async (id: number) => (calls.push(id), { id, name: `user ${id}` }), { key: (id) => `user:${id}`, ttl: 60 });
    expect(await user(1)).toEqual({ id: 1, name: 'user 1' });
    expect(await user(1)).toEqual({ id: 1, name: 'user 1' });
    expect(await user(2)).toEqual({ id: 2, name: 'user 2' });
    expect(calls).toEqual([1, 2]);
    expect(await cache.get('user:1')).toEqual({ id: 1, name: 'user 1' });
  });

  it('shares one call of fn between concurrent callers of one key', async () => {
    let calls = 0;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const slow = cache.wrap(async (id: string) => (calls++, await gate, `value ${id}`), { key: (id) => `slow:${id}` });
    const callers = Array.from({ length: 20 }, () => slow('x'));
    release();
    expect(new Set(await Promise.all(callers))).toEqual(new Set(['value x']));
    expect(calls).toBe(1);
  });

  it('does not cache errors or undefined', async () => {
    let calls = 0;
    const flaky = cache.wrap(
      async () => {
        calls++;
        if (calls === 1) throw new Error('database down');
        return calls === 2 ? undefined : 'ok';
      },
      { key: () => 'flaky' },
    );
    await expect(flaky()).rejects.toThrow('database down');
    expect(await flaky()).toBeUndefined();
    expect(await flaky()).toBe('ok');
    expect(await flaky()).toBe('ok');
    expect(calls).toBe(3);
  });

  it('keeps keys in the namespace of a view, dropped with it', async () => {
    const users = cache.namespace('users');
    let calls = 0;
    const load = users.wrap((id: number) => (calls++, { id }), { key: (id) => String(id), ttl: 60 });
    await load(7);
    await load(7);
    expect(calls).toBe(1);
    expect(await users.get('7')).toEqual({ id: 7 });
    await cache.invalidateNamespace('users');
    await load(7);
    expect(calls).toBe(2);
  });

  it('calls fn when the cache node fails, and never rejects for it', async () => {
    let calls = 0;
    const value = cache.wrap(() => (calls++, 'from the database'), { key: () => 'k' });
    for (const node of ['mem-a:1', 'mem-b:2']) pauseMemoryNode(cache, node);
    try {
      expect(await value()).toBe('from the database');
      expect(calls).toBe(1);
    } finally {
      for (const node of ['mem-a:1', 'mem-b:2']) resumeMemoryNode(cache, node);
    }
  });

  it('rejects bad options at once, and a bad key per call', async () => {
    const fn = (id: number) => id;
    expect(() => cache.wrap(fn, undefined as never)).toThrow(InvalidArgumentError);
    expect(() => cache.wrap(fn, { ttl: 60 } as never)).toThrow(InvalidArgumentError);
    expect(() => cache.wrap(fn, { key: String, ttl: -1 })).toThrow(InvalidArgumentError);
    expect(() => cache.wrap(fn, { key: String, ttl: 1.5 })).toThrow(InvalidArgumentError);
    expect(() => cache.wrap(fn, { key: String, refreshAhead: { beta: -1 } })).toThrow(InvalidArgumentError);
    expect(() => cache.wrap(fn, { key: String, signal: new AbortController().signal } as never)).toThrow(InvalidArgumentError);
    expect(() => cache.wrap('not a function' as never, { key: String })).toThrow(InvalidArgumentError);
    await expect(cache.wrap(fn, { key: () => '' })(1)).rejects.toBeInstanceOf(InvalidKeyError);
  });

  it('passes refreshAhead through to getOrLoad', async () => {
    const value = cache.wrap(() => 'v', { key: () => 'ahead', ttl: 60, refreshAhead: true });
    expect(await value()).toBe('v');
    await expect(cache.wrap(() => 'v', { key: () => 'no-ttl', refreshAhead: true })()).rejects.toBeInstanceOf(InvalidArgumentError);
  });
});
