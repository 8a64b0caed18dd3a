/**
 * The one place that decides whether an error counts against a node.
 * Counted: a missed deadline, no answer (refused, reset, closed), a reply that
 * could not be understood, or a server-side error status. Not counted: bad
 * input (key, value, argument), a request the node refused for its content
 * (value too large), a closed cache, and anything that is not ours (a
 * loader's error, a codec's). Both the ejection counter and the circuit
 * breaker's error filter call this; nothing decides by message text.
 */
import { DeadlineError, NodeError } from '../errors.js';

export function countsAgainstNode(error: unknown): boolean {
  if (error instanceof DeadlineError) return true;
  if (error instanceof NodeError) return error.reason !== 'rejected';
  return false;
}
