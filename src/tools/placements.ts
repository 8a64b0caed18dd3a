/**
 * The placements the distribution tool compares, each behind one shape:
 * build for a pool, look a key up, and (where the scheme allows) remove a
 * node or add one. shardcache's own rings (ketama, fast, maglev), the `hashring` npm package (what
 * the `memcached` npm client uses; an optional dependency), and jump hash.
 */
import { Ring, type RingMember } from '../ring/ring.js';
import { loadXxhash, loadXxhash32 } from '../ring/xxhash.js';
import { jumpHash } from './jump.js';

export interface PoolNode {
  readonly address: string;
  readonly weight: number;
}

export interface Placement {
  readonly lookup: (key: string) => string;
  /** The same placement without `address`; undefined when the scheme cannot remove it. */
  readonly without: (address: string) => Placement | undefined;
  readonly with: (node: PoolNode) => Placement;
  /** Share of the hash space each address owns, exactly (no sampling); undefined when the scheme cannot tell. */
  readonly shares?: () => ReadonlyMap<string, number>;
}

export interface PlacementScheme {
  readonly name: string;
  readonly description: string;
  /** Why the scheme cannot take this pool, if it cannot. */
  unsupported(pool: readonly PoolNode[]): string | undefined;
  build(pool: readonly PoolNode[]): Placement;
  /** Which node this scheme can remove from a pool (jump: only the last). */
  removable(pool: readonly PoolNode[]): string;
}

function member(node: PoolNode): RingMember {
  const colon = node.address.lastIndexOf(':');
  return { address: node.address, host: node.address.slice(0, colon), port: Number(node.address.slice(colon + 1)), weight: node.weight };
}

function fromRing(ring: Ring<RingMember>): Placement {
  return {
    lookup: (key) => ring.lookup(key)!.address,
    without: (address) => fromRing(ring.without(new Set([address]))),
    with: (node) => fromRing(ring.with(member(node))),
    shares: () => {
      const shares = ring.shares();
      return new Map(ring.members.map((m, i) => [m.address, shares[i]!]));
    },
  };
}

export async function schemes(pointsPerServer: number): Promise<PlacementScheme[]> {
  const xxhash32 = await loadXxhash32();
  const { h64 } = await loadXxhash();
  const middle = (pool: readonly PoolNode[]) => pool[Math.floor(pool.length / 2)]!.address;
  const list: PlacementScheme[] = [
    {
      name: 'ketama',
      description: 'shardcache ketama (libmemcached/twemproxy compatible, MD5, 160 points)',
      unsupported: () => undefined,
      build: (pool) => fromRing(Ring.build(pool.map(member), { algorithm: 'ketama', compat: 'libmemcached', keyHash: 'md5', hashTag: undefined, pointsPerServer: 160 })),
      removable: middle,
    },
    {
      name: 'fast',
      description: `shardcache fast (xxhash32, ${pointsPerServer} points per server)`,
      unsupported: () => undefined,
      build: (pool) => fromRing(Ring.build(pool.map(member), { algorithm: 'fast', compat: 'libmemcached', keyHash: 'md5', hashTag: undefined, pointsPerServer, xxhash32 })),
      removable: middle,
    },
    {
      name: 'maglev',
      description: 'shardcache maglev (xxhash32, Maglev table of 262,147 slots)',
      unsupported: () => undefined,
      build: (pool) => fromRing(Ring.build(pool.map(member), { algorithm: 'maglev', compat: 'libmemcached', keyHash: 'md5', hashTag: undefined, pointsPerServer, xxhash32 })),
      removable: middle,
    },
    {
      name: 'jump',
      description: 'jump consistent hash over xxhash64 (reference: balanced, removes only the last node, no weights)',
      unsupported: (pool) => (pool.some((node) => node.weight !== pool[0]!.weight) ? 'jump hash has no weights' : undefined),
      build: (pool) => jumpPlacement(pool.map((node) => node.address), h64),
      removable: (pool) => pool.at(-1)!.address,
    },
  ];
  const hashring = await loadHashring();
  if (hashring) {
    list.splice(3, 0, {
      name: 'hashring',
      description: 'hashring npm package 3.x (used by the memcached npm client; MD5, 160 points)',
      unsupported: () => undefined,
      build: (pool) => hashringPlacement(hashring, pool),
      removable: middle,
    });
  }
  return list;
}

function jumpPlacement(addresses: readonly string[], h64: (text: string) => bigint): Placement {
  return {
    lookup: (key) => addresses[jumpHash(h64(key), addresses.length)]!,
    without: (address) => (address === addresses.at(-1) ? jumpPlacement(addresses.slice(0, -1), h64) : undefined),
    with: (node) => jumpPlacement([...addresses, node.address], h64),
  };
}

interface HashRingInstance {
  get(key: string): string;
}
type HashRingClass = new (servers: Record<string, number>) => HashRingInstance;

async function loadHashring(): Promise<HashRingClass | undefined> {
  try {
    const loaded = (await import('hashring')) as { default: HashRingClass };
    return loaded.default;
  } catch {
    return undefined;
  }
}

function hashringPlacement(HashRing: HashRingClass, pool: readonly PoolNode[]): Placement {
  const ring = new HashRing(Object.fromEntries(pool.map((node) => [node.address, node.weight])));
  return {
    lookup: (key) => ring.get(key),
    without: (address) => hashringPlacement(HashRing, pool.filter((node) => node.address !== address)),
    with: (node) => hashringPlacement(HashRing, [...pool, node]),
  };
}
