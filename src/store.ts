/**
 * The one contract between layers: something that stores values by key.
 * Each concern of the request path (the local tier, read-through,
 * routing) is a `Store` that wraps another, composed once in
 * `create-cache.ts`; a layer that is not configured is not in the chain.
 *
 * What every layer may assume: keys, TTLs and options were checked at the
 * edge (the facade); a read never rejects because the cache failed (a
 * failure is a miss, and `getMany` says which keys failed); writes reject
 * with a `ShardcacheError` when their node fails.
 */

/** Per-call options, taken by every layer. */
export interface CallOptions {
  /**
   * Stops the caller's wait when aborted: the call rejects at once with the
   * signal's reason, as `fetch` does. Work other callers share (a load, a
   * batched request) goes on; no node is blamed for an abort.
   */
  readonly signal?: AbortSignal;
  /** Deadline of each request this call sends, overriding the configured one (`timeouts.getMs`, `setMs`, `batchMs`). */
  readonly deadlineMs?: number;
}

/** The values of batch results, in order (`getValues` of a layer that has only `getMany`'s). */
export function valuesOf<T>(results: readonly KeyResult<T>[]): (T | undefined)[] {
  const values = new Array<T | undefined>(results.length);
  for (let i = 0; i < results.length; i++) values[i] = results[i]!.value;
  return values;
}

/** One key of a batch read. */
export interface KeyResult<T = unknown> {
  readonly key: string;
  /** `failed`: the node did not answer (down, hung, breaker open); the value is unknown. */
  readonly status: 'hit' | 'miss' | 'failed';
  readonly value: T | undefined;
  /** `host:port` of the node that answered, or last failed to. */
  readonly node: string;
}

export interface Store {
  /** The value, or `undefined` for a miss or a failure. */
  get(key: string, options?: CallOptions): Promise<unknown>;
  /** One result per key, in order; a repeated key is read once. */
  getMany(keys: readonly string[], options?: CallOptions): Promise<KeyResult[]>;
  /** The values `getMany` answers, alone (`mget`: no `KeyResult` per key where a layer can avoid it). */
  getValues(keys: readonly string[], options?: CallOptions): Promise<unknown[]>;
  set(key: string, value: unknown, ttlSeconds: number, options?: CallOptions): Promise<void>;
  /** Every entry or none is sent: values that cannot be stored reject the call first. */
  setMany(entries: readonly (readonly [string, unknown])[], ttlSeconds: number, options?: CallOptions): Promise<void>;
  /** True when the key existed. */
  del(key: string, options?: CallOptions): Promise<boolean>;
  delMany(keys: readonly string[], options?: CallOptions): Promise<void>;
}

/** A loader's second argument: aborted once no caller waits for its answer. */
export interface LoadContext {
  readonly signal: AbortSignal;
}

/** Reads the source of truth for one key; `undefined` means "no value" and is not cached. */
export type Loader<T> = (key: string, context: LoadContext) => T | Promise<T>;
/** Receives the keys that missed or failed; returns their values, aligned with them or as a Map. */
export type BatchLoader<T> = (
  keys: string[],
  context: LoadContext,
) => readonly (T | undefined)[] | Map<string, T | undefined> | Promise<readonly (T | undefined)[] | Map<string, T | undefined>>;

/** Options of a read-through load, checked at the edge. */
export interface LoadCallOptions extends CallOptions {
  /** Refresh the entry in the background before it expires (XFetch, with this `beta`; greater than 0). */
  readonly refreshAhead?: { readonly beta: number };
}

/** A store that can also fill itself from a loader (the read-through layer, and any layer above it). */
export interface LoadingStore extends Store {
  getOrLoad<T>(key: string, loader: Loader<T>, ttlSeconds: number, options?: LoadCallOptions): Promise<T>;
  mgetOrLoad<T>(keys: readonly string[], loader: BatchLoader<T>, ttlSeconds: number, options?: CallOptions): Promise<(T | undefined)[]>;
}
