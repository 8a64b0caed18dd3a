import { describe, expect, it } from 'vitest';
import { Continuum, type ServerPoints } from '../../../src/ring/continuum.js';
import { ketamaPointCount } from '../../../src/ring/ketama.js';
import { hashTagExtractor } from '../../../src/ring/hash-tag.js';
import { continuumName } from '../../../src/ring/server-name.js';
import { Ring, type RingConfig, type RingMember } from '../../../src/ring/ring.js';
import { loadXxhash32 } from '../../../src/ring/xxhash.js';

const KETAMA: RingConfig = { algorithm: 'ketama', compat: 'libmemcached', keyHash: 'md5', hashTag: undefined, pointsPerServer: 160 };

function members(count: number, weightOf: (i: number) => number = () => 1): RingMember[] {
  return Array.from({ length: count }, (_, i) => ({ address: `10.0.${i >> 8}.${i & 255}:11211`, host: `10.0.${i >> 8}.${i & 255}`, port: 11211, weight: weightOf(i) }));
}

function keys(count: number, prefix = 'key'): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}:${i}:${(i * 2654435761) >>> 0}`);
}

describe('continuum lookup', () => {
  // The first point >= hash, wrapping to the first point; ties go to the server given first.
  function linearOwner(servers: ServerPoints[], hash: number): number {
    let best: { value: number; server: number } | undefined;
    let lowest: { value: number; server: number } | undefined;
    for (const { server, points } of servers) {
      for (const value of points) {
        if (value >= hash && (best === undefined || value < best.value)) best = { value, server };
        if (lowest === undefined || value < lowest.value) lowest = { value, server };
      }
    }
    return (best ?? lowest)!.server;
  }

  it('agrees with a linear scan at point values, between them and at both ends of the hash space', () => {
    let seed = 12345;
    const random32 = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
    for (const [serverCount, pointCount] of [[1, 1], [3, 4], [10, 160], [200, 160]] as const) {
      const servers: ServerPoints[] = Array.from({ length: serverCount }, (_, server) => ({ server, points: Uint32Array.from({ length: pointCount }, random32) }));
      servers.at(-1)!.points[0] = servers[0]!.points[0]!; // a tie
      const continuum = new Continuum(servers);
      const probes = [0, 1, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff, ...servers.flatMap((s) => [...s.points.slice(0, 3)].flatMap((p) => [p, p - 1, p + 1]))];
      for (let i = 0; i < 200; i++) probes.push(random32());
      for (const probe of probes) {
        const hash = probe >>> 0;
        expect(continuum.lookup(hash), `hash ${hash}`).toBe(linearOwner(servers, hash));
      }
    }
    expect(new Continuum([]).lookup(5)).toBe(-1);
  });
});

describe('ketama point counts', () => {
  it('gives 160 points per server for equal weights, except where float32 rounding bites', () => {
    for (const n of [1, 2, 3, 10, 1000]) expect(ketamaPointCount(1, n, n)).toBe(160);
    // float32(1/50) * 40 * 50 = 39.999996: libmemcached gives each of 50 equal servers 156 points.
    expect(ketamaPointCount(1, 50, 50)).toBe(156);
  });

  it('computes in 32-bit floats as the C code does, so exact integers can round down', () => {
    const weights = [6, 8, 5, 2, 4];
    const total = weights.reduce((a, b) => a + b, 0);
    expect(weights.map((w) => ketamaPointCount(w, total, weights.length))).toEqual([188, 252, 160, 60, 124]);
  });
});

describe('continuum names', () => {
  it('drops the default port 11211, as libmemcached and twemproxy do', () => {
    expect(continuumName({ host: '10.0.0.1', port: 11211 }, 'libmemcached')).toBe('10.0.0.1');
    expect(continuumName({ host: '10.0.0.1', port: 11212 }, 'libmemcached')).toBe('10.0.0.1:11212');
  });

  it('uses the alias in twemproxy mode only', () => {
    expect(continuumName({ host: '10.0.0.1', port: 11212, name: 'cache-1' }, 'twemproxy')).toBe('cache-1');
    expect(continuumName({ host: '10.0.0.1', port: 11212, name: 'cache-1' }, 'libmemcached')).toBe('10.0.0.1:11212');
  });
});

describe('hash tags', () => {
  const tag = hashTagExtractor('{}');
  it('hashes only the text between the first { and the next }', () => {
    expect(tag('user:{42}:name')).toBe('42');
    expect(tag('a{b}c{d}')).toBe('b');
    expect(tag('}{x}')).toBe('x');
  });
  it('hashes the whole key when the tag is empty or unclosed', () => {
    expect(tag('user:{}:name')).toBe('user:{}:name');
    expect(tag('user:{42')).toBe('user:{42');
    expect(tag('plain')).toBe('plain');
  });
  it('sends tagged keys to one node', () => {
    const ring = Ring.build(members(20), { ...KETAMA, hashTag: '{}' });
    const owners = new Set(['{42}:a', 'x:{42}:b', '{42}', 'zz{42}zz'].map((k) => ring.lookup(k)!.address));
    expect(owners.size).toBe(1);
    expect(ring.lookup('{42}')!.address).toBe(Ring.build(members(20), KETAMA).lookup('42')!.address);
  });
});

describe('ring consistency (property tests on the real ring)', () => {
  // Seeded so a failure reproduces; each case draws a pool and a node.
  let seed = 12345;
  const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const sample = keys(20_000);

  for (const algorithm of ['ketama', 'fast', 'maglev'] as const) {
    it(`${algorithm}: removing a node moves only that node's keys`, async () => {
      const config = { ...KETAMA, algorithm, xxhash32: await loadXxhash32() };
      for (let round = 0; round < 8; round++) {
        const size = 2 + Math.floor(random() * 40);
        const pool = members(size, () => 1 + Math.floor(random() * 5));
        const ring = Ring.build(pool, config);
        const leaving = pool[Math.floor(random() * size)]!.address;
        const after = ring.without(new Set([leaving]));
        const wrong = sample.filter((key) => {
          const before = ring.lookup(key)!.address;
          const now = after.lookup(key)!.address;
          return before === leaving ? now === leaving : now !== before;
        });
        expect(wrong).toEqual([]);
      }
    });

    it(`${algorithm}: adding a node takes keys only onto itself`, async () => {
      const config = { ...KETAMA, algorithm, xxhash32: await loadXxhash32() };
      for (let round = 0; round < 8; round++) {
        const size = 1 + Math.floor(random() * 40);
        const pool = members(size + 1, () => 1 + Math.floor(random() * 5));
        const ring = Ring.build(pool.slice(0, size), config);
        const joining = pool[size]!;
        const after = ring.with(joining);
        const gained = sample.filter((key) => after.lookup(key)!.address === joining.address).length;
        const movedBetweenOldNodes = sample.filter((key) => {
          const now = after.lookup(key)!.address;
          return now !== joining.address && now !== ring.lookup(key)!.address;
        });
        expect(movedBetweenOldNodes).toEqual([]);
        expect(gained).toBeGreaterThan(0);
      }
    });
  }

  it('sends every key to the member of a one-member ring (built so, or left so), and none from an empty ring', () => {
    const pool = members(2);
    for (const ring of [Ring.build(pool.slice(0, 1), KETAMA), Ring.build(pool, KETAMA).without(new Set([pool[1]!.address]))]) {
      expect(new Set(sample.map((key) => ring.lookup(key)!.address))).toEqual(new Set([pool[0]!.address]));
    }
    expect(Ring.build([], KETAMA).lookup('k')).toBeUndefined();
  });

  it('with equal weights, adding a node gives the same ring as building the larger pool', () => {
    const pool = members(11);
    const grown = Ring.build(pool.slice(0, 10), KETAMA).with(pool[10]!);
    const fresh = Ring.build(pool, KETAMA);
    expect(sample.filter((key) => grown.lookup(key)!.address !== fresh.lookup(key)!.address)).toEqual([]);
  });

  it('moves about 1/n of the keys when one of 10 equal nodes leaves', () => {
    const ring = Ring.build(members(10), KETAMA);
    const leaving = ring.members[3]!.address;
    const after = ring.without(new Set([leaving]));
    const moved = sample.filter((key) => after.lookup(key)!.address !== ring.lookup(key)!.address).length;
    expect(moved / sample.length).toBeGreaterThan(0.05);
    expect(moved / sample.length).toBeLessThan(0.15);
  });
});

describe('fast ring', () => {
  it('spreads keys by weight', async () => {
    const ring = Ring.build(members(4, (i) => (i === 0 ? 3 : 1)), { ...KETAMA, algorithm: 'fast', xxhash32: await loadXxhash32() });
    const counts = new Map<string, number>();
    for (const key of keys(60_000)) counts.set(ring.lookup(key)!.address, (counts.get(ring.lookup(key)!.address) ?? 0) + 1);
    const heavy = counts.get(ring.members[0]!.address)! / 60_000;
    expect(heavy).toBeGreaterThan(0.4);
    expect(heavy).toBeLessThan(0.6);
  });

  it('needs an xxhash function', () => {
    expect(() => Ring.build(members(2), { ...KETAMA, algorithm: 'fast' })).toThrow(TypeError);
  });
});
