/**
 * `Ring.copiesOf`: the first n distinct members clockwise from a key's point
 * (SimpleStrategy), checked against a walk over every point, and the
 * consistency properties replication relies on.
 */
import { describe, expect, it } from 'vitest';
import { Continuum } from '../../../src/ring/continuum.js';
import { Ring, type RingConfig, type RingMember } from '../../../src/ring/ring.js';
import { loadXxhash32 } from '../../../src/ring/xxhash.js';

const KETAMA: RingConfig = { algorithm: 'ketama', compat: 'libmemcached', keyHash: 'md5', hashTag: undefined, pointsPerServer: 160 };
const members = (count: number, weightOf: (i: number) => number = () => 1): RingMember[] =>
  Array.from({ length: count }, (_, i) => ({ address: `10.1.0.${i}:11211`, host: `10.1.0.${i}`, port: 11211, weight: weightOf(i) }));
const keys = Array.from({ length: 2000 }, (_, i) => `user:${i}`);

function copies(ring: Ring<RingMember>, key: string, n: number): string[] {
  const out: RingMember[] = [];
  const count = ring.copiesOf(key, n, out);
  return out.slice(0, count).map((m) => m.address);
}

describe('Continuum.distinct', () => {
  it('agrees with a walk over every point from the owner, wrapping', () => {
    let seed = 7;
    const random32 = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
    const servers = Array.from({ length: 6 }, (_, server) => ({ server, points: Uint32Array.from({ length: 20 }, random32) }));
    const continuum = new Continuum(servers);
    const sorted = servers.flatMap((s) => [...s.points].map((value) => ({ value, server: s.server }))).sort((a, b) => a.value - b.value || a.server - b.server);
    const out = new Int32Array(6);
    for (let probe = 0; probe < 300; probe++) {
      const hash = random32();
      let start = sorted.findIndex((p) => p.value >= hash);
      if (start === -1) start = 0;
      const expected: number[] = [];
      for (let step = 0; step < sorted.length && expected.length < 3; step++) {
        const server = sorted[(start + step) % sorted.length]!.server;
        if (!expected.includes(server)) expected.push(server);
      }
      const found = continuum.distinct(hash, 3, out);
      expect([...out.slice(0, found)]).toEqual(expected);
    }
    expect(new Continuum([]).distinct(1, 2, out)).toBe(0);
  });
});

describe('Ring.copiesOf', () => {
  const ring = Ring.build(members(5, (i) => 1 + (i % 3)), KETAMA);

  it('answers distinct members, the owner first, as many as asked (at most the ring size)', () => {
    for (const key of keys.slice(0, 500)) {
      const three = copies(ring, key, 3);
      expect(three[0]).toBe(ring.lookup(key)!.address);
      expect(new Set(three).size).toBe(3);
      expect(copies(ring, key, 2)).toEqual(three.slice(0, 2));
      expect(copies(ring, key, 9)).toHaveLength(5);
    }
    expect(copies(Ring.build(members(1), KETAMA), 'k', 3)).toEqual(['10.1.0.0:11211']);
  });

  it('without a member, each key keeps its other copies in order and gains only the next node', () => {
    const gone = '10.1.0.2:11211';
    const smaller = ring.without(new Set([gone]));
    for (const key of keys) {
      const before = copies(ring, key, 3);
      const after = copies(smaller, key, 3);
      const kept = before.filter((address) => address !== gone);
      expect(after.slice(0, kept.length)).toEqual(kept);
      if (!before.includes(gone)) expect(after).toEqual(before);
    }
  });

  it('spreads the second copy over the other members (no member doubles another)', () => {
    const seconds = new Map<string, number>();
    for (const key of keys) {
      const [owner, second] = copies(ring, key, 2);
      expect(second).not.toBe(owner);
      seconds.set(second!, (seconds.get(second!) ?? 0) + 1);
    }
    expect(seconds.size).toBe(5);
  });

  it('reuses the caller buffer: nothing is allocated per call once it has grown', () => {
    const out: RingMember[] = [];
    ring.copiesOf('a', 3, out);
    const length = out.length;
    for (const key of keys) ring.copiesOf(key, 3, out);
    expect(out.length).toBe(length);
  });
});

describe('Ring.copiesOf in maglev mode (the owners of the next slots in table order)', () => {
  const config = async (): Promise<RingConfig> => ({ ...KETAMA, algorithm: 'maglev', tableSize: 65_537, xxhash32: await loadXxhash32() });

  it('answers distinct members, the owner first, spread over every other member', async () => {
    const ring = Ring.build(members(5, (i) => 1 + (i % 3)), await config());
    const seconds = new Set<string>();
    for (const key of keys.slice(0, 500)) {
      const three = copies(ring, key, 3);
      expect(three[0]).toBe(ring.lookup(key)!.address);
      expect(new Set(three).size).toBe(3);
      expect(copies(ring, key, 2)).toEqual(three.slice(0, 2));
      expect(copies(ring, key, 9)).toHaveLength(5);
      seconds.add(three[1]!);
    }
    expect(seconds.size).toBe(5);
  });

  it('without a member, keys whose copies did not include it keep them all; the others keep the copies before it', async () => {
    const ring = Ring.build(members(6), await config());
    const gone = '10.1.0.2:11211';
    const smaller = ring.without(new Set([gone]));
    for (const key of keys) {
      const before = copies(ring, key, 3);
      const after = copies(smaller, key, 3);
      if (!before.includes(gone)) expect(after).toEqual(before);
      // Its slots pass to other members, which take its place in the walk: the copies before it stay, later ones may change.
      else expect(after.slice(0, before.indexOf(gone))).toEqual(before.slice(0, before.indexOf(gone)));
    }
  });
});
