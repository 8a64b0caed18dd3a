/**
 * The `maglev` ring mode: balance to within a slot of each weight's share,
 * exact minimal movement on leave and join, determinism, copies. Property
 * tests over seeded random pools; shares are counted on the table itself
 * (each slot is an equal share of the hash space), and checked on keys too.
 */
import { describe, expect, it } from 'vitest';
import { MaglevTable, type MaglevServer } from '../../../src/ring/maglev.js';
import { Ring, type RingConfig, type RingMember } from '../../../src/ring/ring.js';
import { loadXxhash32 } from '../../../src/ring/xxhash.js';

/** A smaller prime than the default keeps the many builds below quick; one test uses the default. */
const SMALL_TABLE = 65_537;
let seed = 4242;
const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;

function servers(count: number, weightOf: (i: number) => number = () => 1): MaglevServer[] {
  return Array.from({ length: count }, (_, i) => ({ name: `10.1.${i >> 8}.${i & 255}:11211`, weight: weightOf(i) }));
}

/** The most loaded server's share over its weight's share, relative to the mean of that ratio (1 is perfect). */
function maxOverMean(table: MaglevTable, pool: readonly MaglevServer[]): number {
  const total = pool.reduce((sum, s) => sum + s.weight, 0);
  const loads = table.slotCounts().map((slots, i) => slots / ((table.size * pool[i]!.weight) / total));
  return Math.max(...loads) / (loads.reduce((a, b) => a + b, 0) / loads.length);
}

/** Owner (as a name) of every slot, probed through lookup at each slot's middle hash. */
function owners(table: MaglevTable, pool: readonly MaglevServer[]): string[] {
  return Array.from({ length: table.size }, (_, slot) => pool[table.lookup(Math.floor(((slot + 0.5) * 2 ** 32) / table.size))]!.name);
}

describe('maglev table', () => {
  it('balances 10 to 1000 equal or weighted servers within 1.02 max/mean (default table)', () => {
    for (const size of [10, 100, 1000]) {
      for (const weightOf of [() => 1, (i: number) => 1 + (i % 3)]) {
        const pool = servers(size, weightOf);
        expect(maxOverMean(MaglevTable.build(pool), pool), `${size} servers`).toBeLessThanOrEqual(1.02);
      }
    }
  });

  it('honours weights: every server holds its weight share of the slots, to within one slot', () => {
    for (let round = 0; round < 6; round++) {
      const pool = servers(2 + Math.floor(random() * 60), () => 1 + Math.floor(random() * 9));
      const table = MaglevTable.build(pool, SMALL_TABLE);
      const total = pool.reduce((sum, s) => sum + s.weight, 0);
      table.slotCounts().forEach((slots, i) => expect(Math.abs(slots - (SMALL_TABLE * pool[i]!.weight) / total)).toBeLessThan(1));
    }
  });

  it('removing servers moves only their slots, and the survivors stay balanced', () => {
    for (let round = 0; round < 6; round++) {
      const size = 3 + Math.floor(random() * 80);
      const pool = servers(size, () => 1 + Math.floor(random() * 4));
      const table = MaglevTable.build(pool, SMALL_TABLE);
      const removed = new Set([Math.floor(random() * size), Math.floor(random() * size)]);
      const survivors = pool.filter((_, i) => !removed.has(i));
      const after = table.without(removed);
      const [before, now] = [owners(table, pool), owners(after, survivors)];
      const leaving = new Set([...removed].map((i) => pool[i]!.name));
      const wrong = before.filter((name, slot) => (leaving.has(name) ? leaving.has(now[slot]!) : now[slot] !== name));
      expect(wrong).toEqual([]);
      expect(maxOverMean(after, survivors)).toBeLessThanOrEqual(1.02);
    }
  });

  it('adding a server moves slots only onto it, its share and no more (the ideal)', () => {
    for (let round = 0; round < 6; round++) {
      const size = 1 + Math.floor(random() * 80);
      const pool = servers(size + 1, () => 1 + Math.floor(random() * 4));
      const table = MaglevTable.build(pool.slice(0, size), SMALL_TABLE);
      const after = table.with(pool[size]!);
      const [before, now] = [owners(table, pool), owners(after, pool)];
      const newcomer = pool[size]!.name;
      expect(before.filter((name, slot) => now[slot] !== name && now[slot] !== newcomer)).toEqual([]);
      const moved = before.filter((name, slot) => now[slot] !== name).length;
      const ideal = (SMALL_TABLE * pool[size]!.weight) / pool.reduce((sum, s) => sum + s.weight, 0);
      expect(Math.abs(moved - ideal)).toBeLessThan(1);
      expect(maxOverMean(after, pool)).toBeLessThanOrEqual(1.02);
    }
  });

  it('stays balanced over a chain of joins and leaves', () => {
    let pool = servers(40, (i) => 1 + (i % 4));
    let table = MaglevTable.build(pool, SMALL_TABLE);
    for (let step = 0; step < 12; step++) {
      if (step % 3 === 2) {
        const leaving = Math.floor(random() * pool.length);
        table = table.without(new Set([leaving]));
        pool = pool.filter((_, i) => i !== leaving);
      } else {
        const joining = { name: `joined-${step}`, weight: 1 + Math.floor(random() * 4) };
        table = table.with(joining);
        pool = [...pool, joining];
      }
      expect(maxOverMean(table, pool), `step ${step}`).toBeLessThanOrEqual(1.02);
    }
  });

  it('is deterministic: the same set gives the same table in any order', () => {
    const pool = servers(30, (i) => 1 + (i % 5));
    const shuffled = [...pool].sort(() => random() - 0.5);
    const [a, b] = [MaglevTable.build(pool, SMALL_TABLE), MaglevTable.build(shuffled, SMALL_TABLE)];
    expect(owners(b, shuffled)).toEqual(owners(a, pool));
    expect(owners(MaglevTable.build(pool, SMALL_TABLE), pool)).toEqual(owners(a, pool));
  });

  it('lists n distinct servers for copies, the owner first, fewer only when the pool is smaller', () => {
    const pool = servers(7);
    const table = MaglevTable.build(pool, SMALL_TABLE);
    const out = new Int32Array(7);
    for (let i = 0; i < 500; i++) {
      const hash = Math.floor(random() * 2 ** 32);
      expect(table.distinct(hash, 3, out)).toBe(3);
      expect(out[0]).toBe(table.lookup(hash));
      expect(new Set(out.slice(0, 3)).size).toBe(3);
    }
    expect(table.distinct(0, 10, out)).toBe(7);
    expect(MaglevTable.build([], SMALL_TABLE).distinct(0, 2, out)).toBe(0);
  });

  it('answers -1 when empty, and an empty table grows back', () => {
    const empty = MaglevTable.build(servers(1), SMALL_TABLE).without(new Set([0]));
    expect(empty.lookup(123)).toBe(-1);
    const regrown = empty.with({ name: 'a', weight: 1 });
    expect(regrown.lookup(123)).toBe(0);
    expect(regrown.size).toBe(SMALL_TABLE);
  });
});

describe('ring in maglev mode', () => {
  const members = (count: number): RingMember[] => Array.from({ length: count }, (_, i) => ({ address: `10.2.0.${i}:6379`, host: `10.2.0.${i}`, port: 6379, weight: 1 + (i % 2) }));
  const config = async (): Promise<RingConfig> => ({ algorithm: 'maglev', compat: 'libmemcached', keyHash: 'md5', hashTag: '{}', pointsPerServer: 160, tableSize: SMALL_TABLE, xxhash32: await loadXxhash32() });
  const keys = Array.from({ length: 30_000 }, (_, i) => `user:${i}:${(i * 2654435761) >>> 0}`);

  it('spreads keys by weight (sampled keys, within sampling noise) and honours hash tags', async () => {
    const ring = Ring.build(members(6), await config());
    const counts = new Map<string, number>();
    for (const key of keys) counts.set(ring.lookup(key)!.address, (counts.get(ring.lookup(key)!.address) ?? 0) + 1);
    for (const member of ring.members) {
      const expected = (keys.length * member.weight) / 9;
      expect(Math.abs(counts.get(member.address)! - expected) / expected).toBeLessThan(0.06);
    }
    expect(ring.lookup('a:{7}:x')).toBe(ring.lookup('{7}'));
  });

  it('moves only the leaving member`s keys, and keys only onto a joining member', async () => {
    const pool = members(9);
    const ring = Ring.build(pool.slice(0, 8), await config());
    const leaving = pool[3]!.address;
    const smaller = ring.without(new Set([leaving]));
    const larger = ring.with(pool[8]!);
    for (const key of keys) {
      const before = ring.lookup(key)!.address;
      if (before !== leaving) expect(smaller.lookup(key)!.address).toBe(before);
      const grown = larger.lookup(key)!.address;
      if (grown !== pool[8]!.address) expect(grown).toBe(before);
    }
  });

  it('reports each member`s share of the hash space, in maglev and continuum modes alike', async () => {
    for (const algorithm of ['maglev', 'fast'] as const) {
      const shares = Ring.build(members(5), { ...(await config()), algorithm }).shares();
      expect(shares).toHaveLength(5);
      expect(shares.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
    }
    const maglev = Ring.build(members(5), await config()).shares();
    maglev.forEach((share, i) => expect(share).toBeCloseTo((1 + (i % 2)) / 7, 3));
  });

  it('needs an xxhash function', () => {
    expect(() => Ring.build(members(2), { algorithm: 'maglev', compat: 'libmemcached', keyHash: 'md5', hashTag: undefined, pointsPerServer: 160 })).toThrow(TypeError);
  });
});
