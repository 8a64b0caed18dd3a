/**
 * Ring: key -> node, pure and synchronous.
 *
 * Algorithm: a weighted consistent-hash continuum (see ketama.ts). In `ketama`
 * mode the points and the key hash are MD5 (or twemproxy's fnv1a_64 for keys)
 * and placement matches libmemcached/twemproxy exactly; in `fast` mode the same
 * continuum is built with xxhash32, one point per hash.
 *
 * Consistency: points are computed once per member for the configuration the
 * ring was built from. `without()` drops a member's points and keeps everyone
 * else's, so only that member's keys move; `with()` adds a member's points and
 * keeps everyone else's, so keys move only onto it. (libmemcached and
 * twemproxy instead rescale every survivor's weight after an ejection, which
 * with unequal weights also moves keys between survivors.)
 */
import type { KeyHash, RingAlgorithm, RingCompat } from '../config/options.js';
import { Continuum, type ServerPoints } from './continuum.js';
import { fnv1a64KeyHash } from './fnv.js';
import { hashTagExtractor, type HashTagExtractor } from './hash-tag.js';
import { ketamaPointCount, ketamaPoints, md5KeyHash } from './ketama.js';
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
  /** xxhash32 of a string; required in `fast` mode (xxhash-wasm needs async init). */
  readonly xxhash32?: Hash32 | undefined;
}

interface Placed<M> {
  readonly member: M;
  readonly points: Uint32Array;
}

export class Ring<M extends RingMember> {
  readonly #config: RingConfig;
  readonly #placed: readonly Placed<M>[];
  readonly #continuum: Continuum;
  readonly #hashKey: Hash32;
  readonly #hashTag: HashTagExtractor;
  /** The member of a one-member ring, which owns every key. */
  readonly #only: M | undefined;
  /** Server indexes for `copiesOf`: the ring is synchronous, so one buffer serves every call. */
  readonly #scratch: Int32Array;

  private constructor(config: RingConfig, placed: readonly Placed<M>[]) {
    this.#config = config;
    this.#placed = placed;
    this.#only = placed.length === 1 ? placed[0]!.member : undefined;
    this.#scratch = new Int32Array(placed.length);
    this.#continuum = new Continuum(placed.map((p, server): ServerPoints => ({ server, points: p.points })));
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
    if (this.#only !== undefined) return this.#only;
    const server = this.#continuum.lookup(this.hashKey(key));
    return server === -1 ? undefined : this.#placed[server]!.member;
  }

  /**
   * The first `n` distinct members clockwise from `key`'s point, the owner
   * first (Cassandra's SimpleStrategy rule), written to `out` without
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
    const found = this.#continuum.distinct(this.hashKey(key), Math.min(n, servers.length), servers);
    for (let i = 0; i < found; i++) out[i] = this.#placed[servers[i]!]!.member;
    return found;
  }

  /** The 32-bit position of `key` on the continuum, after hash-tag extraction. */
  hashKey(key: string): number {
    return this.#hashKey(this.#hashTag(key));
  }

  /** The same ring without these members; every other member keeps its points. */
  without(addresses: ReadonlySet<string>): Ring<M> {
    return new Ring(this.#config, this.#placed.filter((p) => !addresses.has(p.member.address)));
  }

  /**
   * The same ring plus `member`, which gets the points a fresh build of the
   * enlarged pool would give it; every other member keeps its points.
   */
  with(member: M): Ring<M> {
    const count = this.#placed.length + 1;
    const totalWeight = this.#placed.reduce((sum, p) => sum + p.member.weight, member.weight);
    return new Ring(this.#config, [...this.#placed, { member, points: pointsFor(member, totalWeight, count, this.#config) }]);
  }
}

function pointsFor(member: RingMember, totalWeight: number, serverCount: number, config: RingConfig): Uint32Array {
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

function keyHasher(config: RingConfig): Hash32 {
  if (config.algorithm === 'fast') return requireXxhash(config);
  return config.keyHash === 'md5' ? md5KeyHash : fnv1a64KeyHash;
}

function requireXxhash(config: RingConfig): Hash32 {
  if (!config.xxhash32) throw new TypeError('fast ring needs an xxhash32 function (createXxhash32())');
  return config.xxhash32;
}
