/**
 * Key distribution across ring sizes: for each placement scheme and pool
 * size, how evenly keys spread (per node, relative to the node's weight
 * share), how many move when one node leaves or joins (against the ideal:
 * exactly the leaving node's share, or the joining node's), and how fast a
 * lookup is. Pure computation over a generated key set; no I/O.
 */
import type { PlacementScheme, PoolNode } from './placements.js';

export interface DistributionOptions {
  readonly sizes: readonly number[];
  readonly keys: number;
  /** `equal`, or weights cycled over the pool (e.g. [1, 2, 3]). */
  readonly weights: 'equal' | readonly number[];
  /** Called before each (scheme, size) step, for progress reporting. */
  readonly onStep?: (step: number, steps: number, scheme: string, size: number) => void;
}

export interface DistributionRow {
  readonly scheme: string;
  readonly nodes: number;
  /** Coefficient of variation of per-node load, each load divided by the node's expected share. */
  readonly cv: number;
  /** The CV a perfectly balanced scheme still shows with this many keys per node (sampling noise, about 1/sqrt(keys per node)). */
  readonly samplingNoiseCv: number;
  readonly maxOverMean: number;
  readonly minOverMean: number;
  /**
   * max/mean of each node's exact share of the hash space over its weight's
   * share: the balance without sampling noise (the sampled max/mean of a
   * perfect scheme is above 1 by chance). Undefined where the scheme cannot tell.
   */
  readonly exactMaxOverMean: number | undefined;
  /** Share of keys that changed node when one node was removed, and the ideal share. */
  readonly movedOnRemove: number | undefined;
  readonly idealOnRemove: number | undefined;
  /** Keys that moved between nodes other than the removed one (0 for a consistent scheme). */
  readonly movedBetweenOthers: number | undefined;
  readonly movedOnAdd: number;
  readonly idealOnAdd: number;
  readonly nsPerLookup: number;
  readonly note?: string;
}

export function makeKeys(count: number): string[] {
  // Shapes of real cache keys; deterministic so runs compare.
  return Array.from({ length: count }, (_, i) => (i % 3 === 0 ? `user:${i}:profile` : i % 3 === 1 ? `session:${(i * 2654435761) >>> 0}` : `item-${i}`));
}

export function makePool(size: number, weights: DistributionOptions['weights']): PoolNode[] {
  return Array.from({ length: size }, (_, i) => ({
    address: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}:11211`,
    weight: weights === 'equal' ? 1 : weights[i % weights.length]!,
  }));
}

export function analyze(schemes: readonly PlacementScheme[], options: DistributionOptions): DistributionRow[] {
  const keys = makeKeys(options.keys);
  const rows: DistributionRow[] = [];
  const steps = schemes.length * options.sizes.length;
  let step = 0;
  for (const size of options.sizes) {
    const pool = makePool(size, options.weights);
    for (const scheme of schemes) {
      options.onStep?.(++step, steps, scheme.name, size);
      const reason = scheme.unsupported(pool);
      if (reason === undefined) rows.push(measure(scheme, pool, keys));
    }
  }
  return rows;
}

function measure(scheme: PlacementScheme, pool: readonly PoolNode[], keys: readonly string[]): DistributionRow {
  const placement = scheme.build(pool);
  // The first pass also warms the lookup up; the timed pass is the second.
  const owners = keys.map(placement.lookup);
  const started = process.hrtime.bigint();
  for (const key of keys) placement.lookup(key);
  const nsPerLookup = Number(process.hrtime.bigint() - started) / keys.length;

  const totalWeight = pool.reduce((sum, node) => sum + node.weight, 0);
  const counts = new Map(pool.map((node) => [node.address, 0]));
  for (const owner of owners) counts.set(owner, counts.get(owner)! + 1);
  const loads = pool.map((node) => counts.get(node.address)! / ((keys.length * node.weight) / totalWeight));
  const mean = loads.reduce((a, b) => a + b, 0) / loads.length;
  const cv = Math.sqrt(loads.reduce((sum, load) => sum + (load - mean) ** 2, 0) / loads.length) / mean;

  const removed = scheme.removable(pool);
  const smaller = pool.length > 1 ? placement.without(removed) : undefined;
  let movedOnRemove: number | undefined;
  let movedBetweenOthers: number | undefined;
  if (smaller) {
    let moved = 0;
    let between = 0;
    keys.forEach((key, i) => {
      if (smaller.lookup(key) === owners[i]) return;
      moved++;
      if (owners[i] !== removed) between++;
    });
    movedOnRemove = moved / keys.length;
    movedBetweenOthers = between;
  }
  const removedWeight = pool.find((node) => node.address === removed)!.weight;

  const joining: PoolNode = { address: `10.255.255.254:11211`, weight: Math.round(totalWeight / pool.length) };
  const larger = placement.with(joining);
  const movedOnAdd = keys.filter((key, i) => larger.lookup(key) !== owners[i]).length / keys.length;

  return {
    scheme: scheme.name,
    nodes: pool.length,
    exactMaxOverMean: exactBalance(placement, pool, totalWeight),
    cv,
    samplingNoiseCv: Math.sqrt(pool.length / keys.length),
    maxOverMean: loads.reduce((max, load) => Math.max(max, load), -Infinity) / mean,
    minOverMean: loads.reduce((min, load) => Math.min(min, load), Infinity) / mean,
    movedOnRemove,
    idealOnRemove: smaller ? removedWeight / totalWeight : undefined,
    movedBetweenOthers,
    movedOnAdd,
    idealOnAdd: joining.weight / (totalWeight + joining.weight),
    nsPerLookup,
  };
}

function exactBalance(placement: ReturnType<PlacementScheme['build']>, pool: readonly PoolNode[], totalWeight: number): number | undefined {
  const shares = placement.shares?.();
  if (shares === undefined) return undefined;
  const loads = pool.map((node) => shares.get(node.address)! / (node.weight / totalWeight));
  return Math.max(...loads) / (loads.reduce((sum, load) => sum + load, 0) / loads.length);
}
