/**
 * Per-call options, checked at the edge: `{ signal, deadlineMs }` on every
 * call, plus `{ ttl }` on writes and loads. A bad option rejects the call
 * before anything is sent.
 */
import { describe } from '../config/node-spec.js';
import { MAX_TTL_SECONDS } from '../config/validate.js';
import { InvalidArgumentError } from '../errors.js';
import type { CallOptions } from '../store.js';

/** Longest per-call deadline, as for the configured ones. */
const MAX_DEADLINE_MS = 600_000;

export interface SetOptions {
  /** Seconds until the entry expires; 0 means never. @default the cache's `defaultTtlSeconds` */
  ttl?: number;
}

/** Options of writes and loads. */
export type WriteOptions = SetOptions & CallOptions;

/**
 * @throws {InvalidArgumentError} for options that are not an object, a `signal` that is not an AbortSignal, or a `deadlineMs` that is not a whole number of milliseconds from 1 to 600000.
 */
export function checkCallOptions(options: CallOptions | undefined): void {
  if (options === undefined || options === null) return;
  // set(key, value, 60) must not store the value forever with the 60 ignored.
  if (typeof options !== 'object') throw new InvalidArgumentError(`options must be an object such as { ttl: 60 } or { signal }, got ${describe(options)}`);
  const { signal, deadlineMs } = options;
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw new InvalidArgumentError(`signal must be an AbortSignal, got ${describe(signal)}`);
  if (deadlineMs !== undefined && (!Number.isInteger(deadlineMs) || deadlineMs < 1 || deadlineMs > MAX_DEADLINE_MS)) {
    throw new InvalidArgumentError(`deadlineMs must be a whole number of milliseconds from 1 to ${MAX_DEADLINE_MS}, got ${describe(deadlineMs)}`);
  }
}

/**
 * The TTL a write or load stores with.
 * @throws {InvalidArgumentError} as `checkCallOptions`, and for a `ttl` that is not a whole number of seconds from 0 to MAX_TTL_SECONDS.
 */
export function ttlOf(options: WriteOptions | undefined, defaultTtlSeconds: number): number {
  checkCallOptions(options);
  const ttl = options?.ttl ?? defaultTtlSeconds;
  if (!Number.isInteger(ttl) || ttl < 0 || ttl > MAX_TTL_SECONDS) {
    throw new InvalidArgumentError(`ttl must be a whole number of seconds from 0 to ${MAX_TTL_SECONDS}, got ${describe(ttl)}`);
  }
  return ttl;
}
