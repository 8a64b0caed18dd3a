/**
 * One contender in the I/O benchmarks: shardcache itself or a peer. Every
 * contender answers with the stored value as a string (the 100-byte ASCII
 * values seeded through shardcache, whose codec stores strings as their
 * plain UTF-8 bytes), or undefined for a miss, so all of them do the same
 * useful work and can be checked against the same expected values.
 */
export interface Peer {
  readonly name: string;
  get(key: string): Promise<string | undefined>;
  /** Values aligned with `keys`; only contenders of the mget benchmark have it. */
  mget?(keys: readonly string[]): Promise<(string | undefined)[]>;
  /** Anything that happened behind the numbers (failures, ejections) since `baseline()`, for the report. */
  notes?(): string | undefined;
  /** Called once warm-up and checks are done, just before the timed repeats. */
  baseline?(): void;
  teardown(): Promise<void>;
}

/** Node address -> a client, picked with shardcache's own ring (the default ketama configuration). */
export interface NodeClient<C> {
  readonly address: string;
  readonly host: string;
  readonly port: number;
  readonly weight: number;
  readonly client: C;
}

export function hostPort(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(':');
  return { host: address.slice(0, colon), port: Number(address.slice(colon + 1)) };
}

/**
 * Per-node batches for a hand-written mget: `positions[i]` lists where each
 * of `keys[i]` goes in the caller's array. Keys are expected distinct.
 */
export interface NodeBatch<C> {
  readonly client: C;
  readonly keys: string[];
  readonly positions: number[];
}

export function scatterByNode<C>(keys: readonly string[], ownerOf: (key: string) => NodeClient<C>): NodeBatch<C>[] {
  const batches = new Map<NodeClient<C>, NodeBatch<C>>();
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    const node = ownerOf(key);
    let batch = batches.get(node);
    if (batch === undefined) {
      batch = { client: node.client, keys: [], positions: [] };
      batches.set(node, batch);
    }
    batch.keys.push(key);
    batch.positions.push(i);
  }
  return [...batches.values()];
}
