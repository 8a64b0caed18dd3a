/**
 * Batches the gets made to one node while one of its gets is already out. A
 * get made when none is out is sent at once on its own, so a lone request
 * waits for nothing and schedules nothing; the gets that follow it before it
 * is answered are gathered per tick and sent at the end of their tick as one
 * batch request (memcached GETKQ...NOOP, Redis MGET). A burst of a thousand
 * concurrent gets then costs the client and the server two requests per
 * node instead of a thousand, and each caller still gets its own answer. A
 * key asked for twice in one batch is fetched once.
 *
 * It sits in front of the node's call (deadline, breaker, stats), so a batch
 * is one request there too: one deadline, one outcome, one piece of evidence
 * for or against the node.
 */
export class GetBatcher<V> {
  readonly #getOne: (key: string, settled: () => void) => Promise<V>;
  readonly #getMany: (keys: readonly string[]) => Promise<readonly V[]>;
  /** A get sent on its own is not answered yet. */
  #loneOut = false;
  /** This tick's gets, sent when the tick ends. */
  #batch: PendingBatch<V> | undefined;

  /**
   * @param getOne sends one get, and calls `settled` once when the caller's
   *   promise settles (the batcher's own promise chain would cost a reaction
   *   per request).
   */
  constructor(getOne: (key: string, settled: () => void) => Promise<V>, getMany: (keys: readonly string[]) => Promise<readonly V[]>) {
    this.#getOne = getOne;
    this.#getMany = getMany;
  }

  get(key: string): Promise<V> {
    if (!this.#loneOut) {
      this.#loneOut = true;
      return this.#getOne(key, this.#loneSettled);
    }
    if (this.#batch === undefined) {
      this.#batch = new PendingBatch<V>();
      process.nextTick(this.#endTick);
    }
    return this.#batch.add(key);
  }

  readonly #loneSettled = (): void => {
    this.#loneOut = false;
  };

  readonly #endTick = (): void => {
    const batch = this.#batch!;
    this.#batch = undefined;
    const reply = batch.keys.length === 1 ? this.#getOne(batch.keys[0]!, ignore).then((value) => [value]) : this.#getMany(batch.keys);
    reply.then(
      (values) => batch.resolve(values),
      (error: unknown) => batch.reject(error),
    );
  };
}

const ignore = (): void => {};

/**
 * Callers waiting on one batch, kept in arrays aligned with its keys (no
 * object per caller); a caller asking for a key already in the batch waits
 * on that key's answer.
 */
class PendingBatch<V> {
  readonly keys: string[] = [];
  readonly #indexOf = new Map<string, number>();
  readonly #resolvers: ((value: V) => void)[] = [];
  readonly #rejecters: ((error: unknown) => void)[] = [];
  #repeats: { index: number; resolve: (value: V) => void; reject: (error: unknown) => void }[] | undefined;

  add(key: string): Promise<V> {
    return new Promise<V>((resolve, reject) => {
      const index = this.#indexOf.get(key);
      if (index === undefined) {
        this.#indexOf.set(key, this.keys.length);
        this.keys.push(key);
        this.#resolvers.push(resolve);
        this.#rejecters.push(reject);
      } else {
        (this.#repeats ??= []).push({ index, resolve, reject });
      }
    });
  }

  resolve(values: readonly V[]): void {
    const resolvers = this.#resolvers;
    for (let i = 0; i < resolvers.length; i++) resolvers[i]!(values[i]!);
    if (this.#repeats !== undefined) for (const repeat of this.#repeats) repeat.resolve(values[repeat.index]!);
  }

  reject(error: unknown): void {
    for (const reject of this.#rejecters) reject(error);
    if (this.#repeats !== undefined) for (const repeat of this.#repeats) repeat.reject(error);
  }
}
