/**
 * Coalesces concurrent work per key: while a key is in flight, later callers
 * share its promise instead of starting the work again. `runMany` does the
 * same for a batch: keys already in flight are joined, the rest are handed to
 * one call of the work function.
 */
export class SingleFlight<T> {
  readonly #inFlight = new Map<string, Promise<T>>();

  /** Whether `key` joined work already in flight is reported through `onJoin`. */
  run(key: string, work: () => Promise<T>, onJoin?: () => void): Promise<T> {
    const running = this.#inFlight.get(key);
    if (running) {
      onJoin?.();
      return running;
    }
    const started = this.#track(key, work());
    return started;
  }

  /**
   * Answers for every key in `keys` (distinct), from work in flight or from
   * one call of `work` with the keys nobody is working on.
   */
  async runMany(keys: readonly string[], work: (keys: string[]) => Promise<Map<string, T>>, onJoin?: (count: number) => void): Promise<Map<string, T>> {
    const waits: [string, Promise<T>][] = [];
    const fresh: string[] = [];
    for (const key of keys) {
      const running = this.#inFlight.get(key);
      if (running) waits.push([key, running]);
      else fresh.push(key);
    }
    if (waits.length > 0) onJoin?.(waits.length);
    if (fresh.length > 0) {
      const batch = work(fresh);
      for (const key of fresh) waits.push([key, this.#track(key, batch.then((answers) => answers.get(key) as T))]);
    }
    const answers = new Map<string, T>();
    for (const [key, promise] of waits) answers.set(key, await promise);
    return answers;
  }

  get size(): number {
    return this.#inFlight.size;
  }

  #track(key: string, promise: Promise<T>): Promise<T> {
    const tracked = promise.finally(() => {
      if (this.#inFlight.get(key) === tracked) this.#inFlight.delete(key);
    });
    this.#inFlight.set(key, tracked);
    // Callers that stopped waiting (one key of a batch failed first) must not leave an unhandled rejection.
    tracked.catch(() => {});
    return tracked;
  }
}
