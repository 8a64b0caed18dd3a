/**
 * Ring: key -> node, pure and synchronous.
 *
 * Algorithm: a weighted consistent-hash continuum (see ketama.ts). In `ketama`
 * mode the points and the key hash are MD5 (or twemproxy's fnv1a_64 for keys)
 * and placement matches libmemcached/twemproxy exactly; in `fast` mode the same
 * continuum is built with xxhash32, one point per hash. In `maglev` mode the
 * key's xxhash32 picks a slot of a Maglev lookup table (see maglev.ts):
 * balanced to within a slot of each member's weight share.
 *
 * Consistency: points are computed once per member for the configuration the
 * ring was built from. `without()` drops a member's points and keeps everyone
 * else's, so only that member's keys move; `with()` adds a member's points and
 * keeps everyone else's, so keys move only onto it. (libmemcached and
 * twemproxy instead rescale every survivor's weight after an ejection, which
 * with unequal weights also moves keys between survivors.) In `maglev` mode
 * `without()` and `with()` derive the new table from this one, moving only
 * the leaving member's slots or the slots the joining member takes.
 */
import type { KeyHash, RingAlgorithm, RingCompat } from '../config/options.js';
import { Continuum, type ServerPoints } from './continuum.js';
import { fnv1a64KeyHash } from './fnv.js';
import { hashTagExtractor, type HashTagExtractor } from './hash-tag.js';
import { ketamaPointCount, ketamaPoints, md5KeyHash } from './ketama.js';
import { DEFAULT_TABLE_SIZE, MaglevTable } from './maglev.js';
import { continuumName } from './server-name.js';

export interface RingMember {
  /** Unique identity, `host:port`. */
  readonly address: string;
  readonly host: string;
  readonly port: number;
  readonly weight: number;
  readonly name?: string | undefined;
}

export type Hash32 = (text: string) => number;

export interface RingConfig {
  readonly algorithm: RingAlgorithm;
  readonly compat: RingCompat;
  readonly keyHash: KeyHash;
  readonly hashTag: string | undefined;
  /** Points per server of average weight, `fast` mode. */
  readonly pointsPerServer: number;
  /** Slots of the `maglev` table (a prime; default 262,147). */
  readonly tableSize?: number | undefined;
  /** xxhash32 of a string; required in `fast` and `maglev` modes (xxhash-wasm needs async init). */
  readonly xxhash32?: Hash32 | undefined;
}

interface Placed<M> {
  readonly member: M;
  /** Continuum points; empty in `maglev` mode, where the table places members. */
  readonly points: Uint32Array;
}

/** Key hash -> index into the ring's members: the continuum or the Maglev table. */
interface Locator {
  lookup(hash: number): number;
  /** The first `n` distinct server indexes from `hash` onward (continuum: clockwise; Maglev: the table's next slots). */
  distinct(hash: number, n: number, out: Int32Array): number;
  shares(serverCount: number): number[];
}

export class Ring<M extends RingMember> {
  readonly #config: RingConfig;
  readonly #placed: readonly Placed<M>[];
  readonly #locator: Locator;
  /** The Maglev table, in `maglev` mode (`with`/`without` derive from it). */
  readonly #table: MaglevTable | undefined;
  readonly #hashKey: Hash32;
  readonly #hashTag: HashTagExtractor;
  /** The member of a one-member ring, which owns every key. */
  readonly #only: M | undefined;
  /** Server indexes for `copiesOf`: the ring is synchronous, so one buffer serves every call. */
  readonly #scratch: Int32Array;

  private constructor(config: RingConfig, placed: readonly Placed<M>[], table?: MaglevTable) {
    this.#config = config;
    this.#placed = placed;
    this.#only = placed.length === 1 ? placed[0]!.member : undefined;
    this.#scratch = new Int32Array(placed.length);
    this.#table = config.algorithm === 'maglev' ? (table ?? MaglevTable.build(placed.map((p) => maglevServer(p.member)), config.tableSize ?? DEFAULT_TABLE_SIZE)) : undefined;
    this.#locator = this.#table ?? new Continuum(placed.map((p, server): ServerPoints => ({ server, points: p.points })));
    this.#hashKey = keyHasher(config);
    this.#hashTag = hashTagExtractor(config.hashTag);
  }

  /** A ring over `members`, in the order given (the order breaks point ties). */
  static build<M extends RingMember>(members: readonly M[], config: RingConfig): Ring<M> {
    const totalWeight = members.reduce((sum, m) => sum + m.weight, 0);
    return new Ring(config, members.map((member) => ({ member, points: pointsFor(member, totalWeight, members.length, config) })));
  }

  get members(): readonly M[] {
    return this.#placed.map((p) => p.member);
  }

  /** The member owning `key`; undefined only for an empty ring. */
  lookup(key: string): M | undefined {
    // No hash for a lone member (libmemcached skips it too).
    return this.#only ?? this.lookupHash(this.hashKey(key));
  }

  /** False for a one-member ring, whose lookups need no hash. */
  get hashesKeys(): boolean {
    return this.#only === undefined;
  }

  /** The member owning the key whose `hashKey` is `hash`; undefined only for an empty ring. */
  lookupHash(hash: number): M | undefined {
    if (this.#only !== undefined) return this.#only;
    const server = this.#locator.lookup(hash);
    return server === -1 ? undefined : this.#placed[server]!.member;
  }

  /** Share of the hash space each member owns, aligned with `members` (for reports such as `shardcache dist`). */
  shares(): number[] {
    if (this.#only !== undefined) return [1];
    return this.#locator.shares(this.#placed.length);
  }

  /**
   * The first `n` distinct members clockwise from `key`'s point, the owner
   * first (Cassandra's SimpleStrategy rule; in `maglev` mode the owners of
   * the slots after the key's slot, in table order), written to `out` without
   * allocating; answers how many (fewer than `n` when the ring has fewer
   * members). Reuse `out` across calls on hot paths.
   */
  copiesOf(key: string, n: number, out: M[]): number {
    if (n === 1 || this.#only !== undefined) {
      const owner = this.lookup(key);
      if (owner === undefined) return 0;
      out[0] = owner;
      return 1;
    }
    const servers = this.#scratch;
    const found = this.#locator.distinct(this.hashKey(key), Math.min(n, servers.length), servers);
    for (let i = 0; i < found; i++) out[i] = this.#placed[servers[i]!]!.member;
    return found;
  }

  /** The 32-bit position of `key` on the continuum, after hash-tag extraction. */
  hashKey(key: string): number {
    return this.#hashKey(this.#hashTag(key));
  }

  /** The same ring without these members; every other member keeps its points. */
  without(addresses: ReadonlySet<string>): Ring<M> {
    const survivors = this.#placed.filter((p) => !addresses.has(p.member.address));
    if (this.#table === undefined) return new Ring(this.#config, survivors);
    const removed = new Set<number>();
    this.#placed.forEach((p, i) => addresses.has(p.member.address) && removed.add(i));
    return new Ring(this.#config, survivors, this.#table.without(removed));
  }

  /**
   * The same ring plus `member`, which gets the points a fresh build of the
   * enlarged pool would give it; every other member keeps its points.
   */
  with(member: M): Ring<M> {
    const count = this.#placed.length + 1;
    const totalWeight = this.#placed.reduce((sum, p) => sum + p.member.weight, member.weight);
    const placed = [...this.#placed, { member, points: pointsFor(member, totalWeight, count, this.#config) }];
    return new Ring(this.#config, placed, this.#table?.with(maglevServer(member)));
  }
}

const NO_POINTS = new Uint32Array(0);

function pointsFor(member: RingMember, totalWeight: number, serverCount: number, config: RingConfig): Uint32Array {
  if (config.algorithm === 'maglev') return NO_POINTS;
  if (config.algorithm === 'ketama') {
    const name = continuumName(member, config.compat);
    return ketamaPoints(name, ketamaPointCount(member.weight, totalWeight, serverCount));
  }
  const hash = requireXxhash(config);
  const name = member.name ?? member.address;
  const count = Math.max(1, Math.floor((config.pointsPerServer * member.weight * serverCount) / totalWeight));
  const points = new Uint32Array(count);
  for (let i = 0; i < count; i++) points[i] = hash(`${name}-${i}`);
  return points;
}

function maglevServer(member: RingMember): { name: string; weight: number } {
  return { name: member.name ?? member.address, weight: member.weight };
}

function keyHasher(config: RingConfig): Hash32 {
  if (config.algorithm !== 'ketama') return requireXxhash(config);
  return config.keyHash === 'md5' ? md5KeyHash : fnv1a64KeyHash;
}

function requireXxhash(config: RingConfig): Hash32 {
  if (!config.xxhash32) throw new TypeError(`${config.algorithm} ring needs an xxhash32 function (loadXxhash32())`);
  return config.xxhash32;
}
