/**
 * Scatter a key list into one batch per owning node. Pure: the owner
 * function is injected. A key listed twice goes into its batch once; callers
 * reassemble answers by key, so every position that asked gets the answer.
 */
export interface Batch<N> {
  readonly node: N;
  /** Distinct keys for this node, in first-seen order. */
  readonly keys: string[];
}

export function scatter<N>(keys: readonly string[], ownerOf: (key: string) => N): Batch<N>[] {
  const batches = new Map<N, Batch<N>>();
  const seen = new Set<string>();
  for (const key of keys) {
    if (seen.has(key)) continue;
    seen.add(key);
    const node = ownerOf(key);
    let batch = batches.get(node);
    if (!batch) {
      batch = { node, keys: [] };
      batches.set(node, batch);
    }
    batch.keys.push(key);
  }
  return [...batches.values()];
}
