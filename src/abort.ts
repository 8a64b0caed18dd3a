/**
 * Stopping a caller's wait, as `fetch` does: when the caller's signal aborts,
 * its promise rejects at once with the signal's reason. The work itself is
 * not cancelled here (others may share it); `detach` hears of the abort.
 */

/**
 * Starts `work` and waits for it, unless `signal` aborts first. An already
 * aborted signal rejects without starting anything.
 */
export function untilAborted<T>(signal: AbortSignal | undefined, work: () => Promise<T>, detach?: () => void): Promise<T> {
  if (signal === undefined) return work();
  if (signal.aborted) {
    detach?.();
    return Promise.reject(signal.reason);
  }
  const running = work();
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      detach?.();
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    running.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
