/**
 * Scatter a key list into one batch per owning node. The placement is
 * injected. Each batch remembers where its keys sit in the
 * caller's list, so answers go straight to their places. A key listed twice
 * is fetched once; its later places are reported as repeats to copy.
 */
import { RepeatFinder } from './repeat-finder.js';

export interface Batch<N> {
  readonly node: N;
  /** Distinct keys for this node, in first-seen order. */
  readonly keys: string[];
  /** `positions[i]`: the place of `keys[i]` in the caller's list. */
  readonly positions: number[];
}

export interface Scattered<N> {
  readonly batches: Batch<N>[];
  /** Places holding a key already listed earlier, with that earlier place. */
  readonly repeats: { readonly at: number; readonly sameAs: number }[];
}

/** Where scatter sends keys. */
export interface Placement<N> {
  /**
   * A hash of the key that `ownerOf` is given back, so placement hashes
   * each key once and repeats are found with it (repeat-finder.ts). Equal
   * keys must have equal hashes. Without it repeats are found with a Set.
   */
  readonly hashOf?: (key: string) => number;
  readonly ownerOf: (key: string, hash: number) => N;
}

const repeatFinder = new RepeatFinder();

/**
 * @param positions the places of `keys` in the caller's list, when `keys` is
 *   a subset of it (a retry); by default `keys` is the whole list.
 */
export function scatter<N>(keys: readonly string[], placement: Placement<N>, positions?: readonly number[]): Scattered<N> {
  const { hashOf, ownerOf } = placement;
  const batches = new Map<N, Batch<N>>();
  const repeats: { at: number; sameAs: number }[] = [];
  repeatFinder.begin(keys, hashOf !== undefined);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    const at = positions === undefined ? i : positions[i]!;
    const hash = hashOf === undefined ? 0 : hashOf(key);
    const first = repeatFinder.earlier(i, hash);
    if (first !== -1) {
      repeats.push({ at, sameAs: positions === undefined ? first : positions[first]! });
      continue;
    }
    const node = ownerOf(key, hash);
    let batch = batches.get(node);
    if (batch === undefined) {
      batch = { node, keys: [], positions: [] };
      batches.set(node, batch);
    }
    batch.keys.push(key);
    batch.positions.push(at);
  }
  repeatFinder.end();
  return { batches: [...batches.values()], repeats };
}
