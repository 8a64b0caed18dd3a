/**
 * Options of `getOrLoad` beyond a write's: refresh ahead of expiry. Checked
 * at the edge, turned into what the read-through layer takes.
 */
import { describe } from '../config/node-spec.js';
import { InvalidArgumentError } from '../errors.js';
import type { WriteOptions } from './call-options.js';

/** Largest `beta`: past it every read of a stamped entry would refresh it. */
const MAX_BETA = 100;

export interface RefreshAheadOptions {
  /** XFetch's beta: above 1 refreshes earlier, below 1 later. A number above 0, at most 100. @default 1 */
  beta?: number;
}

/** Options of `getOrLoad` (and of functions made by `wrap`). */
export interface LoadOptions extends WriteOptions {
  /**
   * Refresh a hot entry in the background before it expires, so its readers
   * never wait for the loader: XFetch (probabilistic early expiration) on
   * the entry's expiry and load time, stored next to the value for entries
   * written this way. Needs a TTL above 0.
   * @default false
   */
  refreshAhead?: boolean | RefreshAheadOptions;
}

/**
 * What the read-through layer takes for `options.refreshAhead`, or `undefined` when off.
 * @throws {InvalidArgumentError} for a value that is not a boolean or `{ beta }`, a bad beta, or refresh-ahead without a TTL.
 */
export function refreshAheadOf(options: LoadOptions | undefined, ttlSeconds: number): { beta: number } | undefined {
  const ahead = checkRefreshAhead(options?.refreshAhead);
  if (ahead !== undefined && ttlSeconds === 0) {
    throw new InvalidArgumentError('refreshAhead needs a ttl above 0: an entry that never expires has no expiry to refresh ahead of');
  }
  return ahead;
}

/** @throws {InvalidArgumentError} as refreshAheadOf, without the TTL check. */
export function checkRefreshAhead(value: LoadOptions['refreshAhead']): { beta: number } | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return { beta: 1 };
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidArgumentError(`refreshAhead must be a boolean or { beta }, got ${describe(value)}`);
  }
  const { beta = 1, ...rest } = value;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) throw new InvalidArgumentError(`refreshAhead takes only beta, got ${unknown.join(', ')}`);
  if (typeof beta !== 'number' || !Number.isFinite(beta) || beta <= 0 || beta > MAX_BETA) {
    throw new InvalidArgumentError(`refreshAhead.beta must be a number above 0 and at most ${MAX_BETA}, got ${describe(beta)}`);
  }
  return { beta };
}
