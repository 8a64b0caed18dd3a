/**
 * Refresh ahead, in simulated time: a hot key read every 10 ms by each of
 * several processes (read-through layers sharing one store that expires
 * entries by the simulated clock), a loader that takes 100 ms, a 10 s TTL,
 * one simulated minute. A read "waits" when it is still pending after the
 * store answered, i.e. it is waiting for the loader.
 *
 * Without refresh-ahead every expiry makes the readers of that moment wait
 * for the database; with it, after the first load no reader ever waits and
 * the loader runs about once per TTL per process at most, not once per read.
 */
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../../bench/lib/seeded-random.js';
import { Stamped } from '../../../src/codec/stamp.js';
import { createCounters } from '../../../src/counters.js';
import { ReadThrough } from '../../../src/loader/read-through.js';
import { refreshDue, type EntryStore } from '../../../src/loader/refresh-ahead.js';
import type { KeyResult } from '../../../src/store.js';

const TTL_SECONDS = 10;
const LOAD_MS = 100;
const STEP_MS = 10;
const DURATION_MS = 60_000;

/** A store whose entries expire by the simulated clock, as a server's would. */
class SimulatedStore implements EntryStore {
  readonly #entries = new Map<string, { value: unknown; expiresAt: number }>();
  constructor(private readonly now: () => number) {}
  async getEntry(key: string): Promise<unknown> {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (this.now() >= entry.expiresAt) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.value;
  }
  async get(key: string): Promise<unknown> {
    const value = await this.getEntry(key);
    return value instanceof Stamped ? value.value : value;
  }
  async getMany(keys: readonly string[]): Promise<KeyResult[]> {
    return Promise.all(keys.map(async (key) => ({ key, status: 'miss' as const, value: await this.get(key), node: 'sim' })));
  }
  async getValues(keys: readonly string[]): Promise<unknown[]> {
    return Promise.all(keys.map((key) => this.get(key)));
  }
  async set(key: string, value: unknown, ttlSeconds: number): Promise<void> {
    this.#entries.set(key, { value, expiresAt: ttlSeconds === 0 ? Infinity : this.now() + ttlSeconds * 1000 });
  }
  async setMany(entries: readonly (readonly [string, unknown])[], ttlSeconds: number): Promise<void> {
    for (const [key, value] of entries) await this.set(key, value, ttlSeconds);
  }
  async del(key: string): Promise<boolean> {
    return this.#entries.delete(key);
  }
  async delMany(keys: readonly string[]): Promise<void> {
    for (const key of keys) this.#entries.delete(key);
  }
}

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

interface Outcome {
  reads: number;
  loaderCalls: number;
  /** Reads after the first load completed that had to wait for a loader. */
  waitedAfterWarmUp: number;
  refreshes: number;
}

async function simulate(processes: number, refreshAhead: boolean): Promise<Outcome> {
  let now = 0;
  const store = new SimulatedStore(() => now);
  const pending: { doneAt: number; resolve: () => void }[] = [];
  let loaderCalls = 0;
  const loader = () => {
    loaderCalls++;
    const version = `v${loaderCalls}`;
    return new Promise<string>((resolve) => pending.push({ doneAt: now + LOAD_MS, resolve: () => resolve(version) }));
  };
  const counters = createCounters();
  const random = seededRandom(42);
  const layers = Array.from({ length: processes }, (_, i) => new ReadThrough(store, counters.loads, () => false, { wallNow: () => now, now: () => now, random }, i));
  let reads = 0;
  let waitedAfterWarmUp = 0;
  for (let step = 0; step * STEP_MS <= DURATION_MS; step++) {
    now = step * STEP_MS;
    for (const load of pending.filter((load) => load.doneAt <= now)) {
      pending.splice(pending.indexOf(load), 1);
      load.resolve();
    }
    await flush();
    const settled = new Set<number>();
    const calls = layers.map((layer, i) =>
      layer.getOrLoad('hot', loader, TTL_SECONDS, refreshAhead ? { refreshAhead: { beta: 1 } } : undefined).then(() => void settled.add(i)),
    );
    reads += calls.length;
    await flush();
    await flush();
    if (now > LOAD_MS) waitedAfterWarmUp += calls.length - settled.size;
  }
  for (const load of pending.splice(0)) load.resolve();
  await flush();
  return { reads, loaderCalls, waitedAfterWarmUp, refreshes: counters.loads.refreshes };
}

describe('refresh ahead (XFetch) in simulated time', () => {
  it('without it, readers wait for the loader at every expiry', async () => {
    const outcome = await simulate(4, false);
    const expiries = Math.floor(DURATION_MS / (TTL_SECONDS * 1000 + LOAD_MS));
    expect(outcome.waitedAfterWarmUp).toBeGreaterThanOrEqual(expiries * 4);
    expect(outcome.refreshes).toBe(0);
  });

  it('with it, no hot reader waits after the first load, and the loader runs about once per TTL', async () => {
    const single = await simulate(1, true);
    expect(single.waitedAfterWarmUp).toBe(0);
    const periods = Math.ceil(DURATION_MS / (TTL_SECONDS * 1000));
    // One process: the first load, then one refresh per period, never more (one refresh per key in flight).
    expect(single.loaderCalls).toBeGreaterThanOrEqual(periods);
    expect(single.loaderCalls).toBeLessThanOrEqual(periods + 1);
    expect(single.refreshes).toBe(single.loaderCalls - 1);

    const four = await simulate(4, true);
    expect(four.waitedAfterWarmUp).toBe(0);
    // Four processes reading every 10 ms: at most one refresh each per period, far below one per read.
    expect(four.loaderCalls).toBeLessThanOrEqual(1 + 4 * periods);
    expect(four.loaderCalls).toBeLessThan(four.reads / 500);
  });

  it('spreads one refresh over many processes (a fixed threshold would refresh once per process and period)', async () => {
    const periods = Math.ceil(DURATION_MS / (TTL_SECONDS * 1000));
    const sixteen = await simulate(16, true);
    expect(sixteen.waitedAfterWarmUp).toBe(0);
    expect(sixteen.refreshes).toBeLessThan((16 * periods) / 2);
  });
});

describe('refreshDue (XFetch rule)', () => {
  const entry = new Stamped('v', 10_000, 100);
  it('never refreshes far from the expiry, and always at or past it', () => {
    expect(refreshDue(entry, 0, 0.5, 1)).toBe(false);
    expect(refreshDue(entry, 10_000, 0.999, 1)).toBe(true);
  });
  it('refreshes earlier for a slower load or a larger beta', () => {
    // 500 ms before expiry with random 0.01 (-ln = 4.6): 100 ms x 4.6 = 460 ms reach, not enough; beta 2 or a 200 ms load reaches.
    expect(refreshDue(entry, 9_500, 0.01, 1)).toBe(false);
    expect(refreshDue(entry, 9_500, 0.01, 2)).toBe(true);
    expect(refreshDue(new Stamped('v', 10_000, 200), 9_500, 0.01, 1)).toBe(true);
  });
});
