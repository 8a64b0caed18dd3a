/**
 * `cache.wrap(fn, { key, ttl })`: a memoized `fn`. Each call builds its key
 * from the arguments and goes through `getOrLoad`, so concurrent calls with
 * one key share one call of `fn` (single-flight), `fn`'s errors reach every
 * caller of that call and are never cached, an `undefined` answer is not
 * cached, and a cache failure only means `fn` is called.
 */
import { describe } from '../config/node-spec.js';
import { InvalidArgumentError } from '../errors.js';
import { checkCallOptions, ttlOf } from './call-options.js';
import { checkRefreshAhead, type LoadOptions } from './load-options.js';

export interface WrapOptions<A extends unknown[]> {
  /** The cache key for a call's arguments, e.g. `(id) => \`user:${id}\``. */
  key: (...args: A) => string;
  /** Seconds until an answer expires; 0 means never. @default the cache's `defaultTtlSeconds` */
  ttl?: number;
  /** As getOrLoad's: refresh hot answers in the background before they expire. @default false */
  refreshAhead?: LoadOptions['refreshAhead'];
  /** Deadline of each cache request, overriding the configured one. */
  deadlineMs?: number;
}

const WRAP_OPTIONS = new Set(['key', 'ttl', 'refreshAhead', 'deadlineMs']);

/**
 * @throws {InvalidArgumentError} when `fn` or `options.key` is not a function, or an option is unknown or malformed; checked once, here.
 */
export function memoize<A extends unknown[], T>(
  getOrLoad: (key: string, loader: () => T | Promise<T>, options: LoadOptions) => Promise<T>,
  fn: (...args: A) => T | Promise<T>,
  options: WrapOptions<A>,
): (...args: A) => Promise<T> {
  if (typeof fn !== 'function') throw new InvalidArgumentError(`wrap needs a function to memoize, got ${describe(fn)}`);
  if (options === null || typeof options !== 'object') throw new InvalidArgumentError(`wrap needs options { key, ttl }, got ${describe(options)}`);
  const unknown = Object.keys(options).filter((name) => !WRAP_OPTIONS.has(name));
  if (unknown.length > 0) throw new InvalidArgumentError(`wrap: unknown option ${unknown.join(', ')} (it takes key, ttl, refreshAhead, deadlineMs)`);
  const { key, ttl, refreshAhead, deadlineMs } = options;
  if (typeof key !== 'function') throw new InvalidArgumentError(`wrap needs key: a function from the arguments to the cache key, got ${describe(key)}`);
  const loadOptions: LoadOptions = { ...(ttl === undefined ? {} : { ttl }), ...(refreshAhead === undefined ? {} : { refreshAhead }), ...(deadlineMs === undefined ? {} : { deadlineMs }) };
  checkCallOptions(loadOptions);
  if (ttl !== undefined) ttlOf(loadOptions, 0);
  checkRefreshAhead(refreshAhead);
  return async (...args: A) => getOrLoad(key(...args), () => fn(...args), loadOptions);
}
