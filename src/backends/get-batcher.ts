/**
 * Batches the gets one tick makes to one node. The first get of a tick is
 * sent at once on its own, so a lone request waits for nothing; the gets that
 * follow it in the same tick are sent together on the next tick as one
 * batch request (memcached GETKQ...NOOP, Redis MGET). A burst of a thousand
 * concurrent gets then costs the client and the server two requests per
 * node instead of a thousand, and each caller still gets its own answer. A
 * key asked for twice in a tick is fetched once.
 */
type Value = Buffer | undefined;

interface Waiter {
  readonly resolve: (value: Value) => void;
  readonly reject: (error: unknown) => void;
}

export class GetBatcher {
  readonly #getOne: (key: string) => Promise<Value>;
  readonly #getMany: (keys: readonly string[]) => Promise<Value[]>;
  #gotThisTick = false;
  /** Gets after the first in this tick, by key; created by the second. */
  #later: Map<string, Waiter[]> | undefined;

  constructor(getOne: (key: string) => Promise<Value>, getMany: (keys: readonly string[]) => Promise<Value[]>) {
    this.#getOne = getOne;
    this.#getMany = getMany;
  }

  get(key: string): Promise<Value> {
    if (!this.#gotThisTick) {
      this.#gotThisTick = true;
      process.nextTick(this.#endTick);
      return this.#getOne(key);
    }
    const later = (this.#later ??= new Map());
    return new Promise((resolve, reject) => {
      const waiters = later.get(key);
      if (waiters === undefined) later.set(key, [{ resolve, reject }]);
      else waiters.push({ resolve, reject });
    });
  }

  readonly #endTick = (): void => {
    this.#gotThisTick = false;
    const later = this.#later;
    if (later === undefined) return;
    this.#later = undefined;
    const keys = [...later.keys()];
    this.#getMany(keys).then(
      (values) => keys.forEach((key, i) => later.get(key)!.forEach((waiter) => waiter.resolve(values[i]))),
      (error: unknown) => later.forEach((waiters) => waiters.forEach((waiter) => waiter.reject(error))),
    );
  };
}
