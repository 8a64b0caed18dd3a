/**
 * The one place that decides what an error means for the cache.
 *
 * `countsAgainstNode`: whether it is evidence that a node is unwell.
 * Counted: a missed deadline, no answer (refused, reset, closed), a reply that
 * could not be understood, or a server-side error status. Not counted: bad
 * input (key, value, argument), a request the node refused for its content
 * (value too large), a closed cache, and anything that is not ours (a
 * loader's error, a codec's). Both the ejection counter and the circuit
 * breaker's error filter call this.
 *
 * `outcomeOf`: how a failed request is recorded (stats, metrics, diagnostics).
 *
 * A refused login (`AuthError`) or TLS set-up (`TlsError`) counts, and is a
 * cache failure: reads miss, writes reject with it, the node backs off.
 *
 * `isCacheFailure`: whether the cache, not the caller, failed a request (a
 * node failed or refused it, missed its deadline, or its breaker is open).
 * Reads answer these as misses; everything else (bad input, a loader's or a
 * codec's error, a closed cache) reaches the caller.
 *
 * These rules read types and a NodeError's `reason`, never message text; the
 * backends map wire errors to reasons (redis-replies.ts, memcached.ts).
 */
import type { OperationOutcome } from '../diagnostics.js';
import { AuthError, BreakerOpenError, DeadlineError, NodeError, TlsError } from '../errors.js';

export function countsAgainstNode(error: unknown): boolean {
  // A refused login or TLS set-up counts like a dead node: the node is backed off and probed, not hammered.
  if (error instanceof DeadlineError || isConnectionSetupFailure(error)) return true;
  if (error instanceof NodeError) return error.reason !== 'rejected';
  return false;
}

export function isCacheFailure(error: unknown): boolean {
  return error instanceof DeadlineError || error instanceof NodeError || error instanceof BreakerOpenError || isConnectionSetupFailure(error);
}

/** A login refused or a TLS connection that could not be set up: the node is reachable but this client's configuration does not fit it. */
export function isConnectionSetupFailure(error: unknown): error is AuthError | TlsError {
  return error instanceof AuthError || error instanceof TlsError;
}

export function outcomeOf(error: unknown): OperationOutcome {
  if (error instanceof BreakerOpenError) return 'short-circuited';
  return error instanceof DeadlineError ? 'timeout' : 'error';
}
