/**
 * Scatter a key list into one batch per owning node, and gather the answers
 * back into the caller's order. Pure: the owner function is injected.
 * A key asked for twice is sent once and its answer copied to every slot.
 */
export interface Batch<N> {
  readonly node: N;
  /** Distinct keys for this node, in first-seen order. */
  readonly keys: string[];
  /** For each of `keys`, the caller's positions that asked for it. */
  readonly slots: number[][];
}

export function scatter<N>(keys: readonly string[], ownerOf: (key: string) => N): Batch<N>[] {
  const batches = new Map<N, Batch<N>>();
  const seen = new Map<string, number[]>();
  for (let position = 0; position < keys.length; position++) {
    const key = keys[position]!;
    const slots = seen.get(key);
    if (slots) {
      slots.push(position);
      continue;
    }
    const node = ownerOf(key);
    let batch = batches.get(node);
    if (!batch) {
      batch = { node, keys: [], slots: [] };
      batches.set(node, batch);
    }
    const keySlots = [position];
    batch.keys.push(key);
    batch.slots.push(keySlots);
    seen.set(key, keySlots);
  }
  return [...batches.values()];
}

/** Writes each batch answer into every caller position that asked for its key. */
export function gather<N, V>(batch: Batch<N>, answers: readonly V[], into: V[]): void {
  for (let i = 0; i < batch.keys.length; i++) {
    for (const position of batch.slots[i]!) into[position] = answers[i]!;
  }
}
