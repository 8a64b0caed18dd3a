/**
 * One deadline per operation, from the call to the reply. When it passes the
 * caller gets a `DeadlineError`; the operation itself carries on and its late
 * outcome is swallowed here, so it can neither reach another caller nor
 * surface as an unhandled rejection. The timer is cleared either way.
 *
 * When the process itself stalls (GC, a long synchronous task), timers run
 * before pending socket reads in the next loop turn, and every deadline in
 * flight would expire with its reply already waiting. So an expired deadline
 * gives pending I/O one more turn (`setImmediate` runs after the poll phase)
 * before it fails the call: a node is not blamed for our own pause.
 */
import { DeadlineError } from '../errors.js';

export function withDeadline<T>(operation: Promise<T>, deadlineMs: number, node: string, name: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    let immediate: NodeJS.Immediate | undefined;
    const timer = setTimeout(() => {
      immediate = setImmediate(() => {
        if (settled) return;
        settled = true;
        reject(new DeadlineError(node, name, deadlineMs));
      });
    }, deadlineMs);
    operation.then(
      (value) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        clearImmediate(immediate);
        resolve(value);
      },
      (error: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        clearImmediate(immediate);
        reject(error);
      },
    );
  });
}
