/**
 * Replication under real faults, on Redis and Memcached, two copies over
 * three nodes: a hung node (SIGSTOP) while keys are read, overwritten and
 * deleted; a killed node (SIGKILL) restarted empty on the same port and
 * warmed from the other copy. What is asserted: reads never reject, every
 * key reads its value while a copy is down, nothing reads stale after the
 * node returns, and (read from each server directly) no server keeps a
 * value older than the key's last write once repairs are done.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createCache, type ShardcacheOptions, type ShardedCache } from '../../src/index.js';
import { nextEvent } from '../harness/events.js';
import { expectNothingLeftOpen, openHandles, type HandleCounts } from '../harness/handles.js';
import { healAll, startMemcached, startRedis, stopAll, type ServerProcess } from '../harness/servers.js';

const OPTIONS: Omit<ShardcacheOptions, 'backend' | 'nodes'> = {
  timeouts: { getMs: 100, setMs: 100, batchMs: 200, connectMs: 500, connectRetries: 0, connectBackoffMs: 100 },
  health: { failureLimit: 2, retryTimeoutMs: 200, maxRetryTimeoutMs: 800, probeTimeoutMs: 300, maxEjectedFraction: 0.5, failoverTtlSeconds: 60 },
  breaker: { volumeThreshold: 1000, resetTimeoutMs: 60_000, rollingCountTimeoutMs: 10_000, errorThresholdPercentage: 50 },
  replication: { copies: 2 },
};
const KEYS = Array.from({ length: 90 }, (_, i) => `rep:${i}`);
/** Attempts of the bounded wait for out-of-band repairs. */
const REPAIR_POLLS = 100;

/** The model: each key's last written value, `undefined` once deleted. */
type Model = Map<string, string | undefined>;

async function write(cache: ShardedCache, model: Model, keys: readonly string[], value: (key: string) => string | undefined): Promise<void> {
  await Promise.all(
    keys.map(async (key) => {
      const next = value(key);
      if (next === undefined) await cache.del(key);
      else await cache.set(key, next);
      model.set(key, next);
    }),
  );
}

/** Keys for which a server holds a value other than the key's last one. */
async function staleOnServers(direct: ShardedCache[], model: Model): Promise<string[]> {
  const stale: string[] = [];
  for (const single of direct) {
    const values = await single.mget([...model.keys()]);
    [...model].forEach(([key, latest], i) => {
      if (values[i] !== undefined && values[i] !== latest) stale.push(`${single.nodeFor(key)} ${key}=${String(values[i])} (latest ${String(latest)})`);
    });
  }
  return stale;
}

async function eventuallyNoStaleCopies(direct: ShardedCache[], model: Model): Promise<void> {
  let stale = await staleOnServers(direct, model);
  for (let poll = 0; poll < REPAIR_POLLS && stale.length > 0; poll++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    stale = await staleOnServers(direct, model);
  }
  expect(stale).toEqual([]);
}

describe.each([
  ['redis', startRedis],
  ['memcached', startMemcached],
] as const)('%s: two copies over three nodes', (backend, start) => {
  let servers: ServerProcess[];
  let cache: ShardedCache;
  let direct: ShardedCache[];
  let handlesBefore: HandleCounts;
  let unexpected: unknown[];
  const recordUnexpected = (error: unknown) => unexpected.push(error);

  beforeAll(async () => {
    servers = await Promise.all([start(), start(), start()]);
  });
  afterAll(stopAll);

  const open = async (extra: Partial<ShardcacheOptions> = {}) => {
    cache = await createCache({ backend, nodes: servers.map((s) => s.address), ...OPTIONS, ...extra }, { env: {} });
  };
  /** One single-node cache per server, to read each server directly; made after the faults, so none of them saw a server down. */
  const readers = async () => {
    if (direct.length === 0) direct = await Promise.all(servers.map((s) => createCache({ backend, nodes: [s.address], timeouts: { getMs: 1000, batchMs: 1000 } }, { env: {} })));
    return direct;
  };

  beforeEach(async () => {
    await healAll(servers);
    unexpected = [];
    direct = [];
    process.on('unhandledRejection', recordUnexpected);
    handlesBefore = openHandles();
  });

  afterEach(async () => {
    await Promise.all([cache, ...direct].map((c) => c.close()));
    for (const server of servers) if (server.paused) server.resume();
    await expectNothingLeftOpen(handlesBefore);
    process.off('unhandledRejection', recordUnexpected);
    expect(unexpected).toEqual([]);
  });

  it('places each key on two distinct nodes, the owner first', async () => {
    await open();
    for (const key of KEYS) {
      const copies = cache.nodesFor(key);
      expect(copies).toHaveLength(2);
      expect(new Set(copies).size).toBe(2);
      expect(copies[0]).toBe(cache.nodeFor(key));
    }
    await cache.set('placed', 'here');
    const holders = await Promise.all((await readers()).map((single) => single.get('placed')));
    expect(holders.filter((value) => value === 'here')).toHaveLength(2);
    expect(servers.filter((_, i) => holders[i] === 'here').map((s) => s.address).sort()).toEqual(cache.nodesFor('placed').sort());
  });

  it('a hung node (SIGSTOP): every key reads its value; writes and deletes meanwhile never read stale after it returns', async () => {
    await open();
    const model: Model = new Map();
    await write(cache, model, KEYS, (key) => `v0 of ${key}`);
    const victim = servers[0]!;
    const ejected = nextEvent(cache, 'node:ejected', (e) => e.node === victim.address);
    victim.pause();

    const [singles, batch] = await Promise.all([Promise.all(KEYS.map((key) => cache.get(key))), cache.mget(KEYS)]);
    expect(singles).toEqual(KEYS.map((key) => `v0 of ${key}`));
    expect(batch).toEqual(KEYS.map((key) => `v0 of ${key}`));
    // While it hangs (some of these reach it before its ejection): overwrite a third, delete a sixth.
    await write(cache, model, KEYS.slice(0, 30), (key) => `v1 of ${key}`);
    await write(cache, model, KEYS.slice(30, 45), () => undefined);
    await ejected;
    await write(cache, model, KEYS.slice(45, 60), (key) => `v2 of ${key}`);
    await write(cache, model, KEYS.slice(60, 70), () => undefined);
    expect(await cache.mget(KEYS)).toEqual(KEYS.map((key) => model.get(key)));

    const readmitted = nextEvent(cache, 'node:readmitted', (e) => e.node === victim.address);
    victim.resume();
    await readmitted;
    const after = [...(await Promise.all(KEYS.map((key) => cache.get(key)))), ...(await cache.mget(KEYS))];
    const stale = after.map((value, i) => ({ key: KEYS[i % KEYS.length]!, value })).filter(({ key, value }) => value !== undefined && value !== model.get(key));
    expect(stale).toEqual([]);
    await eventuallyNoStaleCopies(await readers(), model);
  });

  it('a killed node (SIGKILL) restarted empty on its port: with warm-up every key reads its latest value after re-admission', async () => {
    await open({ warmup: { durationMs: 60_000, ttlSeconds: 60 } });
    const model: Model = new Map();
    await write(cache, model, KEYS, (key) => `v0 of ${key}`);
    const victim = servers[1]!;
    const victimKeys = KEYS.filter((key) => cache.nodeFor(key) === victim.address);
    expect(victimKeys.length).toBeGreaterThan(5);
    const ejected = nextEvent(cache, 'node:ejected', (e) => e.node === victim.address);
    await victim.kill();
    expect(await cache.mget(KEYS)).toEqual(KEYS.map((key) => model.get(key)));
    await write(cache, model, KEYS.slice(0, 30), (key) => `v1 of ${key}`);
    await write(cache, model, KEYS.slice(30, 40), () => undefined);
    await ejected;
    await write(cache, model, KEYS.slice(40, 55), (key) => `v2 of ${key}`);

    const readmitted = nextEvent(cache, 'node:readmitted', (e) => e.node === victim.address);
    await victim.restart();
    await readmitted;
    expect(await Promise.all(KEYS.map((key) => cache.get(key)))).toEqual(KEYS.map((key) => model.get(key)));
    expect(await cache.mget(KEYS)).toEqual(KEYS.map((key) => model.get(key)));
    // Reads warm the restarted node: its keys are added to it (best effort,
    // and keys whose writes it missed only once their repair is done, so polled).
    const victimDirect = (await readers())[1]!;
    const present = KEYS.filter((key) => victimKeys.includes(key) && model.get(key) !== undefined);
    let held = await victimDirect.mget(present);
    for (let poll = 0; poll < REPAIR_POLLS && held.some((value) => value === undefined); poll++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(await cache.mget(KEYS)).toEqual(KEYS.map((key) => model.get(key)));
      held = await victimDirect.mget(present);
    }
    expect(held).toEqual(present.map((key) => model.get(key)));
    await eventuallyNoStaleCopies(await readers(), model);
  });
});
