/**
 * Ejection, probing, backoff and the return journal, with time injected: a
 * manual clock fires probe timers when the test says so. The backend here is
 * a scripted implementation of shardcache's own Backend interface (the
 * servers themselves are exercised in test/faults).
 */
import { describe, expect, it, vi } from 'vitest';
import type { Backend, StoredValue } from '../../../src/backends/backend.js';
import { MemoryBackend } from '../../../src/backends/memory.js';
import { DEFAULTS, type BreakerOptions, type HealthOptions } from '../../../src/config/options.js';
import { BreakerOpenError, DeadlineError, InvalidValueError, NodeError } from '../../../src/errors.js';
import { createEmitter, type ShardcacheEvents } from '../../../src/events.js';
import { countsAgainstNode } from '../../../src/node/classify.js';
import type { Clock } from '../../../src/node/clock.js';
import { NodeMembership } from '../../../src/routing/membership.js';
import { CacheNode } from '../../../src/node/node.js';
import { Ring } from '../../../src/ring/ring.js';

class ManualClock implements Clock {
  time = 0;
  randomValue = 0.5;
  readonly timers = new Map<NodeJS.Timeout, { at: number; callback: () => void }>();
  #next = 0;
  now = () => this.time;
  random = () => this.randomValue;
  setTimeout = (callback: () => void, ms: number) => {
    const handle = { id: ++this.#next } as unknown as NodeJS.Timeout;
    this.timers.set(handle, { at: this.time + ms, callback });
    return handle;
  };
  clearTimeout = (timer: NodeJS.Timeout | undefined) => void (timer && this.timers.delete(timer));
  /** Moves time forward, firing due timers in order. */
  async advance(ms: number): Promise<void> {
    const until = this.time + ms;
    for (;;) {
      const due = [...this.timers].filter(([, t]) => t.at <= until).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.timers.delete(due[0]);
      this.time = due[1].at;
      due[1].callback();
      for (let i = 0; i < 20; i++) await Promise.resolve();
    }
    this.time = until;
  }
  pendingDelays(): number[] {
    return [...this.timers.values()].map((t) => t.at - this.time);
  }
}

/** A memory node whose availability the test switches. */
class SwitchableBackend extends MemoryBackend implements Backend {
  down = false;
  /** Requests are accepted and never answered, as by a SIGSTOPped server. */
  hung = false;
  resets = 0;
  /** delMany calls still to fail, as a clean-up that misses its deadline would. */
  failingDelManys = 0;
  readonly deleted: string[] = [];
  flushed = 0;
  constructor(address: string) {
    super({ host: address.split(':')[0]!, port: Number(address.split(':')[1]), address }, { maxEntries: 1000 });
  }
  #check(): void {
    if (this.down) throw new NodeError(this.address, 'unavailable', 'switched off');
  }
  override async get(key: string) {
    this.#check();
    if (this.hung) return new Promise<undefined>(() => {});
    return super.get(key);
  }
  override async set(key: string, value: StoredValue, ttl: number) {
    this.#check();
    return super.set(key, value, ttl);
  }
  override async ping() {
    this.#check();
  }
  override async delMany(keys: readonly string[]) {
    this.#check();
    if (this.failingDelManys > 0) {
      this.failingDelManys--;
      throw new NodeError(this.address, 'unavailable', 'clean-up failed');
    }
    this.deleted.push(...keys);
    return super.delMany(keys);
  }
  override async flush() {
    this.#check();
    this.flushed++;
    return super.flush();
  }
  override reset() {
    this.resets++;
  }
}

function pool(size: number, health: HealthOptions = {}, breaker: BreakerOptions = {}) {
  const clock = new ManualClock();
  const events = createEmitter();
  const seen: { name: keyof ShardcacheEvents; payload: unknown }[] = [];
  for (const name of ['node:ejected', 'node:ejection-refused', 'node:readmitted', 'node:probe-failed', 'breaker:open', 'breaker:half-open', 'breaker:closed'] as const) {
    events.on(name, (payload: unknown) => seen.push({ name, payload }));
  }
  const options = { health: { ...DEFAULTS.health, ...health } as Required<HealthOptions>, getMs: 10, breaker: { ...DEFAULTS.breaker, ...breaker } as Required<BreakerOptions>, clock, events };
  const backends = Array.from({ length: size }, (_, i) => new SwitchableBackend(`10.0.0.${i + 1}:11211`));
  const nodes = backends.map((backend) => new CacheNode({ host: backend.address.split(':')[0]!, port: 11211, weight: 1, name: undefined, address: backend.address }, backend, options));
  const membership = new NodeMembership(Ring.build(nodes, { algorithm: 'ketama', compat: 'libmemcached', keyHash: 'md5', hashTag: undefined, pointsPerServer: 160 }), options.health, events);
  return { clock, events, seen, backends, nodes, membership };
}

const read = (node: CacheNode) => node.call('get', 10, (backend) => backend.get('k')).catch((error: unknown) => error);

describe('failure classification', () => {
  it('counts timeouts and unavailable or broken nodes, not bad requests or foreign errors', () => {
    expect(countsAgainstNode(new DeadlineError('n', 'get', 10))).toBe(true);
    expect(countsAgainstNode(new NodeError('n', 'unavailable', 'refused'))).toBe(true);
    expect(countsAgainstNode(new NodeError('n', 'protocol', 'desync'))).toBe(true);
    expect(countsAgainstNode(new NodeError('n', 'server', 'out of memory'))).toBe(true);
    expect(countsAgainstNode(new NodeError('n', 'rejected', 'too large'))).toBe(false);
    expect(countsAgainstNode(new InvalidValueError('too big'))).toBe(false);
    expect(countsAgainstNode(new BreakerOpenError('n'))).toBe(false);
    expect(countsAgainstNode(new Error('loader failed'))).toBe(false);
  });
});

describe('ejection', () => {
  it('ejects after failureLimit consecutive failures and moves only that node\'s keys', async () => {
    const { nodes, backends, membership, seen } = pool(4, { failureLimit: 3 });
    const keys = Array.from({ length: 2000 }, (_, i) => `key:${i}`);
    const before = keys.map((key) => membership.ring.lookup(key)!.address);
    backends[1]!.down = true;
    await read(nodes[1]!);
    await read(nodes[1]!);
    expect(nodes[1]!.state).toBe('up');
    await read(nodes[1]!);
    expect(nodes[1]!.state).toBe('ejected');
    expect(backends[1]!.resets).toBe(0);
    expect(seen.filter((e) => e.name === 'node:ejected')).toEqual([{ name: 'node:ejected', payload: { node: '10.0.0.2:11211', consecutiveFailures: 3, ejectedNodes: 1 } }]);
    const after = keys.map((key) => membership.ring.lookup(key)!.address);
    keys.forEach((_, i) => {
      if (before[i] === '10.0.0.2:11211') expect(after[i]).not.toBe('10.0.0.2:11211');
      else expect(after[i]).toBe(before[i]);
    });
  });

  it('replaces a connection that misses its deadlines (hung), once per connection', async () => {
    const { nodes, backends } = pool(3, { failureLimit: 2, maxEjectedFraction: 0 });
    backends[0]!.hung = true;
    await read(nodes[0]!);
    await Promise.all([read(nodes[0]!), read(nodes[0]!), read(nodes[0]!)]);
    expect(backends[0]!.resets).toBe(1);
    await Promise.all([read(nodes[0]!), read(nodes[0]!)]);
    expect(backends[0]!.resets).toBe(2);
    for (const node of nodes) node.close();
  });

  it('counts the failures of requests already in flight together as one', async () => {
    const { nodes, backends, seen } = pool(3, { failureLimit: 2 });
    backends[0]!.hung = true;
    // A burst that times out is one piece of evidence, however large.
    await Promise.all(Array.from({ length: 50 }, () => read(nodes[0]!)));
    expect(nodes[0]!.consecutiveFailures).toBe(1);
    expect(nodes[0]!.state).toBe('up');
    // A request sent after that failure was seen is new evidence.
    await read(nodes[0]!);
    expect(nodes[0]!.state).toBe('ejected');
    expect(seen.filter((e) => e.name === 'node:ejected')).toHaveLength(1);
    for (const node of nodes) node.close();
  });

  it('a success resets the count', async () => {
    const { nodes, backends } = pool(3, { failureLimit: 2 });
    backends[0]!.down = true;
    await read(nodes[0]!);
    backends[0]!.down = false;
    await read(nodes[0]!);
    backends[0]!.down = true;
    await read(nodes[0]!);
    expect(nodes[0]!.state).toBe('up');
  });

  it('never ejects more than maxEjectedFraction of the nodes (fail open)', async () => {
    const { nodes, backends, seen } = pool(5, { failureLimit: 1, maxEjectedFraction: 0.4 });
    for (const backend of backends) backend.down = true;
    for (const node of nodes) await read(node);
    expect(nodes.filter((n) => n.state === 'ejected')).toHaveLength(2);
    expect(seen.filter((e) => e.name === 'node:ejection-refused')).toHaveLength(3);
  });
});

describe('probes', () => {
  it('probes after retryTimeoutMs, backs off with jitter while the node stays down, and re-admits it', async () => {
    const { nodes, backends, clock, seen } = pool(3, { failureLimit: 1, retryTimeoutMs: 1000, maxRetryTimeoutMs: 5000 });
    backends[2]!.down = true;
    await read(nodes[2]!);
    expect(clock.pendingDelays()).toEqual([1000]);

    clock.randomValue = 0; // -20%
    await clock.advance(1000);
    expect(seen.at(-1)).toMatchObject({ name: 'node:probe-failed', payload: { attempt: 1, nextProbeMs: 1600 } });
    clock.randomValue = 0.999999; // +20%
    await clock.advance(1600);
    expect(seen.at(-1)).toMatchObject({ name: 'node:probe-failed', payload: { attempt: 2, nextProbeMs: 4800 } });
    clock.randomValue = 0.5;
    await clock.advance(4800);
    expect(seen.at(-1)).toMatchObject({ name: 'node:probe-failed', payload: { attempt: 3, nextProbeMs: 5000 } });

    backends[2]!.down = false;
    await clock.advance(5000);
    expect(seen.at(-1)).toMatchObject({ name: 'node:readmitted', payload: { node: '10.0.0.3:11211', outMs: 12_400 } });
    expect(nodes[2]!.state).toBe('up');
    expect(clock.timers.size).toBe(0);
  });

  it('close() cancels a pending probe', async () => {
    const { nodes, backends, clock } = pool(3, { failureLimit: 1 });
    backends[0]!.down = true;
    await read(nodes[0]!);
    expect(clock.timers.size).toBe(1);
    for (const node of nodes) node.close();
    expect(clock.timers.size).toBe(0);
  });
});

describe('stand-in writes and the return journal', () => {
  it('caps stand-in TTLs, and deletes journaled keys from the returning node and its stand-ins', async () => {
    const { nodes, backends, membership, clock } = pool(3, { failureLimit: 1, retryTimeoutMs: 100, failoverTtlSeconds: 60 });
    const key = Array.from({ length: 100 }, (_, i) => `k${i}`).find((k) => membership.ring.lookup(k) === nodes[0])!;
    expect(membership.routeWrite(key, 3600)).toEqual({ node: nodes[0], ttlSeconds: 3600 });

    backends[0]!.down = true;
    await read(nodes[0]!);
    const route = membership.routeWrite(key, 3600);
    expect(route.node).not.toBe(nodes[0]);
    expect(route.ttlSeconds).toBe(60);
    expect(membership.routeWrite(key, 0).ttlSeconds).toBe(60);
    expect(membership.routeWrite(key, 5).ttlSeconds).toBe(5);

    backends[0]!.down = false;
    await clock.advance(100);
    expect(nodes[0]!.state).toBe('up');
    expect(backends[0]!.deleted).toEqual([key]);
    const standIn = backends.find((b) => b.address === route.node.address)!;
    expect(standIn.deleted).toEqual([key]);
    expect(membership.routeWrite(key, 3600)).toEqual({ node: nodes[0], ttlSeconds: 3600 });
  });

  it('keeps the journal when the clean-up fails, so the next probe cleans the node before it returns', async () => {
    const { nodes, backends, membership, clock, seen } = pool(3, { failureLimit: 1, retryTimeoutMs: 100, maxRetryTimeoutMs: 100 });
    const key = Array.from({ length: 100 }, (_, i) => `k${i}`).find((k) => membership.ring.lookup(k) === nodes[0])!;
    await backends[0]!.set(key, { bytes: Buffer.from('old'), flags: 0 }, 0);

    backends[0]!.down = true;
    await read(nodes[0]!);
    membership.routeWrite(key, 0); // overwritten on a stand-in while the owner is out

    backends[0]!.down = false;
    backends[0]!.failingDelManys = 1;
    await clock.advance(100);
    expect(seen.at(-1)).toMatchObject({ name: 'node:probe-failed', payload: { node: nodes[0]!.address } });
    expect(nodes[0]!.state).toBe('ejected');
    expect(nodes[0]!.stats.cleanupFailures).toBe(1);
    expect(await backends[0]!.get(key)).toEqual({ bytes: Buffer.from('old'), flags: 0 });

    await clock.advance(100);
    expect(nodes[0]!.state).toBe('up');
    expect(backends[0]!.deleted).toEqual([key]);
    expect(await backends[0]!.get(key)).toBeUndefined();
  });

  it('keeps an overflowed journal when the flush fails, and flushes on the next probe', async () => {
    const { nodes, backends, membership, clock, seen } = pool(3, { failureLimit: 1, retryTimeoutMs: 100, maxRetryTimeoutMs: 100, returnJournalLimit: 1 });
    const owned = Array.from({ length: 300 }, (_, i) => `k${i}`).filter((k) => membership.ring.lookup(k) === nodes[1]).slice(0, 2);
    backends[1]!.down = true;
    await read(nodes[1]!);
    for (const key of owned) membership.routeWrite(key, 0);
    backends[1]!.down = false;
    const flush = backends[1]!.flush.bind(backends[1]!);
    let flushFailures = 1;
    backends[1]!.flush = async () => {
      if (flushFailures-- > 0) throw new NodeError(backends[1]!.address, 'unavailable', 'flush failed');
      return flush();
    };
    await clock.advance(100);
    expect(nodes[1]!.state).toBe('ejected');
    await clock.advance(100);
    expect(nodes[1]!.state).toBe('up');
    expect(backends[1]!.flushed).toBe(1);
    expect(seen.at(-1)).toMatchObject({ name: 'node:readmitted', payload: { flushed: true } });
  });

  it('a stand-in that is out when the owner returns has the stale copies deleted before it returns itself', async () => {
    const { nodes, backends, membership, clock } = pool(5, { failureLimit: 1, retryTimeoutMs: 100, maxRetryTimeoutMs: 100, maxEjectedFraction: 0.5 });
    const owner = nodes[0]!;
    const key = Array.from({ length: 200 }, (_, i) => `k${i}`).find((k) => membership.ring.lookup(k) === owner)!;
    const ownerBackend = backends[0]!;

    ownerBackend.down = true;
    await read(owner);
    const route = membership.routeWrite(key, 0);
    const standIn = route.node;
    const standInBackend = backends[nodes.indexOf(standIn)]!;
    await standInBackend.set(key, { bytes: Buffer.from('W1'), flags: 0 }, 60); // written on the owner's behalf

    standInBackend.down = true;
    await read(standIn);
    expect(standIn.state).toBe('ejected');
    ownerBackend.down = false;
    await clock.advance(100); // the owner returns while its stand-in is out
    expect(owner.state).toBe('up');
    await ownerBackend.set(key, { bytes: Buffer.from('W2'), flags: 0 }, 0);

    standInBackend.down = false;
    await clock.advance(100); // the stand-in's own return deletes the stale copy
    expect(standIn.state).toBe('up');
    expect(standInBackend.deleted).toContain(key);

    ownerBackend.down = true;
    await read(owner); // out again: the key falls to the stand-in, which must not answer W1
    expect(membership.ring.lookup(key)).toBe(standIn);
    expect(await standInBackend.get(key)).toBeUndefined();
  });

  it('keeps the owner out while a stand-in on the ring fails its clean-up', async () => {
    const { nodes, backends, membership, clock } = pool(3, { failureLimit: 1, retryTimeoutMs: 100, maxRetryTimeoutMs: 100 });
    const key = Array.from({ length: 100 }, (_, i) => `k${i}`).find((k) => membership.ring.lookup(k) === nodes[0])!;
    backends[0]!.down = true;
    await read(nodes[0]!);
    const standIn = backends[nodes.indexOf(membership.routeWrite(key, 0).node)]!;
    await standIn.set(key, { bytes: Buffer.from('W1'), flags: 0 }, 60);
    backends[0]!.down = false;
    standIn.failingDelManys = 1;
    await clock.advance(100);
    expect(nodes[0]!.state).toBe('ejected');
    expect(nodes[0]!.stats.cleanupFailures).toBe(1);
    expect(await standIn.get(key)).toEqual({ bytes: Buffer.from('W1'), flags: 0 });
    await clock.advance(100);
    expect(nodes[0]!.state).toBe('up');
    expect(await standIn.get(key)).toBeUndefined();
  });

  it('flushes the returning node when its journal overflowed', async () => {
    const { nodes, backends, membership, clock, seen } = pool(3, { failureLimit: 1, retryTimeoutMs: 100, returnJournalLimit: 2 });
    const owned = Array.from({ length: 300 }, (_, i) => `k${i}`).filter((k) => membership.ring.lookup(k) === nodes[1]).slice(0, 3);
    backends[1]!.down = true;
    await read(nodes[1]!);
    for (const key of owned) membership.routeWrite(key, 0);
    backends[1]!.down = false;
    await clock.advance(100);
    expect(backends[1]!.flushed).toBe(1);
    expect(seen.at(-1)).toMatchObject({ name: 'node:readmitted', payload: { flushed: true } });
  });
});

describe('breaker', () => {
  it('opens over the error threshold and then answers at once without calling the node', async () => {
    const { nodes, backends, seen } = pool(1, { failureLimit: 1000 }, { volumeThreshold: 4, errorThresholdPercentage: 50 });
    let calls = 0;
    const counting = (node: CacheNode) =>
      node.call('get', 10, (backend) => {
        calls++;
        return backend.get('k');
      }).catch((error: unknown) => error);
    backends[0]!.down = true;
    for (let i = 0; i < 4; i++) await counting(nodes[0]!);
    expect(nodes[0]!.breakerState).toBe('open');
    expect(seen.some((e) => e.name === 'breaker:open')).toBe(true);
    const callsWhenOpen = calls;
    expect(await counting(nodes[0]!)).toBeInstanceOf(BreakerOpenError);
    expect(calls).toBe(callsWhenOpen);
    for (const node of nodes) node.close();
  });

  it('counts successes in the error rate, so failures under the threshold leave it closed', async () => {
    const { nodes, backends } = pool(1, { failureLimit: 1000 }, { volumeThreshold: 4, errorThresholdPercentage: 50 });
    for (let i = 0; i < 6; i++) await nodes[0]!.call('get', 10, (backend) => backend.get('k'));
    // Successes reach opossum when it weighs the first failure.
    backends[0]!.down = true;
    // k failures after 6 successes: k / (6 + k) first exceeds 50% at k = 7.
    const states: string[] = [];
    for (let i = 0; i < 7; i++) {
      await nodes[0]!.call('get', 10, (backend) => backend.get('k')).catch(() => {});
      states.push(nodes[0]!.breakerState);
    }
    expect(states).toEqual(['closed', 'closed', 'closed', 'closed', 'closed', 'closed', 'open']);
    for (const node of nodes) node.close();
  });

  it('lets successes age out of the rolling window like failures do', async () => {
    // The window's buckets rotate on an interval: faked, so a loaded machine cannot move the window mid-test.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      const { nodes, backends } = pool(1, { failureLimit: 1000 }, { volumeThreshold: 4, errorThresholdPercentage: 50, rollingCountTimeoutMs: 10 });
      for (let i = 0; i < 6; i++) await nodes[0]!.call('get', 10, (backend) => backend.get('k'));
      // Ten 10 ms windows later the successes are out of it: 4 failures are 100%.
      vi.advanceTimersByTime(100);
      backends[0]!.down = true;
      const states: string[] = [];
      for (let i = 0; i < 4; i++) {
        await nodes[0]!.call('get', 10, (backend) => backend.get('k')).catch(() => {});
        states.push(nodes[0]!.breakerState);
      }
      expect(states).toEqual(['closed', 'closed', 'closed', 'open']);
      for (const node of nodes) node.close();
    } finally {
      vi.useRealTimers();
    }
  });

  it('does not count misses or rejected requests', async () => {
    const { nodes } = pool(1, {}, { volumeThreshold: 1 });
    for (let i = 0; i < 10; i++) {
      await nodes[0]!.call('set', 10, () => Promise.reject(new NodeError('n', 'rejected', 'too large'))).catch(() => {});
      await nodes[0]!.call('get', 10, (backend) => backend.get('missing'));
    }
    expect(nodes[0]!.breakerState).toBe('closed');
    expect(nodes[0]!.consecutiveFailures).toBe(0);
    for (const node of nodes) node.close();
  });
});
