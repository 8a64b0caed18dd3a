/**
 * Tracing on `diagnostics_channel` tracing channels, seen by a subscriber
 * as an APM tool would: start, end, asyncStart, asyncEnd (and error) per
 * cache call, one context object, the loader's call nested inside
 * getOrLoad's, and an AsyncLocalStorage bound with `start.bindStore` active
 * in the loader (how OpenTelemetry makes a span the parent of the loader's).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import diagnostics from 'node:diagnostics_channel';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createCache, InvalidKeyError, type ShardedCache } from '../../src/index.js';
import { isTraced, traceChannels, type TraceContext } from '../../src/tracing.js';

type Phase = 'start' | 'end' | 'asyncStart' | 'asyncEnd' | 'error';
const PHASES: Phase[] = ['start', 'end', 'asyncStart', 'asyncEnd', 'error'];

interface Seen {
  channel: string;
  phase: Phase;
  context: TraceContext & { result?: unknown; error?: unknown };
}

describe('tracing channels', () => {
  let cache: ShardedCache;
  let seen: Seen[] = [];
  const unsubscribers: (() => void)[] = [];

  function subscribe(names: (keyof typeof traceChannels)[]): void {
    for (const name of names) {
      const handlers = Object.fromEntries(PHASES.map((phase) => [phase, (context: unknown) => seen.push({ channel: name, phase, context: context as Seen['context'] })]));
      diagnostics.tracingChannel(`shardcache:${name}`).subscribe(handlers as never);
      unsubscribers.push(() => diagnostics.tracingChannel(`shardcache:${name}`).unsubscribe(handlers as never));
    }
  }

  beforeAll(async () => {
    cache = await createCache({ backend: 'memory', nodes: ['mem-a:1', 'mem-b:2'] }, { env: {} });
  });

  afterAll(async () => {
    await cache.close();
  });

  afterEach(() => {
    for (const unsubscribe of unsubscribers.splice(0)) unsubscribe();
    seen = [];
  });

  it('publishes nothing, and reports no subscriber, when no one listens', async () => {
    for (const channel of Object.values(traceChannels)) expect(isTraced(channel)).toBe(false);
    await cache.set('quiet', 1);
    expect(await cache.get('quiet')).toBe(1);
    expect(seen).toEqual([]);
  });

  it('publishes start, end, asyncStart, asyncEnd for each call, with its key and result', async () => {
    subscribe(['get', 'set', 'mget', 'mgetDetailed', 'del', 'mset', 'mdel']);
    await cache.set('traced', 'v', { ttl: 60 });
    await cache.get('traced');
    await cache.mget(['traced', 'other']);
    await cache.mset([['a', 1]]);
    await cache.mdel(['a']);
    await cache.del('traced');
    const byChannel = (name: string) => seen.filter((event) => event.channel === name);
    for (const name of ['set', 'get', 'mget', 'mset', 'mdel', 'del']) expect(byChannel(name).map((event) => event.phase)).toEqual(['start', 'end', 'asyncStart', 'asyncEnd']);
    // An mget is one traced call, not an mget around an mgetDetailed.
    expect(byChannel('mgetDetailed')).toEqual([]);
    const get = byChannel('get')[0]!.context;
    expect(get).toMatchObject({ operation: 'get', key: 'traced', result: 'v' });
    expect(typeof get.cache).toBe('number');
    // One context object travels through the phases of one call.
    expect(new Set(byChannel('get').map((event) => event.context)).size).toBe(1);
    expect(byChannel('mget')[0]!.context).toMatchObject({ operation: 'mget', keys: ['traced', 'other'], result: ['v', undefined] });
    expect(byChannel('mset')[0]!.context).toMatchObject({ keys: ['a'] });
    expect(byChannel('del')[0]!.context).toMatchObject({ key: 'traced', result: true });
  });

  it('publishes error for a rejected call', async () => {
    subscribe(['set']);
    await expect(cache.set('', 1)).rejects.toBeInstanceOf(InvalidKeyError);
    expect(seen.map((event) => event.phase)).toEqual(['start', 'end', 'error', 'asyncStart', 'asyncEnd']);
    expect(seen[2]!.context.error).toBeInstanceOf(InvalidKeyError);
  });

  it('nests the loader call inside getOrLoad, and a bound store is active in the loader', async () => {
    subscribe(['getOrLoad', 'load']);
    const storage = new AsyncLocalStorage<string>();
    const start = traceChannels.getOrLoad.start;
    start.bindStore(storage, (context) => `span for ${(context as TraceContext).key}`);
    try {
      let activeInLoader: string | undefined;
      const value = await cache.getOrLoad('loaded', () => ((activeInLoader = storage.getStore()), 'from db'), { ttl: 60 });
      expect(value).toBe('from db');
      expect(activeInLoader).toBe('span for loaded');
      expect(seen.map((event) => `${event.channel}:${event.phase}`)).toEqual([
        'getOrLoad:start',
        'getOrLoad:end',
        'load:start',
        'load:end',
        'load:asyncStart',
        'load:asyncEnd',
        'getOrLoad:asyncStart',
        'getOrLoad:asyncEnd',
      ]);
      expect(seen[2]!.context).toMatchObject({ operation: 'load', key: 'loaded', refresh: false });
      seen = [];
      // A hit: no loader call.
      await cache.getOrLoad('loaded', () => 'unused', { ttl: 60 });
      expect(seen.filter((event) => event.channel === 'load')).toEqual([]);
    } finally {
      start.unbindStore(storage);
    }
  });

  it('publishes loader errors on both channels', async () => {
    subscribe(['getOrLoad', 'load']);
    await expect(cache.getOrLoad('failing', () => Promise.reject(new Error('database down')))).rejects.toThrow('database down');
    const errors = seen.filter((event) => event.phase === 'error');
    expect(errors.map((event) => event.channel)).toEqual(['load', 'getOrLoad']);
  });

  it('traces namespace views through the cache, with the stored key', async () => {
    subscribe(['get']);
    const users = cache.namespace('users');
    await users.get('1');
    const keys = seen.filter((event) => event.phase === 'start').map((event) => event.context.key!);
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatch(/^users:\d+:1$/);
  });

  it('traces administration calls', async () => {
    subscribe(['invalidateNamespace', 'invalidate', 'clear']);
    await cache.invalidateNamespace('users');
    await cache.invalidate('nothing:*');
    await cache.clear();
    expect(seen.filter((event) => event.phase === 'asyncEnd').map((event) => event.context.operation)).toEqual(['invalidateNamespace', 'invalidate', 'clear']);
  });
});
