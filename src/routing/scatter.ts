/**
 * Scatter a key list into one batch per owning node. Pure: the owner
 * function is injected. Each batch remembers where its keys sit in the
 * caller's list, so answers go straight to their places. A key listed twice
 * is fetched once; its later places are reported as repeats to copy.
 */
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

/**
 * @param positions the places of `keys` in the caller's list, when `keys` is
 *   a subset of it (a retry); by default `keys` is the whole list.
 */
export function scatter<N>(keys: readonly string[], ownerOf: (key: string) => N, positions?: readonly number[]): Scattered<N> {
  const batches = new Map<N, Batch<N>>();
  // One hash operation per key: a key is new when adding it grows the set.
  // Repeats are rare, so the place of a repeat's first copy is found by a scan.
  const seen = new Set<string>();
  const repeats: { at: number; sameAs: number }[] = [];
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    const at = positions === undefined ? i : positions[i]!;
    const known = seen.size;
    if (seen.add(key).size === known) {
      const first = keys.indexOf(key);
      repeats.push({ at, sameAs: positions === undefined ? first : positions[first]! });
      continue;
    }
    const node = ownerOf(key);
    let batch = batches.get(node);
    if (batch === undefined) {
      batch = { node, keys: [], positions: [] };
      batches.set(node, batch);
    }
    batch.keys.push(key);
    batch.positions.push(at);
  }
  return { batches: [...batches.values()], repeats };
}
