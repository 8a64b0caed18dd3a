/**
 * One deadline per operation, from the call to the reply. When it passes the
 * caller gets a `DeadlineError`; the operation itself carries on and its late
 * outcome is swallowed here, so it can neither reach another caller nor
 * surface as an unhandled rejection.
 *
 * Timers: a timer per request costs about as much CPU as the rest of the
 * request path. Requests with the same deadline expire in the order they
 * started, so each distinct deadline keeps a FIFO queue and one timer for its
 * oldest pending entry; answered entries are dropped lazily when that timer
 * runs, or all at once when none is left unanswered. So one call in flight
 * at a time keeps no entry alive past its call: an entry that outlives a
 * young-generation collection costs a copy, and a promotion if it survives
 * two. A steady stream of requests arms one timer per deadline period, not
 * one per request. While nothing is pending the timer is unref'd, so an idle
 * cache never holds the process open.
 *
 * When the process itself stalls (GC, a long synchronous task), timers run
 * before pending socket reads in the next loop turn, and every deadline in
 * flight would expire with its reply already waiting. So expired deadlines
 * give pending I/O one more turn (`setImmediate` runs after the poll phase)
 * before they fail their calls: a node is not blamed for our own pause.
 */
import { DeadlineError } from '../errors.js';

/** A started deadline. */
export interface Deadline {
  /** Call when the operation ends; false if the deadline had already expired (the outcome is then late). */
  settle(): boolean;
}

class Pending implements Deadline {
  settled = false;
  constructor(
    readonly queue: DeadlineQueue,
    readonly expiresAt: number,
    /** Dropped once settled: the entry waits in its queue until the timer runs, and must not hold the reply alive. */
    public expire: (() => void) | undefined,
  ) {}

  settle(): boolean {
    return this.queue.settle(this);
  }
}

class DeadlineQueue {
  readonly #durationMs: number;
  #entries: Pending[] = [];
  #head = 0;
  #timer: NodeJS.Timeout | undefined;
  #unsettled = 0;

  constructor(durationMs: number) {
    this.#durationMs = durationMs;
  }

  add(expire: () => void): Pending {
    const entry = new Pending(this, performance.now() + this.#durationMs, expire);
    this.#entries.push(entry);
    if (this.#unsettled++ === 0) this.#timer?.ref();
    this.#timer ??= setTimeout(this.#onTimer, this.#durationMs);
    return entry;
  }

  /** Marks `entry` answered or expired; false if it already was. */
  settle(entry: Pending): boolean {
    if (entry.settled) return false;
    entry.settled = true;
    entry.expire = undefined;
    if (--this.#unsettled === 0) {
      this.#timer?.unref();
      // Every entry is answered: drop them now rather than when the timer runs.
      this.#entries = [];
      this.#head = 0;
    }
    return true;
  }

  readonly #onTimer = (): void => {
    this.#timer = undefined;
    const now = performance.now();
    const expired: Pending[] = [];
    const entries = this.#entries;
    let head = this.#head;
    while (head < entries.length && (entries[head]!.settled || entries[head]!.expiresAt <= now)) {
      const entry = entries[head++]!;
      if (!entry.settled) expired.push(entry);
    }
    // Compact once the dropped prefix outweighs what is left.
    if (head > 1024 && head * 2 > entries.length) {
      this.#entries = entries.slice(head);
      head = 0;
    }
    this.#head = head;
    if (head < this.#entries.length) {
      this.#timer = setTimeout(this.#onTimer, Math.max(1, Math.ceil(this.#entries[head]!.expiresAt - now)));
      if (this.#unsettled === 0) this.#timer.unref();
    } else {
      this.#entries = [];
      this.#head = 0;
    }
    if (expired.length > 0) {
      setImmediate(() => {
        for (const entry of expired) {
          const expire = entry.expire;
          if (this.settle(entry)) expire!();
        }
      });
    }
  };
}

const queues = new Map<number, DeadlineQueue>();

/** Starts a deadline of `deadlineMs`; `onExpire` runs once if it passes before `settle()`. */
export function startDeadline(deadlineMs: number, onExpire: () => void): Deadline {
  let queue = queues.get(deadlineMs);
  if (queue === undefined) queues.set(deadlineMs, (queue = new DeadlineQueue(deadlineMs)));
  return queue.add(onExpire);
}

export function withDeadline<T>(operation: Promise<T>, deadlineMs: number, node: string, name: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const deadline = startDeadline(deadlineMs, () => reject(new DeadlineError(node, name, deadlineMs)));
    operation.then(
      (value) => {
        if (deadline.settle()) resolve(value);
      },
      (error: unknown) => {
        if (deadline.settle()) reject(error);
      },
    );
  });
}
