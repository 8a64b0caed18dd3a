/**
 * What the I/O benchmarks share: real servers from the test harness, one key
 * set with 100-byte values seeded through shardcache (so every contender
 * reads the very same bytes), correctness checks that run before any timing,
 * and bounded loops for the three shapes of load.
 */
import type { BackendKind } from '../../src/index.js';
import { createCache } from './sut.js';
import { startMemcached, startRedis, type ServerProcess } from '../../test/harness/servers.js';
import { interleave, withTimeout, type ContenderResult, type Repeats } from './compare.js';
import type { Peer } from '../peers/peer.js';

export type ServerBackend = Extract<BackendKind, 'redis' | 'memcached'>;
export const BACKENDS: readonly ServerBackend[] = ['redis', 'memcached'];

export const VALUE_BYTES = 100;
/** A key that is never written. */
export const ABSENT_KEY = 'bench:absent:0';

export function keyOf(i: number): string {
  return `bench:item:${i}`;
}

/** 100 ASCII bytes that name their key, so a value handed to the wrong key is caught. */
export function valueOf(key: string): string {
  const head = `${key}|`;
  return head + 'abcdefghijklmnopqrstuvwxyz0123456789'.repeat(3).slice(0, VALUE_BYTES - head.length);
}

export function keys(count: number): string[] {
  return Array.from({ length: count }, (_, i) => keyOf(i));
}

/** A fixed pseudo-random permutation (deterministic runs). */
export function shuffled<T>(items: readonly T[], seed = 12345): T[] {
  const out = [...items];
  let state = seed >>> 0;
  const next = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** @param serverArgs more command-line arguments for each server (after the harness's own, so they win). */
export function startServers(backend: ServerBackend, count: number, serverArgs: readonly string[] = []): Promise<ServerProcess[]> {
  const start = backend === 'redis' ? startRedis : startMemcached;
  return Promise.all(Array.from({ length: count }, () => start({ args: serverArgs })));
}

/** Writes every key through a throwaway shardcache on the same nodes (its ring places them). */
export async function seed(backend: ServerBackend, addresses: readonly string[], keyList: readonly string[]): Promise<void> {
  const cache = await createCache({ backend, nodes: [...addresses] }, { env: {} });
  try {
    for (let i = 0; i < keyList.length; i += 500) {
      await withTimeout(cache.mset(keyList.slice(i, i + 500).map((key) => [key, valueOf(key)])), 10_000, 'seeding');
    }
  } finally {
    await cache.close();
  }
}

function expectEqual(peer: Peer, what: string, got: unknown, expected: unknown): void {
  if (got !== expected) throw new Error(`${peer.name}: ${what} returned ${JSON.stringify(got)}, expected ${JSON.stringify(expected)}`);
}

/**
 * Before timing: the peer's answers for a sample of keys (and a missing one)
 * are exactly the seeded values, through `get` one at a time, `get` 20 at a
 * time, and `mget` if it has one. A wrong value always fails. An empty answer
 * to a concurrent read is accepted only if the same key then reads back
 * right on its own: shardcache turns a read that misses its deadline into a
 * miss by contract, and a cold process can miss a 10 ms deadline; that is
 * reported by the timed runs (misses, VOID), not mistaken for a wrong answer.
 */
export async function verify(peer: Peer, keyList: readonly string[], sample = 200): Promise<void> {
  const picked = Array.from({ length: Math.min(sample, keyList.length) }, (_, i) => keyList[(i * 7919) % keyList.length]!);
  const recheck = async (what: string, key: string, got: string | undefined) => {
    if (got === undefined && key !== ABSENT_KEY) got = await peer.get(key);
    expectEqual(peer, what, got, key === ABSENT_KEY ? undefined : valueOf(key));
  };
  await withTimeout(
    (async () => {
      for (const key of picked) expectEqual(peer, `get(${key})`, await peer.get(key), valueOf(key));
      expectEqual(peer, `get(${ABSENT_KEY})`, await peer.get(ABSENT_KEY), undefined);
      for (let i = 0; i < picked.length; i += 20) {
        const group = picked.slice(i, i + 20);
        const values = await Promise.all(group.map((key) => peer.get(key)));
        for (let j = 0; j < group.length; j++) await recheck(`concurrent get(${group[j]})`, group[j]!, values[j]);
      }
      if (peer.mget) {
        const asked = [...picked, ABSENT_KEY];
        const values = await peer.mget(asked);
        expectEqual(peer, 'mget length', values.length, asked.length);
        for (let i = 0; i < asked.length; i++) await recheck(`mget[${i}] (${asked[i]})`, asked[i]!, values[i]);
      }
    })(),
    20_000,
    `verification of ${peer.name}`,
  );
}

export interface Block {
  readonly ops: number;
  readonly ms: number;
  /** Reads that came back undefined although the key was seeded. */
  readonly misses: number;
}

/** One GET in flight: `count` GETs one after another, or until `capMs`. */
export async function sequentialGets(peer: Peer, keyList: readonly string[], start: number, count: number, capMs: number): Promise<Block> {
  const begin = performance.now();
  const deadline = begin + capMs;
  let misses = 0;
  let i = 0;
  while (i < count) {
    if ((await peer.get(keyList[(start + i) % keyList.length]!)) === undefined) misses++;
    i++;
    if ((i & 15) === 0 && performance.now() > deadline) break;
  }
  return { ops: i, ms: performance.now() - begin, misses };
}

/**
 * Rounds of `width` concurrent GETs on distinct keys (a sliding window over
 * `keyList`); each round's rate is recorded. Bounded by `rounds` and `capMs`.
 */
export async function concurrentRounds(
  peer: Peer,
  keyList: readonly string[],
  start: number,
  width: number,
  rounds: number,
  capMs: number,
): Promise<{ rates: number[]; misses: number }> {
  const deadline = performance.now() + capMs;
  const rates: number[] = [];
  const pending: Promise<string | undefined>[] = new Array(width);
  let misses = 0;
  let offset = start;
  for (let round = 0; round < rounds; round++) {
    if (round > 0 && performance.now() > deadline) break;
    const begin = performance.now();
    for (let j = 0; j < width; j++) pending[j] = peer.get(keyList[(offset + j) % keyList.length]!);
    const values = await Promise.all(pending);
    const ms = performance.now() - begin;
    rates.push((width / ms) * 1000);
    for (const value of values) if (value === undefined) misses++;
    offset += width;
  }
  return { rates, misses };
}

/** One mget in flight: `count` calls one after another over `keySets`, or until `capMs`. */
export async function sequentialMgets(peer: Peer, keySets: readonly (readonly string[])[], start: number, count: number, capMs: number): Promise<Block> {
  const mget = peer.mget!.bind(peer);
  const begin = performance.now();
  const deadline = begin + capMs;
  let misses = 0;
  let i = 0;
  while (i < count) {
    const values = await mget(keySets[(start + i) % keySets.length]!);
    for (let j = 0; j < values.length; j++) if (values[j] === undefined) misses++;
    i++;
    if ((i & 3) === 0 && performance.now() > deadline) break;
  }
  return { ops: i, ms: performance.now() - begin, misses };
}

export function rateOf(block: Block): number {
  return (block.ops / block.ms) * 1000;
}

/**
 * Verifies every peer, warms each up, then runs `block` interleaved over
 * the peers for the given repeats. Returns one result per peer with its
 * rates, the misses seen while timed, and its notes.
 */
export async function measurePeers(
  peers: readonly Peer[],
  repeats: Repeats,
  verifyPeer: (peer: Peer) => Promise<void>,
  warmUp: (peer: Peer) => Promise<unknown>,
  block: (peer: Peer, repeat: number) => Promise<{ rate: number; misses: number }>,
  blockTimeoutMs: number,
): Promise<ContenderResult[]> {
  for (const peer of peers) await verifyPeer(peer);
  for (const peer of peers) await withTimeout(warmUp(peer), blockTimeoutMs, `warm-up of ${peer.name}`);
  for (const peer of peers) peer.baseline?.();
  const misses = new Map(peers.map((peer) => [peer.name, 0]));
  const byName = new Map(peers.map((peer) => [peer.name, peer]));
  const rates = await interleave(
    peers.map((peer) => peer.name),
    repeats,
    async (name, repeat) => {
      const { rate, misses: missed } = await withTimeout(block(byName.get(name)!, repeat), blockTimeoutMs, `${name}, repeat ${repeat + 1}`);
      misses.set(name, misses.get(name)! + missed);
      return rate;
    },
  );
  return peers.map((peer) => ({ name: peer.name, rates: rates.get(peer.name)!, misses: misses.get(peer.name)!, ...(peer.notes?.() ? { note: peer.notes()! } : {}) }));
}
