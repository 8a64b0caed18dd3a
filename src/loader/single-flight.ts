/**
 * Coalesces concurrent work per key: while a key is in flight, later callers
 * share its promise instead of starting the work again. `runMany` does the
 * same for a batch: keys already in flight are joined, the rest are handed to
 * one call of the work function.
 *
 * Cancellation, as lru-cache's fetch does it: each caller may bring a
 * signal. An aborted caller stops waiting at once (its promise rejects with
 * the signal's reason) and detaches; the work goes on for the others. The
 * work's own signal aborts only when every caller waiting for it has
 * detached; a caller without a signal never detaches.
 */

import { untilAborted } from '../abort.js';

/** One call of the work function, and how many callers still wait for it. */
class Work {
  readonly controller = new AbortController();
  waiters = 0;
  /** Called once it is abandoned, so that later callers start afresh instead of joining aborted work. */
  readonly #abandoned: (work: Work) => void;

  constructor(abandoned: (work: Work) => void) {
    this.#abandoned = abandoned;
  }

  detach(): void {
    if (--this.waiters > 0) return;
    this.#abandoned(this);
    this.controller.abort(new DOMException('every caller waiting for this load stopped waiting', 'AbortError'));
  }
}

interface Flight<T> {
  readonly promise: Promise<T>;
  readonly work: Work;
}

export class SingleFlight<T> {
  readonly #inFlight = new Map<string, Flight<T>>();

  /**
   * Runs `work` for `key` unless it is in flight, in which case the caller
   * joins it (and `onJoin` is called).
   */
  run(key: string, work: (signal: AbortSignal) => Promise<T>, onJoin?: () => void, signal?: AbortSignal): Promise<T> {
    let flight = this.#inFlight.get(key);
    if (flight !== undefined) {
      onJoin?.();
    } else {
      const started = new Work(this.#forget);
      flight = this.#track(key, work(started.controller.signal), started);
    }
    return waitFor(flight.promise, [flight.work], signal);
  }

  /**
   * Answers for every key in `keys` (distinct), from work in flight or from
   * one call of `work` with the keys nobody is working on.
   */
  runMany(keys: readonly string[], work: (keys: string[], signal: AbortSignal) => Promise<Map<string, T>>, onJoin?: (count: number) => void, signal?: AbortSignal): Promise<Map<string, T>> {
    const waits: [string, Promise<T>][] = [];
    const works = new Set<Work>();
    const fresh: string[] = [];
    for (const key of keys) {
      const running = this.#inFlight.get(key);
      if (running === undefined) {
        fresh.push(key);
        continue;
      }
      waits.push([key, running.promise]);
      works.add(running.work);
    }
    if (waits.length > 0) onJoin?.(waits.length);
    if (fresh.length > 0) {
      const started = new Work(this.#forget);
      const batch = work(fresh, started.controller.signal);
      for (const key of fresh) waits.push([key, this.#track(key, batch.then((answers) => answers.get(key) as T), started).promise]);
      works.add(started);
    }
    const all = Promise.all(waits.map(([, promise]) => promise)).then((values) => new Map(waits.map(([key], i) => [key, values[i]!])));
    return waitFor(all, [...works], signal);
  }

  /** Drops the keys of abandoned work still in flight. */
  readonly #forget = (work: Work): void => {
    for (const [key, flight] of this.#inFlight) if (flight.work === work) this.#inFlight.delete(key);
  };

  get size(): number {
    return this.#inFlight.size;
  }

  #track(key: string, promise: Promise<T>, work: Work): Flight<T> {
    const flight: Flight<T> = {
      promise: promise.finally(() => {
        if (this.#inFlight.get(key) === flight) this.#inFlight.delete(key);
      }),
      work,
    };
    this.#inFlight.set(key, flight);
    // Callers that stopped waiting (aborted, or one key of a batch failed first) must not leave an unhandled rejection.
    flight.promise.catch(() => {});
    return flight;
  }
}

/** `promise`, for a caller who waits on `works` and may stop waiting when `signal` aborts. */
function waitFor<R>(promise: Promise<R>, works: readonly Work[], signal: AbortSignal | undefined): Promise<R> {
  for (const work of works) work.waiters++;
  return untilAborted(signal, () => promise, () => {
    for (const work of works) work.detach();
  });
}
