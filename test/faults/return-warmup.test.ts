/**
 * Warm-up of a node back from ejection with one copy, on Redis and
 * Memcached, with real faults: three nodes, one hung (SIGSTOP) or killed
 * (SIGKILL) until it is ejected, some of its keys overwritten, deleted or
 * loaded meanwhile (they land on stand-ins), then resumed or restarted
 * empty on its port until it is readmitted. What is asserted: every key
 * reads its latest value (deleted ones miss); the loader is not called for
 * keys a stand-in held; the returned node holds them afterwards; once the
 * window is over the stand-ins hold none of its keys, so a second ejection
 * never serves a stale stand-in value; and a delete racing a fill from a
 * stand-in never brings the deleted value back.
 */
import diagnostics from 'node:diagnostics_channel';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createCache, type ShardcacheOptions, type ShardedCache } from '../../src/index.js';
import { nextEvent } from '../harness/events.js';
import { parseExposition, sampleValue } from '../harness/prometheus.js';
import { expectNothingLeftOpen, openHandles, type HandleCounts } from '../harness/handles.js';
import { healAll, startMemcached, startRedis, stopAll, type ServerProcess } from '../harness/servers.js';

const WINDOW_MS = 2500;
const OPTIONS: Omit<ShardcacheOptions, 'backend' | 'nodes'> = {
  timeouts: { getMs: 100, setMs: 100, batchMs: 200, connectMs: 500, connectRetries: 0, connectBackoffMs: 100 },
  health: { failureLimit: 2, retryTimeoutMs: 200, maxRetryTimeoutMs: 800, probeTimeoutMs: 300, maxEjectedFraction: 0.5, failoverTtlSeconds: 60 },
  breaker: { volumeThreshold: 1000, resetTimeoutMs: 60_000, rollingCountTimeoutMs: 10_000, errorThresholdPercentage: 50 },
  warmup: { durationMs: WINDOW_MS, ttlSeconds: 60 },
};
const KEYS = Array.from({ length: 150 }, (_, i) => `ret:${i}`);
/** Bounds of every wait on the servers (write-backs, fills, deletes after the window): 50 ms apart. */
const POLLS = 200;
const operations = diagnostics.channel('shardcache:operation');

const pause = () => new Promise((resolve) => setTimeout(resolve, 50));

/** Polls `read` until `done` holds (bounded); returns the last read. */
async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  let value = await read();
  for (let poll = 0; poll < POLLS && !done(value); poll++) {
    await pause();
    value = await read();
  }
  return value;
}

describe.each([
  ['redis', startRedis],
  ['memcached', startMemcached],
] as const)('%s: one copy, a node back from ejection warms from its stand-ins', (backend, start) => {
  let servers: ServerProcess[];
  let cache: ShardedCache;
  let direct: ShardedCache[];
  let registry: Registry;
  let handlesBefore: HandleCounts;
  let unexpected: unknown[];
  const recordUnexpected = (error: unknown) => unexpected.push(error);
  /** The "database": each key's latest value, absent once deleted. */
  let db: Map<string, string>;
  let loaded: string[];
  const loadMany = (keys: readonly string[]) => {
    loaded.push(...keys);
    return keys.map((key) => db.get(key));
  };
  const load = (key: string) => loadMany([key])[0];

  beforeAll(async () => {
    servers = await Promise.all([start(), start(), start()]);
  });
  afterAll(stopAll);

  beforeEach(async () => {
    await healAll(servers);
    unexpected = [];
    direct = [];
    db = new Map();
    loaded = [];
    process.on('unhandledRejection', recordUnexpected);
    handlesBefore = openHandles();
  });

  afterEach(async () => {
    for (const server of servers) if (server.paused) server.resume();
    await Promise.all([cache, ...direct].map((c) => c.close()));
    await expectNothingLeftOpen(handlesBefore);
    process.off('unhandledRejection', recordUnexpected);
    expect(unexpected).toEqual([]);
  });

  const open = async (extra: Partial<ShardcacheOptions> = {}) => {
    registry = new Registry();
    cache = await createCache({ backend, nodes: servers.map((s) => s.address), ...OPTIONS, metrics: { registry }, ...extra }, { env: {} });
    await cache.clear(); // the servers are shared by the tests of this file
  };
  /** One single-node cache per server, to read each server directly; made once every server is back. */
  const readers = async () => {
    if (direct.length === 0) direct = await Promise.all(servers.map((s) => createCache({ backend, nodes: [s.address], timeouts: { getMs: 1000, batchMs: 1000, setMs: 1000 } }, { env: {} })));
    return direct;
  };
  const write = async (key: string, value: string | undefined) => {
    if (value === undefined) {
      await cache.del(key);
      db.delete(key);
    } else {
      await cache.set(key, value);
      db.set(key, value);
    }
  };
  /** Faults `victim` (SIGSTOP or SIGKILL) and reads its keys until it is ejected. */
  const eject = async (victim: ServerProcess, fault: 'hang' | 'kill', keys: readonly string[]) => {
    let out = false;
    const ejected = nextEvent(cache, 'node:ejected', (e) => e.node === victim.address).then(() => (out = true));
    if (fault === 'hang') victim.pause();
    else await victim.kill();
    for (let attempt = 0; attempt < 50 && !out; attempt++) await cache.mget(keys);
    await ejected;
  };
  const seed = async () => {
    await cache.mset(KEYS.map((key) => [key, `v0 of ${key}`]));
    for (const key of KEYS) db.set(key, `v0 of ${key}`);
  };

  it.each([
    ['hung (SIGSTOP), then resumed', 'hang'],
    ['killed (SIGKILL), then restarted empty on its port', 'kill'],
  ] as const)('a node %s: warmed from its stand-ins, and never stale after the window', async (_, fault) => {
    await open();
    await seed();
    const victim = servers[0]!;
    const victimKeys = KEYS.filter((key) => cache.nodeFor(key) === victim.address);
    expect(victimKeys.length).toBeGreaterThan(20);
    const [overwritten, deleted, loadedWhileOut, untouched] = [victimKeys.slice(0, 10), victimKeys.slice(10, 15), victimKeys.slice(15, 20), victimKeys.slice(20)];

    await eject(victim, fault, victimKeys);
    for (const key of overwritten) await write(key, `v1 of ${key}`);
    for (const key of deleted) await write(key, undefined);
    // The stand-in misses them, the loader answers, the write-back lands on the stand-in.
    expect(await cache.mgetOrLoad(loadedWhileOut, loadMany)).toEqual(loadedWhileOut.map((key) => db.get(key)));
    expect(await eventually(() => cache.mget(loadedWhileOut), (values) => values.every((v) => v !== undefined))).toEqual(loadedWhileOut.map((key) => db.get(key)));

    const readmitted = nextEvent(cache, 'node:readmitted', (e) => e.node === victim.address);
    if (fault === 'hang') victim.resume();
    else await victim.restart();
    await readmitted;
    loaded = [];
    // Inside the window. Keys the node kept through a hang are hits on it.
    if (fault === 'hang') {
      const kept = await cache.mgetDetailed(untouched);
      expect(kept.map((r) => [r.status, r.node, r.value])).toEqual(untouched.map((key) => ['hit', victim.address, db.get(key)]));
    }
    // Written and deleted inside the window: the stand-in's copy goes with the write.
    const [rewritten, removed] = [overwritten.at(-1)!, loadedWhileOut.at(-1)!];
    await write(rewritten, `v2 of ${rewritten}`);
    await write(removed, undefined);
    expect(await cache.get(removed)).toBeUndefined();
    expect(await cache.get(rewritten)).toBe(`v2 of ${rewritten}`);
    // Keys a stand-in held: answered from it (singles and a batch), the loader not called.
    const held = [...overwritten, ...loadedWhileOut].filter((key) => key !== removed);
    const singles = held.filter((_, i) => i % 2 === 0);
    const batch = held.filter((_, i) => i % 2 === 1);
    expect(await Promise.all(singles.map((key) => cache.getOrLoad(key, () => load(key))))).toEqual(singles.map((key) => db.get(key)));
    expect(await cache.mgetOrLoad(batch, loadMany)).toEqual(batch.map((key) => db.get(key)));
    expect(loaded).toEqual([]);
    // Every held key but the one rewritten in the window (a hit on the node) was answered from its stand-in.
    const warmed = held.length - 1;
    expect(cache.stats().replication!.warmup.fromPrevious).toBe(warmed);
    expect(await Promise.all(deleted.map((key) => cache.get(key)))).toEqual(deleted.map(() => undefined));
    expect(await cache.mget(deleted)).toEqual(deleted.map(() => undefined));
    // A restarted node lost what it held: those keys, and only those, go to the loader.
    expect(await cache.mgetOrLoad(untouched, loadMany)).toEqual(untouched.map((key) => db.get(key)));
    expect(loaded.sort()).toEqual(fault === 'kill' ? [...untouched].sort() : []);

    // The returned node holds the warmed keys afterwards (fills are best effort, so polled).
    const [victimDirect, ...standInsDirect] = await readers();
    const heldValues = await eventually(
      () => victimDirect!.mget(held),
      (values) => values.every((v, i) => v === db.get(held[i]!)) && cache.stats().replication!.warmup.filled === warmed, // the add's reply may come after a direct read sees it
    );
    expect(heldValues).toEqual(held.map((key) => db.get(key)));
    const { warmup } = cache.stats().replication!;
    expect(warmup).toMatchObject({ fromPrevious: warmed, filled: warmed, raced: 0 });
    expect(warmup.tried).toBeGreaterThanOrEqual(warmed);
    const samples = parseExposition(await registry.metrics());
    expect(sampleValue(samples, 'shardcache_warmup_fills_tried_total')).toBe(warmup.tried);
    expect(sampleValue(samples, 'shardcache_warmup_fills_from_previous_total')).toBe(warmed);
    expect(sampleValue(samples, 'shardcache_warmup_filled_total')).toBe(warmed);
    expect(sampleValue(samples, 'shardcache_warmup_fills_raced_total')).toBe(0);

    // Once the window is over, the stand-ins hold none of the node's keys.
    const onStandIns = async () => (await Promise.all(standInsDirect.map((single) => single.mget(victimKeys)))).flat().filter((v) => v !== undefined);
    expect(await eventually(onStandIns, (values) => values.length === 0)).toEqual([]);

    // Written after the window (to the returned node only), then a second ejection: nothing stale anywhere.
    for (const key of overwritten.slice(0, 5)) await write(key, `v3 of ${key}`);
    for (const key of loadedWhileOut.slice(0, 2)) await write(key, undefined);
    await eject(victim, 'hang', victimKeys);
    const during = await cache.mget(KEYS);
    const stale = KEYS.filter((key, i) => during[i] !== undefined && during[i] !== db.get(key));
    expect(stale).toEqual([]);
    expect(during.filter((v, i) => victimKeys.includes(KEYS[i]!) && v !== undefined)).toEqual([]);
  });

  it('a delete racing a fill from a stand-in does not put the deleted value back', async () => {
    // Deadlines long enough for the paused stand-in to be resumed first; the victim is ejected by being killed (refused at once).
    await open({ timeouts: { getMs: 5000, setMs: 5000, batchMs: 5000, connectMs: 500, connectRetries: 0, connectBackoffMs: 100 }, warmup: { durationMs: 60_000, ttlSeconds: 60 } });
    await seed();
    const victim = servers[1]!;
    const victimKeys = KEYS.filter((key) => cache.nodeFor(key) === victim.address);
    await eject(victim, 'kill', victimKeys);
    const key = victimKeys[0]!;
    await write(key, `v1 of ${key}`);
    const standIn = servers.find((s) => s.address === cache.nodeFor(key))!;
    const readmitted = nextEvent(cache, 'node:readmitted', (e) => e.node === victim.address);
    await victim.restart();
    await readmitted;

    const seen = (operation: string) =>
      new Promise<void>((resolve) => {
        const listener = (message: unknown) => {
          const { node, operation: sent } = message as { node: string; operation: string };
          if (node !== victim.address || !sent.startsWith(operation)) return;
          operations.unsubscribe(listener);
          resolve();
        };
        operations.subscribe(listener);
      });
    standIn.pause();
    const missed = seen('get');
    const read = cache.get(key); // misses on the returned node, then waits on the hung stand-in
    await missed;
    await new Promise((resolve) => setImmediate(resolve)); // the stand-in read is on its socket
    const deletedOnVictim = seen('del');
    const deletion = write(key, undefined); // done on the returned node; its stand-in delete queues behind the read
    await deletedOnVictim;
    standIn.resume();
    expect(await read).toBe(`v1 of ${key}`); // read before the delete reached the stand-in
    await deletion;
    // A fill sent with the read's answer is ahead of these on the same connection.
    expect(await cache.get(key)).toBeUndefined();
    expect(await (await readers())[1]!.get(key)).toBeUndefined();
    expect(cache.stats().replication!.warmup).toEqual({ tried: 1, fromPrevious: 1, filled: 0, raced: 1 });
    expect(sampleValue(parseExposition(await registry.metrics()), 'shardcache_warmup_fills_raced_total')).toBe(1);
  });
});
