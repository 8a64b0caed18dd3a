/**
 * One deadline per operation, from the call to the reply. When it passes the
 * caller gets a `DeadlineError` at once; the operation itself carries on and
 * its late outcome is swallowed here, so it can neither reach another caller
 * nor surface as an unhandled rejection. The timer is cleared either way.
 */
import { DeadlineError } from '../errors.js';

export function withDeadline<T>(operation: Promise<T>, deadlineMs: number, node: string, name: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineError(node, name, deadlineMs)), deadlineMs);
  });
  operation.catch(() => {});
  return Promise.race([operation, expired]).finally(() => clearTimeout(timer));
}
