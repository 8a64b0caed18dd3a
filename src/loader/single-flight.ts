/**
 * Coalesces concurrent calls for one key into one call of the work function:
 * later callers share the first caller's promise until it settles.
 */
export class SingleFlight<T> {
  readonly #inFlight = new Map<string, Promise<T>>();

  run(key: string, work: () => Promise<T>): Promise<T> {
    const running = this.#inFlight.get(key);
    if (running) return running;
    const started = (async () => {
      try {
        return await work();
      } finally {
        this.#inFlight.delete(key);
      }
    })();
    this.#inFlight.set(key, started);
    return started;
  }

  get size(): number {
    return this.#inFlight.size;
  }
}
